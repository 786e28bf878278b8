"""The programme's local time: Shandong keeps Beijing time (Asia/Shanghai). Days, months and the
hours people read are local; timestamps are stored in UTC (core.db.UTCDateTime)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def end_of_local_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, LOCAL) - timedelta(microseconds=1)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a YYYY-MM month in local time."""
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LOCAL)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL)
    return start, end
