"""The programme's yearly targets as other domains read them (the events figures' progress bars).
The targets are data in ``programme``; ``core`` knows no domain, so the programme registers how to
look one up when its routes module loads, as the domains register their labels (core/meta.py)."""
from __future__ import annotations

from typing import Callable

_LOOKUP: list[Callable[..., int | None]] = []


def register(lookup: Callable[..., int | None]) -> None:
    """``lookup(year=, region=, measure=)`` → the target's value or None."""
    _LOOKUP[:] = [lookup]


def value(*, year: int, region: str, measure: str) -> int | None:
    """The target for ``measure`` in ``region`` and ``year``; None when none is set (or none registered)."""
    return _LOOKUP[0](year=year, region=region, measure=measure) if _LOOKUP else None
