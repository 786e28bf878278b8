"""Small things every voucher module needs: money text, guarded counters."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def guarded_increment(model, *, rows: list[dict], limit: int | None) -> bool:
    """count += 1 on each row identified by the keys in ``rows`` (created at 1 if missing) unless it
    already reached ``limit``; True when every row moved. One statement, safe under concurrency on
    PostgreSQL and SQLite; rows are taken in the order given (give one global order: no deadlocks).
    A refusal may leave the other rows moved: run it in a savepoint that the refusal rolls back."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values([{**keys, "count": 1} for keys in rows])
    where = model.__table__.c.count < limit if limit is not None else None
    statement = statement.on_conflict_do_update(index_elements=list(rows[0]), set_={"count": model.__table__.c.count + 1},
                                                where=where).returning(model.__table__.c.id)
    # a row comes back for each one inserted or updated; none for those the guard refused
    return len(db.session.execute(statement).all()) == len(rows)


def count_of(model, *, keys: dict) -> int:
    query = sa.select(model.count)
    for name, value in keys.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0
