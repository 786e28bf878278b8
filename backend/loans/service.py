"""The loan case's operations, one per step; each checks who may take it (flow.check), validates
what is given, and moves the case through flow.move."""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.core import uploads
from backend.core.errors import DomainError, NotFound
from backend.extensions import db
from backend.loans import flow, rules
from backend.loans.access import ADMIN, BANK, OWNER, STATION, capacities, get_case, visible
from backend.loans.enums import APPLYING, BorrowerType, CaseState as S, DocumentKind, IdentityCategory
from backend.loans.models import Bank, LoanCase, LoanDocument, LoanPause, LoanRateChange, LoanRepayment

APPLICATION = ("borrower_type", "amount", "term_months", "purpose", "business", "identity_category", "age",
               "org_name", "staff_count", "new_hires", "incubator_recommended")


def _role(who: set[str], allowed: frozenset[str]) -> str:
    """The capacity a step is taken in (the most official one the viewer has)."""
    for role in (ADMIN, BANK, STATION, OWNER):
        if role in who and role in allowed:
            return role
    return next(iter(who))


def _station(station_id: int):
    from backend.places.enums import PlaceKind
    from backend.places.models import Place

    place = db.session.get(Place, station_id)
    if place is None or not place.is_active or place.kind != PlaceKind.loan_station:
        raise DomainError("请选择一个开放中的创贷之家驿站", code="station_not_found", status=422,
                          details={"station_id": ["请选择一个开放中的创贷之家驿站"]})
    return place


def _open_case_of(user_id: int) -> LoanCase | None:
    return db.session.scalar(sa.select(LoanCase).where(LoanCase.applicant_id == user_id,
                                                       LoanCase.state.in_(APPLYING)).order_by(LoanCase.id))


def open_online(*, user, data: dict) -> LoanCase:
    """An entrepreneur starts a case online at the station they choose."""
    if _open_case_of(user.id) is not None:
        raise DomainError("您已有一笔正在办理的贷款申请，请在原案件中继续", code="loan_case_open", status=409)
    station = _station(data.pop("station_id"))
    case = LoanCase(applicant_id=user.id, station_id=station.id, region_code=station.district,
                    state=S.consultation, **{k: data[k] for k in APPLICATION if k in data})
    return _opened(case, actor=user, role=OWNER, remark="线上申请")


def open_from_visit(*, user, visit_id: int) -> tuple[LoanCase, bool]:
    """The 专员 opens a case for a person scanned at their station: person and station filled in,
    the amount sought taken from the visit's note. The person's open case, if they have one."""
    from backend.checkins.models import Visit, VisitNote

    visit = db.session.get(Visit, visit_id)
    stations = {g.place_id for g in user.grants if g.role == Role.station_staff}
    if visit is None or visit.place_id not in stations:
        raise NotFound("到访记录不存在", code="visit_not_found")
    existing = _open_case_of(visit.user_id)
    if existing is not None:
        return existing, False
    _station(visit.place_id)
    sought = db.session.scalar(sa.select(VisitNote.loan_amount).where(
        VisitNote.visit_id == visit.id, VisitNote.loan_amount.is_not(None)).order_by(VisitNote.id.desc()).limit(1))
    case = LoanCase(applicant_id=visit.user_id, station_id=visit.place_id, visit_id=visit.id,
                    region_code=visit.place.district, state=S.consultation, borrower_type=BorrowerType.individual,
                    identity_category=IdentityCategory.other, amount=sought or None)
    return _opened(case, actor=user, role=STATION, remark=f"{visit.place.name}到访登记"), True


def _opened(case: LoanCase, *, actor, role: str, remark: str) -> LoanCase:
    db.session.add(case)
    db.session.flush()
    from backend.loans.models import LoanEvent
    db.session.add(LoanEvent(case_id=case.id, step="open", state=S.consultation, actor_id=actor.id, actor_role=role,
                             remark=remark))
    days = flow.step_days(S.consultation)
    case.step_due_at = flow.working_days_after(case.created_at, days) if days else None
    db.session.flush()
    if actor.id != case.applicant_id:
        from backend.notifications import service as notifications
        notifications.notify(user_id=case.applicant_id, kind="loan_step", title="创业担保贷款：开立案件",
                             body=f"{case.station.name}已为您登记贷款咨询，可在“我的贷款”中完善申请",
                             link=f"/pages/loan-case/index?id={case.id}")
    return case


