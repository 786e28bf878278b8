"""Which regions an administrator may read and set targets for: their own and all below it
(accounts/scope.py). A region outside theirs answers 403 region_forbidden, one that does not exist
404 region_not_found (``scope.check_region``), in the error shape."""
from __future__ import annotations

from backend.accounts import scope


def region_for(user, asked: str | None) -> str:
    """The region a report is for: the one asked (if the administrator may see it), else their own."""
    code = asked or scope.home_region(user)
    scope.check_region(code, user=user)
    return code
