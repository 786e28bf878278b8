"""Cases whose step is past its time limit: every working morning, the people who must act on the
step are told once per case and step (the station's 专员 while it is with the station, the
administrators of its region while it is with the 人社 office, the bank's officers while it is with
the bank). The list shows them first anyway; this reaches those who do not open it."""
from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.enums import Role
from backend.accounts.models import RoleGrant
from backend.core import regions
from backend.core.db import utcnow
from backend.extensions import db
from backend.loans.enums import CaseState as S
from backend.loans.models import LoanCase
from backend.notifications import service as notifications

WITH_STATION = (S.consultation, S.precheck, S.correction)
WITH_OFFICE = (S.review, S.notice)
WITH_BANK = (S.referred, S.diligence)


def _handlers(case: LoanCase) -> list[int]:
    if case.state in WITH_STATION:
        condition = sa.and_(RoleGrant.role == Role.station_staff, RoleGrant.place_id == case.station_id)
    elif case.state in WITH_OFFICE:
        above = [code for code, _ in regions.path(case.region_code)]
        condition = sa.and_(RoleGrant.role == Role.admin, sa.or_(RoleGrant.region_code.in_(above),
                                                                 RoleGrant.region_code.is_(None)))
    else:
        banks = [case.bank_id] + ([case.bank.parent_id] if case.bank and case.bank.parent_id else [])
        condition = sa.and_(RoleGrant.role == Role.bank_staff, RoleGrant.bank_id.in_(banks))
    return sorted(set(db.session.scalars(sa.select(RoleGrant.user_id).where(condition))))


def remind_late(now=None) -> dict:
    now = now or utcnow()
    late = db.session.scalars(sa.select(LoanCase).where(
        LoanCase.step_due_at < now, LoanCase.state.in_(WITH_STATION + WITH_OFFICE + WITH_BANK))
        .order_by(LoanCase.step_due_at)).all()
    told = 0
    for case in late:
        for user_id in _handlers(case):
            told += notifications.notify(
                user_id=user_id, kind="loan_late", title="贷款案件已超时",
                body=f"{case.number}（{case.applicant.name}）“{case.state.label}”已超过办理时限，请尽快处理",
                link=f"/pages/loan-case/index?id={case.id}",
                dedupe=f"loan-late:{case.id}:{case.state.value}:{case.step_due_at.isoformat()}")
    db.session.commit()
    return {"cases": len(late), "handlers": told}