def _take(*, user, id: int, action: str) -> tuple[LoanCase, str]:
    case, who = get_case(user=user, id=id, lock=True)
    step = flow.check(case, action, who)
    return case, _role(who, step.who)


def edit(*, user, id: int, data: dict) -> LoanCase:
    case, role = _take(user=user, id=id, action="edit")
    if "station_id" in data:
        station = _station(data.pop("station_id"))
        data.update(station_id=station.id, region_code=station.district)
    changed = {k: v for k, v in data.items() if getattr(case, k) != v}
    if not changed:
        return case
    # a changed application needs a new pre-check
    target = S.consultation if case.state == S.precheck else case.state
    return flow.move(case, "edit", actor=user, role=role, target=target, precheck_passed=False, **changed)


def precheck(*, user, id: int) -> LoanCase:
    case, role = _take(user=user, id=id, action="precheck")
    outcome = rules.precheck(case, today=flow.today())
    summary = "；".join(r["message"] for r in outcome["results"] if not r["passed"])
    values = dict(precheck={**outcome, "at": flow.utcnow().isoformat()}, precheck_passed=outcome["passed"],
                  rule_id=outcome["rule_id"])
    if outcome["passed"]:
        return flow.move(case, "precheck", actor=user, role=role,
                         remark="待补材料：" + "、".join(outcome["bring"]) if outcome["bring"] else "", **values)
    return flow.move(case, "precheck_failed", actor=user, role=role, remark=summary[:200], **values)


def request_documents(*, user, id: int, kinds: list[str], remark: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="request_documents")
    wanted = list(dict.fromkeys(DocumentKind(k).value for k in kinds))
    labels = "、".join(DocumentKind(k).label for k in wanted)
    return flow.move(case, "request_documents", actor=user, role=role, requested_documents=wanted,
                     remark=(f"请补充：{labels}" + (f"。{remark}" if remark else ""))[:200])


def add_document(*, user, id: int, kind: str, data: bytes, filename: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="upload")
    upload = uploads.store(owner=user, data=data, filename=filename)
    db.session.add(LoanDocument(case_id=case.id, kind=DocumentKind(kind), upload_id=upload.id))
    return flow.move(case, "upload", actor=user, role=role, remark=DocumentKind(kind).label)


def document(*, user, id: int, document_id: int):
    """A case's document, for its applicant and handlers only."""
    case, _ = get_case(user=user, id=id)
    doc = db.session.get(LoanDocument, document_id)
    if doc is None or doc.case_id != case.id:
        raise NotFound("材料不存在", code="document_not_found")
    return doc.upload


def submit(*, user, id: int) -> LoanCase:
    case, role = _take(user=user, id=id, action="submit")
    if not case.precheck_passed:
        raise DomainError("请先通过预审", code="precheck_required", status=409)
    have = {d.kind for d in case.documents}
    missing = [k.label for k in rules.required_documents(case, case.rule) if k not in have]
    if missing:
        raise DomainError("还缺少材料：" + "、".join(missing), code="documents_missing", status=409,
                          details={"missing": missing})
    return flow.move(case, "submit", actor=user, role=role, requested_documents=[])


def approve(*, user, id: int, remark: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="approve")
    days = current_app.config.get("LOAN_NOTICE_DAYS", 5)
    until = flow.local_day(flow.working_days_after(flow.utcnow(), days)) if days else flow.today()
    return flow.move(case, "approve", actor=user, role=role, notice_until=until,
                     remark=remark or f"公示至 {until.isoformat()}")


def reject(*, user, id: int, reason: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="reject")
    return flow.move(case, "reject", actor=user, role=role, remark=reason, reason=reason)


def refer(*, user, id: int, bank_id: int, remark: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="refer")
    if case.notice_until and flow.today() < case.notice_until:
        raise DomainError(f"公示期至 {case.notice_until.isoformat()}，期满后才能转介银行", code="notice_running",
                          status=409)
    bank = db.session.get(Bank, bank_id)
    if bank is None or not bank.is_active:
        raise DomainError("请选择合作银行", code="bank_not_found", status=422, details={"bank_id": ["请选择合作银行"]})
    return flow.move(case, "refer", actor=user, role=role, bank_id=bank.id, remark=remark or bank.name)


