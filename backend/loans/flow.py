"""The case's states in one place: which action moves a case from which state to which, who may take
it, and the one guarded write that does it.

Every move is ``UPDATE loan_case SET state=…, version=version+1 WHERE id=… AND state=… AND
version=…``: two people acting on one case at once, one wins and the other gets 409
``loan_state_changed``. Each move is a timeline entry (step, who, when, remark), restarts the step's
clock (``LOAN_STEP_DAYS``, working days) and tells the applicant."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from backend.core import audit
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.localtime import LOCAL, local_day
from backend.extensions import db
from backend.loans import push
from backend.loans.access import ADMIN, BANK, OWNER, STATION
from backend.loans.enums import APPLYING, STEP_LABELS, CaseState as S
from backend.loans.models import LoanCase, LoanEvent
from backend.notifications import service as notifications


@dataclass(frozen=True)
class Move:
    label: str  # what the timeline and the button say
    sources: tuple[S, ...]
    target: S | None  # None: the state stays (an edit, a repayment, a rate change)
    who: frozenset[str]
    tell: str = ""  # the applicant's notification; empty: not told


LIVE_LOAN = (S.disbursed, S.repaying, S.overdue, S.extended)
MOVES: dict[str, Move] = {
    "open": Move(STEP_LABELS["open"], (), S.consultation, frozenset({OWNER, STATION}), "贷款咨询已登记，可完善申请并预审"),
    "edit": Move(STEP_LABELS["edit"], (S.consultation, S.precheck, S.correction), None, frozenset({OWNER, STATION})),
    "upload": Move(STEP_LABELS["upload"], (S.consultation, S.precheck, S.correction), None, frozenset({OWNER})),
    "precheck": Move(STEP_LABELS["precheck"], (S.consultation, S.precheck, S.correction), S.precheck, frozenset({OWNER, STATION}),
                     "预审通过，请提交人社审核"),
    "precheck_failed": Move(STEP_LABELS["precheck_failed"], (S.consultation, S.precheck, S.correction), None,
                            frozenset({OWNER, STATION}), "预审未通过，请查看原因"),
    "request_documents": Move(STEP_LABELS["request_documents"], (S.consultation, S.precheck, S.review), S.correction,
                              frozenset({STATION, ADMIN}), "请补充材料"),
    "submit": Move(STEP_LABELS["submit"], (S.precheck, S.correction), S.review, frozenset({OWNER, STATION}),
                   "申请已提交人社部门审核"),
    "approve": Move(STEP_LABELS["approve"], (S.review,), S.notice, frozenset({ADMIN}), "审核通过，进入公示"),
    "reject": Move(STEP_LABELS["reject"], (S.review, S.notice, S.referred, S.diligence), S.rejected, frozenset({ADMIN, BANK}),
                   "申请被驳回"),
    "refer": Move(STEP_LABELS["refer"], (S.notice,), S.referred, frozenset({ADMIN}), "公示结束，已转介合作银行"),
    "withdraw": Move(STEP_LABELS["withdraw"], APPLYING, S.withdrawn, frozenset({OWNER}), "申请已撤回"),
    "diligence": Move(STEP_LABELS["diligence"], (S.referred,), S.diligence, frozenset({BANK}), "银行已受理，正在尽职调查和办理担保"),
    "disburse": Move(STEP_LABELS["disburse"], (S.diligence,), S.disbursed, frozenset({BANK}), "贷款已发放"),
    "repay": Move(STEP_LABELS["repay"], LIVE_LOAN, None, frozenset({BANK}), "银行已登记一笔还款"),
    "close": Move(STEP_LABELS["close"], LIVE_LOAN, S.closed, frozenset({BANK}), "贷款已结清"),
    "overdue": Move(STEP_LABELS["overdue"], (S.disbursed, S.repaying, S.extended), S.overdue, frozenset({BANK}),
                    "贷款已逾期，逾期期间不享受贴息，请尽快还款"),
    "cure": Move(STEP_LABELS["cure"], (S.overdue,), S.repaying, frozenset({BANK}), "逾期款项已还清"),
    "extend": Move(STEP_LABELS["extend"], (S.disbursed, S.repaying, S.overdue), S.extended, frozenset({BANK}),
                   "贷款已展期，展期期间不享受贴息"),
    "change_rate": Move(STEP_LABELS["change_rate"], LIVE_LOAN, None, frozenset({BANK}), "贷款利率已调整"),
}
# the steps a viewer sees as buttons (the others are taken inside those: precheck_failed, close)
ACTIONS = ("edit", "precheck", "request_documents", "upload", "submit", "approve", "reject", "refer", "withdraw",
           "diligence", "disburse", "repay", "overdue", "cure", "extend", "change_rate")

# default time limits per state, in working days (settings LOAN_STEP_DAYS override them)
STEP_DAYS = {S.consultation: 10, S.precheck: 5, S.correction: 10, S.review: 5, S.notice: 5, S.referred: 3,
             S.diligence: 10}


def working_days_after(moment: datetime, days: int) -> datetime:
    """The end of the working day ``days`` working days after ``moment`` (Monday to Friday; the
    official holiday calendar is not modelled)."""
    day = local_day(moment)
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return datetime.combine(day, time(23, 59, 59), LOCAL)


def step_days(state: S) -> int | None:
    configured = current_app.config.get("LOAN_STEP_DAYS") or {}
    return configured.get(state.value, STEP_DAYS.get(state))


def allowed(case: LoanCase, who: set[str]) -> list[str]:
    """The actions the viewer may take on the case now."""
    out = []
    for name in ACTIONS:
        move = MOVES[name]
        if case.state in move.sources and who & move.who:
            if name == "reject" and not _may_reject(case.state, who):
                continue
            if name == "extend" and case.extension_until is not None:
                continue
            out.append(name)
    return out


def _may_reject(state: S, who: set[str]) -> bool:
    return (ADMIN in who and state in (S.review, S.notice)) or (BANK in who and state in (S.referred, S.diligence))


def check(case: LoanCase, action: str, who: set[str]) -> Move:
    """The move, if this viewer may take it from the case's state; else 403 (not theirs) or 409."""
    from backend.core.errors import Forbidden

    move = MOVES[action]
    if not who & move.who:
        raise Forbidden("您不能办理这一步", code="forbidden")
    if action == "reject" and not _may_reject(case.state, who) and case.state in move.sources:
        raise Forbidden("您不能驳回这一阶段的申请", code="forbidden")
    if case.state not in move.sources:
        raise DomainError(f"案件当前为“{case.state.label}”，不能{move.label}", code="loan_state_changed", status=409,
                          details={"state": case.state.value})
    return move


