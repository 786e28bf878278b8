"""Small things every voucher module needs: money text, guarded counters."""
from __future__ import annotations

from functools import cache

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
    keys = tuple(rows[0])
    statement = _increment(model, keys, len(rows), limit is not None, db.session.get_bind().dialect.name)
    params = {f"{key}_{i}": row[key] for i, row in enumerate(rows) for key in keys}
    if limit is not None:
        params["limit"] = limit
    # a row comes back for each one inserted or updated; none for those the guard refused
    return len(db.session.execute(statement, params).all()) == len(rows)


@cache
def _increment(model, keys: tuple[str, ...], n: int, limited: bool, dialect: str):
    """The statement of guarded_increment for ``n`` rows keyed by ``keys``, built once (building it
    each time cost more than running it): :<key>_<i> for each row's keys, :limit."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = insert(table).values([{**{key: sa.bindparam(f"{key}_{i}", type_=table.c[key].type) for key in keys},
                                       "count": 1} for i in range(n)])
    where = table.c.count < sa.bindparam("limit", type_=sa.Integer) if limited else None
    return statement.on_conflict_do_update(index_elements=list(keys), set_={"count": table.c.count + 1},
                                           where=where).returning(table.c.id)


def count_of(model, *, keys: dict) -> int:
    query = sa.select(model.count)
    for name, value in keys.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0
