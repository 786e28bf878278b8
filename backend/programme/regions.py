"""The region tree the dashboard drills down: 山东省 → cities → districts (GB/T 2260 codes), from the
districts the programme serves (core/regions.py). A stand-in with the names the lead's
``core.regions`` will have (within, name_of, children) until that lands on main."""
from __future__ import annotations

from backend.core.regions import DISTRICTS
from backend.programme.enums import CITIES, PROVINCE, REGION_NAMES

ALL = list(REGION_NAMES)


def city_of(district: str) -> str:
    return district[:4] + "00"


def level(code: str) -> str | None:
    """province, city or district; None for a code the programme does not serve."""
    if code == PROVINCE:
        return "province"
    if code in CITIES:
        return "city"
    if code in DISTRICTS:
        return "district"
    return None


def name_of(code: str) -> str:
    return REGION_NAMES.get(code, code)


def within(code: str) -> frozenset[str]:
    """The district codes inside a region (a district is within itself)."""
    if code == PROVINCE:
        return frozenset(DISTRICTS)
    if code in CITIES:
        return frozenset(d for d in DISTRICTS if city_of(d) == code)
    return frozenset({code}) if code in DISTRICTS else frozenset()


def children(code: str) -> list[str]:
    """The regions one level down (a district's children are its places, not regions)."""
    if code == PROVINCE:
        return list(CITIES)
    if code in CITIES:
        return [d for d in DISTRICTS if city_of(d) == code]
    return []


def parent(code: str) -> str | None:
    kind = level(code)
    return {"district": city_of(code), "city": PROVINCE}.get(kind) if kind else None
