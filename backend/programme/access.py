"""Which regions an administrator may read and set targets for.

Until the region scoping (accounts/scope.py) is on main, every administrator is a province
administrator; ``admin_region`` is the one place that changes when it lands."""
from __future__ import annotations

from backend.core.errors import NotFound
from backend.programme import regions


def admin_region(user) -> str:
    """The region an administrator answers for (the province until regional grants exist)."""
    return regions.PROVINCE


def check(user, code: str) -> str:
    """``code`` if it is a region the programme serves inside the administrator's own; 404 otherwise
    (the same answer for a region that does not exist and one that is not theirs)."""
    if regions.level(code) is None or not regions.within(code) <= regions.within(admin_region(user)):
        raise NotFound("没有找到该地区，或您无权查看", code="region_not_found", details={"region": code})
    return code