def withdraw(*, user, id: int, reason: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="withdraw")
    return flow.move(case, "withdraw", actor=user, role=role, remark=reason, reason=reason)


def diligence(*, user, id: int, remark: str, guarantee: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="diligence")
    return flow.move(case, "diligence", actor=user, role=role, guarantee=guarantee, remark=remark)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def disburse(*, user, id: int, data: dict) -> LoanCase:
    case, role = _take(user=user, id=id, action="disburse")
    rule = case.rule or rules.in_force(region_code=case.region_code, borrower_type=case.borrower_type,
                                       on=data["disbursed_on"])
    problems = {}
    if rule is not None and data["approved_amount"] > rule.max_amount:
        problems["approved_amount"] = [f"超过政策上限 {rule.max_amount / 100:,.0f} 元"]
    if rule is not None and data["term_months"] > rule.max_term_months:
        problems["term_months"] = [f"超过政策最长期限 {rule.max_term_months} 个月"]
    if data["disbursed_on"] > flow.today():
        problems["disbursed_on"] = ["放款日期不能晚于今天"]
    if problems:
        raise DomainError(next(iter(problems.values()))[0], code="validation_error", status=422, details=problems)
    db.session.add(LoanRateChange(case_id=case.id, effective_from=data["disbursed_on"], rate_bp=data["rate_bp"]))
    return flow.move(case, "disburse", actor=user, role=role, approved_amount=data["approved_amount"],
                     rate_bp=data["rate_bp"], lpr_bp=data["lpr_bp"], loan_term_months=data["term_months"],
                     disbursed_on=data["disbursed_on"], outstanding=data["approved_amount"],
                     matures_on=_add_months(data["disbursed_on"], data["term_months"]),
                     remark=f"放款 {data['approved_amount'] / 100:,.2f} 元，年利率 {data['rate_bp'] / 100:.2f}%")


def _loan_day(case: LoanCase, day: date, field: str) -> None:
    if day < case.disbursed_on or day > flow.today():
        raise DomainError("日期应在放款日和今天之间", code="validation_error", status=422,
                          details={field: ["日期应在放款日和今天之间"]})


def repay(*, user, id: int, paid_on: date, principal: int, interest: int) -> LoanCase:
    case, role = _take(user=user, id=id, action="repay")
    _loan_day(case, paid_on, "paid_on")
    if principal > case.outstanding:
        raise DomainError(f"本金超过剩余本金 {case.outstanding / 100:,.2f} 元", code="validation_error", status=422,
                          details={"principal": ["本金超过剩余本金"]})
    if principal == 0 and interest == 0:
        raise DomainError("请填写还款本金或利息", code="validation_error", status=422,
                          details={"principal": ["请填写还款本金或利息"]})
    db.session.add(LoanRepayment(case_id=case.id, paid_on=paid_on, principal=principal, interest=interest,
                                 recorded_by=user.id))
    left = case.outstanding - principal
    remark = f"{paid_on.isoformat()} 还本 {principal / 100:,.2f} 元、利息 {interest / 100:,.2f} 元"
    if left == 0:
        _end_pauses(case, paid_on)
        return flow.move(case, "close", actor=user, role=role, outstanding=0, remark=remark + "，已结清")
    target = S.repaying if case.state == S.disbursed else None
    return flow.move(case, "repay", actor=user, role=role, outstanding=left, target=target, remark=remark)


def _end_pauses(case: LoanCase, on: date) -> None:
    for pause in case.pauses:
        if pause.end is None:
            pause.end = on


def mark_overdue(*, user, id: int, since: date, remark: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="overdue")
    _loan_day(case, since, "since")
    db.session.add(LoanPause(case_id=case.id, kind="overdue", start=since))
    return flow.move(case, "overdue", actor=user, role=role, ever_overdue=True,
                     remark=remark or f"自 {since.isoformat()} 起逾期")


def cure(*, user, id: int, on: date, remark: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="cure")
    _loan_day(case, on, "on")
    for pause in case.pauses:
        if pause.kind == "overdue" and pause.end is None:
            if on < pause.start:
                raise DomainError("日期不能早于逾期开始日", code="validation_error", status=422,
                                  details={"on": ["日期不能早于逾期开始日"]})
            pause.end = on
    target = S.extended if case.extension_until and on < case.extension_until else S.repaying
    return flow.move(case, "cure", actor=user, role=role, target=target, remark=remark or f"{on.isoformat()} 还清逾期")


