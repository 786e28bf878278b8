"""Small things every voucher module needs: local dates, money text, guarded counters."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.extensions import db

LOCAL = ZoneInfo("Asia/Shanghai")


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def end_of_local_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, LOCAL) - timedelta(microseconds=1)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a YYYY-MM month in Asia/Shanghai."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LOCAL)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL)
    return start, end


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def guarded_increment(model, *, keys: dict, limit: int | None) -> bool:
    """count += 1 on the row identified by ``keys`` (created at 1 if missing) unless it already
    reached ``limit``; one statement, safe under concurrency on PostgreSQL and SQLite."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**keys, count=1)
    where = model.__table__.c.count < limit if limit is not None else None
    statement = statement.on_conflict_do_update(index_elements=list(keys), set_={"count": model.__table__.c.count + 1},
                                                where=where).returning(model.__table__.c.id)
    # a row comes back when it was inserted or updated; none when the guard refused
    return db.session.execute(statement).first() is not None


def count_of(model, *, keys: dict) -> int:
    query = sa.select(model.count)
    for name, value in keys.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query) or 0