def move(case: LoanCase, action: str, *, actor, role: str, remark: str = "", target: S | None = None,
         **values) -> LoanCase:
    """Take ``action`` (checked by the caller with ``check``): the guarded write, the timeline entry,
    the step's new clock, the applicant told. ``values`` are the case's other columns to set."""
    step = MOVES[action]
    target = target or step.target or case.state
    now = utcnow()
    changes = dict(values, state=target, version=LoanCase.version + 1, updated_at=now)
    if target != case.state or action == "open":
        days = step_days(target)
        changes["step_due_at"] = working_days_after(now, days) if days else None
    result = db.session.execute(sa.update(LoanCase).where(
        LoanCase.id == case.id, LoanCase.state == case.state, LoanCase.version == case.version)
        .values(**changes).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise DomainError("案件刚刚被他人处理，请刷新后再试", code="loan_state_changed", status=409)
    db.session.add(LoanEvent(case_id=case.id, step=action, state=target, actor_id=actor.id if actor else None,
                             actor_role=role, at=now, remark=remark[:200]))
    db.session.flush()
    db.session.refresh(case)
    if step.tell and actor is not None and actor.id != case.applicant_id:
        notifications.notify(user_id=case.applicant_id, kind="loan_step", title=f"创业担保贷款：{step.label}",
                             body=step.tell + (f"（{remark}）" if remark else ""),
                             link=f"/pages/loan-case/index?id={case.id}")
        push.queue(case=case, step_label=step.label, state_label=target.label, at=now)
    if role in (ADMIN, BANK):
        audit.record(actor=actor, action=f"loan.{action}", target_type="loan_case", target_id=case.id,
                     after={"state": target.value, **({"remark": remark} if remark else {})})
    return case


def is_late(case: LoanCase, now: datetime | None = None) -> bool:
    return case.step_due_at is not None and case.step_due_at < (now or utcnow())


def today() -> date:
    return local_day(utcnow())
