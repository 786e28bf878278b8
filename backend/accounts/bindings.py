"""What a role is bound to: station staff and organisers to a place, provider staff to a provider,
administrators to a region (GB/T 2260 code). The rule per role, the Chinese names people see for a
grant's binding, and which people fall inside a set of districts.

The places and providers tables belong to the domains above accounts; as the foreign keys of
``RoleGrant`` do, this module names them by table (id, name, district) and imports neither."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from backend.accounts.enums import Role
from backend.accounts.models import EntrepreneurProfile, RoleGrant, User
from backend.core.errors import DomainError
from backend.core.regions import DISTRICTS
from backend.extensions import db

# role -> the one binding its grant needs (None: none)
BINDING: dict[Role, str | None] = {
    Role.entrepreneur: None,
    Role.provider_staff: "provider_id",
    Role.station_staff: "place_id",
    Role.organiser: "place_id",
    Role.admin: "region_code",
}
FIELDS = ("place_id", "provider_id", "region_code")
REQUIRED_MESSAGES = {"place_id": "请选择驿站/场所", "provider_id": "请选择服务机构", "region_code": "请选择管辖地区"}
NOT_ALLOWED_MESSAGES = {"place_id": "该角色不绑定场所", "provider_id": "该角色不绑定服务机构",
                        "region_code": "该角色不绑定地区"}

# Regions above the districts an administrator may be bound to; districts come from core.regions.
# (Replaced by core.regions' own tree once the regions piece is on main.)
UPPER_REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "370000": ("山东省", tuple(DISTRICTS)),
    "370800": ("济宁市", tuple(code for code in DISTRICTS if code.startswith("3708"))),
    "370100": ("济南市", tuple(code for code in DISTRICTS if code.startswith("3701"))),
}

_places = sa.table("place", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("district", sa.String))
_providers = sa.table("provider", sa.column("id", sa.Integer), sa.column("name", sa.String),
                      sa.column("district", sa.String))


def region_name(code: str | None) -> str | None:
    if code is None:
        return None
    return UPPER_REGIONS[code][0] if code in UPPER_REGIONS else DISTRICTS.get(code)


def region_districts(code: str) -> tuple[str, ...]:
    return UPPER_REGIONS[code][1] if code in UPPER_REGIONS else ((code,) if code in DISTRICTS else ())


def regions() -> dict[str, str]:
    """Every region an administrator may be bound to, province first: {code: 名称}."""
    return {**{code: name for code, (name, _) in UPPER_REGIONS.items()}, **DISTRICTS}


def check(role: Role, values: dict) -> dict:
    """The bindings of a grant of ``role`` from ``values`` (place_id, provider_id, region_code): the one
    the role needs, present; the others, absent. Raises 422 binding_invalid with per-field messages."""
    wanted = BINDING[role]
    problems = {}
    for field in FIELDS:
        given = values.get(field)
        if field == wanted and given in (None, ""):
            problems[field] = [REQUIRED_MESSAGES[field]]
        elif field != wanted and given not in (None, ""):
            problems[field] = [NOT_ALLOWED_MESSAGES[field]]
    if wanted == "region_code" and "region_code" not in problems and region_name(values["region_code"]) is None:
        problems["region_code"] = ["没有这个地区"]
    if problems:
        message = next(iter(problems.values()))[0]
        raise DomainError(message, code="binding_invalid", status=422, details=problems)
    return {field: values.get(field) for field in FIELDS}


def districts_of(bound: dict) -> tuple[str, ...]:
    """The districts a grant's binding covers: its place's or provider's district, or its region's."""
    if bound.get("region_code") is not None:
        return region_districts(bound["region_code"])
    for field, table in (("place_id", _places), ("provider_id", _providers)):
        if bound.get(field) is not None:
            district = db.session.scalar(sa.select(table.c.district).where(table.c.id == bound[field]))
            return (district,) if district else ()
    return ()


def annotate(users: Iterable[User]) -> None:
    """Give each grant of ``users`` the names of what it is bound to (``place_name``, ``provider_name``,
    ``region_name``): one query per table for the whole page."""
    grants = [grant for user in users for grant in user.grants]
    place_ids = {g.place_id for g in grants if g.place_id is not None}
    provider_ids = {g.provider_id for g in grants if g.provider_id is not None}
    places = dict(db.session.execute(sa.select(_places.c.id, _places.c.name).where(_places.c.id.in_(place_ids))).all()) \
        if place_ids else {}
    providers = dict(db.session.execute(
        sa.select(_providers.c.id, _providers.c.name).where(_providers.c.id.in_(provider_ids))).all()) \
        if provider_ids else {}
    for grant in grants:
        grant.place_name = places.get(grant.place_id)
        grant.provider_name = providers.get(grant.provider_id)
        grant.region_name = region_name(grant.region_code)


def people_in(districts: Iterable[str]) -> sa.ColumnElement[bool]:
    """A condition on User: the person's profile, or one of their grants (its place, provider or
    region), lies in ``districts``."""
    districts = list(districts)
    regions_inside = [code for code in regions() if set(region_districts(code)) <= set(districts)]
    granted = (sa.select(RoleGrant.user_id)
               .outerjoin(_places, _places.c.id == RoleGrant.place_id)
               .outerjoin(_providers, _providers.c.id == RoleGrant.provider_id)
               .where(sa.or_(_places.c.district.in_(districts), _providers.c.district.in_(districts),
                             RoleGrant.region_code.in_(regions_inside))))
    profiled = sa.select(EntrepreneurProfile.user_id).where(EntrepreneurProfile.district.in_(districts))
    return sa.or_(User.id.in_(granted), User.id.in_(profiled))