def extend(*, user, id: int, until: date, reason: str) -> LoanCase:
    case, role = _take(user=user, id=id, action="extend")
    if case.extension_until is not None:
        raise DomainError("每笔贷款只能展期一次", code="already_extended", status=409)
    if until <= case.matures_on or until > case.matures_on + timedelta(days=366):
        raise DomainError("展期到期日应在原到期日之后，且不超过一年", code="validation_error", status=422,
                          details={"until": ["展期到期日应在原到期日之后，且不超过一年"]})
    db.session.add(LoanPause(case_id=case.id, kind="extension", start=case.matures_on, end=until))
    return flow.move(case, "extend", actor=user, role=role, extension_until=until,
                     remark=f"展期至 {until.isoformat()}：{reason}")


def change_rate(*, user, id: int, effective_from: date, rate_bp: int) -> LoanCase:
    case, role = _take(user=user, id=id, action="change_rate")
    _loan_day(case, effective_from, "from")
    if any(r.effective_from == effective_from for r in case.rate_changes):
        raise DomainError("这一天已有利率调整", code="validation_error", status=422, details={"from": ["这一天已有利率调整"]})
    db.session.add(LoanRateChange(case_id=case.id, effective_from=effective_from, rate_bp=rate_bp))
    return flow.move(case, "change_rate", actor=user, role=role, rate_bp=rate_bp,
                     remark=f"自 {effective_from.isoformat()} 起年利率 {rate_bp / 100:.2f}%")


# --- lists ---------------------------------------------------------------------------------------

def list_query(*, user, state=None, overdue=False, q=None) -> sa.Select:
    """The cases the user owns or handles; late steps first, then the newest."""
    query = visible(sa.select(LoanCase), user)
    if state:
        query = query.where(LoanCase.state == state)
    if overdue:
        query = query.where(LoanCase.step_due_at < flow.utcnow())
    if q:
        query = query.where(_search(q.strip()))
    late = sa.case((LoanCase.step_due_at < flow.utcnow(), 0), else_=1)
    return query.order_by(late, LoanCase.updated_at.desc(), LoanCase.id.desc())


def _search(q: str):
    """A case number (DK…), a whole phone number (matched by its blind index), or part of a name."""
    from backend.accounts.models import User
    from backend.core.pii import blind_index

    number = re.fullmatch(r"(?i)DK\d{8}(\d{1,9})", q)
    if number:
        return LoanCase.id == int(number.group(1))
    if re.fullmatch(r"1\d{10}", q):
        return LoanCase.applicant_id.in_(sa.select(User.id).where(User.phone_hash == blind_index(q)))
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return LoanCase.applicant_id.in_(sa.select(User.id).where(User.name.ilike(f"%{escaped}%", escape="\\")))


def notice_query() -> sa.Select:
    return sa.select(LoanCase).where(LoanCase.state == S.notice).order_by(LoanCase.notice_until, LoanCase.id)


def detail(case: LoanCase, user) -> LoanCase:
    """The case with what this viewer may do now (``actions``) and its documents' state."""
    who = capacities(case, user)
    case.actions = flow.allowed(case, who)
    have = {d.kind for d in case.documents}
    case.required = [{"kind": k.value, "kind_label": k.label, "provided": k in have}
                     for k in rules.required_documents(case, case.rule)]
    return case


def banks_query() -> sa.Select:
    return sa.select(Bank).where(Bank.is_active.is_(True)).order_by(Bank.parent_id.is_not(None), Bank.id)


@accounts.finds_banks  # a bank officer's role is bound to a partner bank that exists
def _bank_for_role(bank_id: int) -> Bank:
    bank = db.session.get(Bank, bank_id)
    if bank is None or not bank.is_active:
        raise NotFound("合作银行不存在", code="bank_not_found")
    return bank


def stations_query() -> sa.Select:
    from backend.places.enums import PlaceKind
    from backend.places.models import Place

    return sa.select(Place).where(Place.kind == PlaceKind.loan_station, Place.is_active.is_(True)).order_by(Place.id)



@uploads.private_when
def _is_loan_document(upload_id: int) -> bool:
    """Loan documents are served to the case's handlers by the case (document()), not to every administrator."""
    return db.session.scalar(sa.select(LoanDocument.id).where(LoanDocument.upload_id == upload_id)) is not None
