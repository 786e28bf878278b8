"""Login codes under parallel guessing, against a real PostgreSQL database (each thread its own
client, connection and transaction)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.models import SmsCode
from backend.core.pii import blind_index
from backend.extensions import db
from tests.vouchers.test_concurrency import committed, hammer, pg_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres_only
PHONE = "13912345678"


def test_parallel_guesses_compare_at_most_the_limit(pg_app):  # noqa: F811
    def build():
        entry = accounts.request_login_code(phone=PHONE)
        entry.code_hash = accounts._code_digest(blind_index(PHONE), "135790")  # the code, known to the test
        return entry.id

    code_id = committed(pg_app, build)
    guesses = [("POST", "/api/auth/login/phone", {"phone": PHONE, "code": f"{i:06d}"}, {}) for i in range(100)]
    answers = hammer(pg_app, guesses)
    compared = [b for s, b in answers if b["code"] == "code_invalid"]
    limit = pg_app.config["SMS_CODE_MAX_ATTEMPTS"]
    assert len(compared) == limit, sorted({(s, b["code"]) for s, b in answers})
    assert sorted(b["details"]["attempts_left"] for b in compared) == list(range(limit))
    assert {(s, b["code"]) for s, b in answers if b["code"] != "code_invalid"} == {(429, "too_many_attempts")}
    right = pg_app.test_client().post("/api/auth/login/phone", json={"phone": PHONE, "code": "135790"})
    assert (right.status_code, right.get_json()["code"]) == (429, "too_many_attempts")
    with pg_app.app_context():
        assert db.session.scalar(sa.select(SmsCode.attempts).where(SmsCode.id == code_id)) == limit
