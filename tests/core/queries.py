"""Counting the SQL statements one request runs, for tests that a page costs the same few queries
whatever its length."""
from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db


def get_counting(client, url: str, headers: dict) -> tuple[int, object]:
    """GET ``url``; returns (statements run, JSON answer). The answer must be 200."""
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_json()
    return len(seen), response.get_json()
