"""What a role is bound to: station staff and organisers to a place, provider staff to a provider,
administrators to a region (GB/T 2260 code). The rule per role, the Chinese names people see for a
grant's binding. (Which grants an administrator may make is scope.check_binding's.)

The places, providers and banks tables belong to the domains above accounts; as the foreign keys of
``RoleGrant`` do, this module names them by table (id, name, district) and imports neither."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from backend.accounts.enums import Role
from backend.accounts.models import User
from backend.core.errors import DomainError
from backend.core import regions
from backend.extensions import db

# role -> the one binding its grant needs (None: none)
BINDING: dict[Role, str | None] = {
    Role.entrepreneur: None,
    Role.provider_staff: "provider_id",
    Role.station_staff: "place_id",
    Role.organiser: "place_id",
    Role.admin: "region_code",
    Role.bank_staff: "bank_id",
}
FIELDS = ("place_id", "provider_id", "region_code", "bank_id")
REQUIRED_MESSAGES = {"place_id": "请选择驿站/场所", "provider_id": "请选择服务机构", "region_code": "请选择管辖地区",
                     "bank_id": "请选择合作银行"}
NOT_ALLOWED_MESSAGES = {"place_id": "该角色不绑定场所", "provider_id": "该角色不绑定服务机构",
                        "region_code": "该角色不绑定地区", "bank_id": "该角色不绑定银行"}

_places = sa.table("place", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("district", sa.String))
_providers = sa.table("provider", sa.column("id", sa.Integer), sa.column("name", sa.String),
                      sa.column("district", sa.String))
_banks = sa.table("loan_bank", sa.column("id", sa.Integer), sa.column("name", sa.String),
                  sa.column("region_code", sa.String))


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
    if wanted == "region_code" and "region_code" not in problems and not regions.exists(values["region_code"]):
        problems["region_code"] = ["没有这个地区"]
    if problems:
        message = next(iter(problems.values()))[0]
        raise DomainError(message, code="binding_invalid", status=422, details=problems)
    return {field: values.get(field) for field in FIELDS}


def annotate(users: Iterable[User]) -> None:
    """Give each grant of ``users`` the names of what it is bound to (``place_name``, ``provider_name``,
    ``bank_name``, ``region_name``): one query per table for the whole page."""
    grants = [grant for user in users for grant in user.grants]
    place_ids = {g.place_id for g in grants if g.place_id is not None}
    provider_ids = {g.provider_id for g in grants if g.provider_id is not None}
    places = dict(db.session.execute(sa.select(_places.c.id, _places.c.name).where(_places.c.id.in_(place_ids))).all()) \
        if place_ids else {}
    providers = dict(db.session.execute(
        sa.select(_providers.c.id, _providers.c.name).where(_providers.c.id.in_(provider_ids))).all()) \
        if provider_ids else {}
    bank_ids = {g.bank_id for g in grants if g.bank_id is not None}
    banks = dict(db.session.execute(sa.select(_banks.c.id, _banks.c.name).where(_banks.c.id.in_(bank_ids))).all()) \
        if bank_ids else {}
    for grant in grants:
        grant.bank_name = banks.get(grant.bank_id)
        grant.place_name = places.get(grant.place_id)
        grant.provider_name = providers.get(grant.provider_id)
        grant.region_name = regions.name_of(grant.region_code)

