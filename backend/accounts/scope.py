"""What an administrator may see: the region their grant binds them to.

A province administrator (a grant on 370000, or an older grant with no region) sees everything; a
city or district administrator sees the places, people, events, visits, providers, batches and
figures inside their region and nothing else. Domains ask here in one of three ways:
``districts(user)`` (None = everything), ``limit(query, column)`` for a list, ``check(code)`` for one
record (404 in the error shape, so a record in another region looks like one that does not exist)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_jwt_extended import current_user

from backend.core import audit, regions
from backend.core.errors import Forbidden, NotFound


CURRENT = object()  # "the signed-in user"; None means no person (the CLI, demo seeding): everything


def _who(user):
    return current_user if user is CURRENT else user


def admin_regions(user) -> list[str] | None:
    """The region codes of the user's administrator grants; None for a province administrator (and
    for no user at all: the CLI and demo seeding act for the whole province)."""
    if user is None:
        return None
    codes = [g.region_code for g in user.grants if g.role.value == "admin"]
    if any(code is None or code == regions.PROVINCE for code in codes):
        return None
    return sorted(codes)


def districts(user=CURRENT) -> frozenset[str] | None:
    """Every region code the administrator may see (their regions and all below); None = all."""
    codes = admin_regions(_who(user))
    if codes is None:
        return None
    return frozenset().union(*(regions.within(code) for code in codes))


def home_region(user=CURRENT) -> str:
    """Where an administrator's views start: their (first) region, or the province."""
    user = _who(user)
    codes = admin_regions(user)
    return codes[0] if codes else regions.PROVINCE


def sees(code: str | None, user=CURRENT) -> bool:
    allowed = districts(user)
    return allowed is None or code in allowed


def limit(query: sa.Select, column, user=CURRENT) -> sa.Select:
    """``query`` kept to rows whose ``column`` (a region code) lies in the administrator's region."""
    allowed = districts(user)
    return query if allowed is None else query.where(column.in_(sorted(allowed)))


def check(code: str | None, *, user=CURRENT, message: str = "记录不存在", error: str = "not_found") -> None:
    """Refuse (404, as if it did not exist) a record outside the administrator's region."""
    if not sees(code, user):
        raise NotFound(message, code=error)


def check_region(code: str, *, user=CURRENT) -> None:
    """A region the administrator may ask about or put a record in (a report, a new place's district):
    403 outside their region."""
    if not regions.exists(code):
        raise NotFound("没有这个地区", code="region_not_found")
    if not sees(code, user):
        raise Forbidden("您只能查看和管理本辖区的数据", code="region_forbidden",
                        details={"region": code, "region_name": regions.name_of(code)})


# Tables of the domains above accounts, named here only for the people query (accounts imports none
# of their modules).
_place = sa.table("place", sa.column("id"), sa.column("district"))
_provider = sa.table("provider", sa.column("id"), sa.column("district"))
_bank = sa.table("loan_bank", sa.column("id"), sa.column("region_code"))
_member = sa.table("provider_member", sa.column("user_id"), sa.column("provider_id"))


def people_condition(allowed: frozenset[str]):
    """A user belongs to a region through a role there (a place, a provider, an administrator's
    region), their entrepreneur profile's district, or membership of a provider registered there."""
    from backend.accounts.models import EntrepreneurProfile, RoleGrant, User

    codes = sorted(allowed)
    places = sa.select(_place.c.id).where(_place.c.district.in_(codes))
    providers = sa.select(_provider.c.id).where(_provider.c.district.in_(codes))
    banks = sa.select(_bank.c.id).where(_bank.c.region_code.in_(codes))
    by_grant = sa.select(RoleGrant.user_id).where(sa.or_(RoleGrant.place_id.in_(places),
                                                         RoleGrant.provider_id.in_(providers),
                                                         RoleGrant.bank_id.in_(banks),
                                                         RoleGrant.region_code.in_(codes)))
    by_profile = sa.select(EntrepreneurProfile.user_id).where(EntrepreneurProfile.district.in_(codes))
    by_member = sa.select(_member.c.user_id).where(_member.c.provider_id.in_(providers))
    return sa.or_(User.id.in_(by_grant), User.id.in_(by_profile), User.id.in_(by_member))


def limit_people(query: sa.Select, user=CURRENT) -> sa.Select:
    allowed = districts(user)
    return query if allowed is None else query.where(people_condition(allowed))


def check_person(person, user=CURRENT) -> None:
    """Refuse (404) a person outside the administrator's region."""
    from backend.accounts.models import User
    from backend.extensions import db

    allowed = districts(user)
    if allowed is None:
        return
    found = db.session.scalar(sa.select(User.id).where(User.id == person.id, people_condition(allowed)))
    if found is None:
        raise NotFound("用户不存在", code="user_not_found")


def check_binding(*, role: str, place_id=None, provider_id=None, region_code=None, bank_id=None,
                  user=CURRENT) -> None:
    """A role a city or district administrator grants must be bound inside their region (403 otherwise);
    only a province administrator makes another province administrator."""
    from backend.extensions import db

    allowed = districts(user)
    if allowed is None:
        return
    refused = Forbidden("您只能在本辖区内授予角色", code="region_forbidden")
    if role == "admin" and region_code is None:
        raise refused
    if region_code is not None and region_code not in allowed:
        raise refused
    for column, key in ((_place.c.district, place_id), (_provider.c.district, provider_id),
                        (_bank.c.region_code, bank_id)):
        if key is not None:
            district = db.session.scalar(sa.select(column).where(column.table.c.id == key))
            if district is not None and district not in allowed:
                raise refused


@audit.scoped_by
def _audit_entries(query: sa.Select) -> sa.Select:
    """A city or district administrator reads what the people of their region did."""
    from backend.accounts.models import User

    allowed = districts()
    if allowed is None:
        return query
    return query.where(audit.AuditLog.actor_id.in_(sa.select(User.id).where(people_condition(allowed))))
