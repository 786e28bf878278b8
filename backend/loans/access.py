"""Who handles a case, in which capacity: the applicant (owner), the 专员 of its station (station),
an administrator whose region holds it (admin), an officer of the bank it was referred to or of that
bank's head office (bank). A case none of these may see answers 404, as if it did not exist."""
from __future__ import annotations

import sqlalchemy as sa

from backend.accounts import scope
from backend.accounts.enums import Role
from backend.core.errors import NotFound
from backend.extensions import db
from backend.loans.models import Bank, LoanCase

OWNER, STATION, ADMIN, BANK = "owner", "station", "admin", "bank"


def _grants(user, role: Role, field: str) -> set[int]:
    return {getattr(g, field) for g in user.grants if g.role == role and getattr(g, field) is not None}


def bank_ids(user) -> set[int]:
    """The banks an officer acts for: their banks and those banks' branches."""
    own = _grants(user, Role.bank_staff, "bank_id")
    if not own:
        return set()
    branches = db.session.scalars(sa.select(Bank.id).where(Bank.parent_id.in_(own))).all()
    return own | set(branches)


def capacities(case: LoanCase, user) -> set[str]:
    if user is None:
        return set()
    found = set()
    if case.applicant_id == user.id:
        found.add(OWNER)
    if case.station_id is not None and case.station_id in _grants(user, Role.station_staff, "place_id"):
        found.add(STATION)
    if user.has_role(Role.admin.value) and scope.sees(case.region_code, user):
        found.add(ADMIN)
    if case.bank_id is not None and case.bank_id in bank_ids(user):
        found.add(BANK)
    return found


def get_case(*, user, id: int, lock: bool = False) -> tuple[LoanCase, set[str]]:
    case = db.session.get(LoanCase, id, with_for_update=lock or None, populate_existing=lock)
    who = capacities(case, user) if case is not None else set()
    if not who:
        raise NotFound("贷款案件不存在", code="loan_case_not_found")
    return case, who


def visible(query: sa.Select, user) -> sa.Select:
    """``query`` of cases kept to those the user handles or owns (every capacity they have)."""
    conditions = [LoanCase.applicant_id == user.id]
    places = _grants(user, Role.station_staff, "place_id")
    if places:
        conditions.append(LoanCase.station_id.in_(sorted(places)))
    if user.has_role(Role.admin.value):
        allowed = scope.districts(user)
        conditions.append(sa.true() if allowed is None else LoanCase.region_code.in_(sorted(allowed)))
    banks = bank_ids(user)
    if banks:
        conditions.append(LoanCase.bank_id.in_(sorted(banks)))
    return query.where(sa.or_(*conditions))
