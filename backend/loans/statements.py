"""The banks' quarterly interest statements and the subsidy public finance pays on them.

A bank officer hands in, for a finished quarter, the interest each of its loans was charged; for every
loan the subsidy is computed by the rule in force when it was lent (``subsidy.compute``: exact
fractions, rounded once per loan to fen), never more than the interest the bank reports; an
administrator checks and approves it, then marks it paid."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backend.accounts import scope
from backend.accounts.enums import Role
from backend.core import audit, tables
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.extensions import db
from backend.loans import flow, rules, subsidy
from backend.loans.access import bank_ids
from backend.loans.enums import StatementState
from backend.loans.models import Bank, LoanCase, SubsidyLine, SubsidyStatement


def terms_of(rule) -> subsidy.SubsidyTerms:
    return subsidy.SubsidyTerms(rate_cap_offset_bp=rule.rate_cap_offset_bp, borrower_offset_bp=rule.borrower_offset_bp,
                                finance_share_pct=rule.finance_share_pct)


def facts_of(case: LoanCase) -> subsidy.LoanFacts:
    """What our records say about a loan, as the arithmetic wants it. An extended loan runs (and
    charges interest) to the extension's end; the extension itself is a period without subsidy."""
    return subsidy.LoanFacts(
        lpr_bp=case.lpr_bp, principal=case.approved_amount, disbursed_on=case.disbursed_on,
        matures_on=case.extension_until or case.matures_on,
        rates=tuple((r.effective_from, r.rate_bp) for r in case.rate_changes),
        repayments=tuple((r.paid_on, r.principal) for r in case.repayments if r.principal),
        no_subsidy=tuple((p.start, p.end) for p in case.pauses))


def line_for(case: LoanCase, *, interest: int, start: date, end: date) -> SubsidyLine:
    rule = case.rule or rules.in_force(region_code=case.region_code, borrower_type=case.borrower_type,
                                       on=case.disbursed_on)
    try:
        result = subsidy.compute(terms_of(rule), facts_of(case), start, end) if rule else None
    except ValueError as error:  # the loan's own records do not add up (e.g. a repayment before disbursement)
        raise DomainError(f"贷款 {case.number} 的记录有误：{error}", code="loan_records_invalid", status=422,
                          details={"case_id": case.id}) from error
    notes = []
    amount = result.subsidy if result else 0
    if rule is None:
        notes.append("没有适用的贴息政策")
    elif rule.subsidy_loans_from and case.disbursed_on < rule.subsidy_loans_from:
        amount = 0
        notes.append(f"{rule.subsidy_loans_from.isoformat()} 前发放的贷款不贴息")
    if result and abs(result.interest - interest) > 100:
        notes.append(f"银行申报利息与测算利息 {result.interest / 100:,.2f} 元不符，请核对")
    if amount > interest:
        notes.append(f"贴息以申报利息为限（测算 {amount / 100:,.2f} 元）")
        amount = interest
    if result and result.days and not notes:
        notes.append(result.describe())
    return SubsidyLine(case_id=case.id, interest=interest, computed_interest=result.interest if result else 0,
                       subsidy=amount, days=result.days if result else 0, note="；".join(notes)[:200])


def submit(*, user, year: int, quarter: int, lines: list[dict]) -> SubsidyStatement:
    own = sorted(g.bank_id for g in user.grants if g.role == Role.bank_staff and g.bank_id is not None)
    if not own:
        raise Forbidden("您没有绑定合作银行", code="forbidden")
    start, end = subsidy.quarter(year, quarter)
    if end > flow.today():
        raise DomainError("季度结束后才能报送利息清单", code="quarter_not_over", status=409)
    bank_id = own[0]
    if db.session.scalar(sa.select(SubsidyStatement.id).where(SubsidyStatement.bank_id == bank_id,
                                                              SubsidyStatement.year == year,
                                                              SubsidyStatement.quarter == quarter)):
        raise DomainError(f"{year} 年第 {quarter} 季度的利息清单已报送", code="statement_exists", status=409)
    ids = [line["case_id"] for line in lines]
    if len(set(ids)) != len(ids):
        raise DomainError("同一笔贷款只能出现一次", code="validation_error", status=422,
                          details={"lines": ["同一笔贷款只能出现一次"]})
    cases = {c.id: c for c in db.session.scalars(sa.select(LoanCase).where(
        LoanCase.id.in_(ids), LoanCase.bank_id.in_(sorted(bank_ids(user)))))}
    statement = SubsidyStatement(bank_id=bank_id, year=year, quarter=quarter, state=StatementState.submitted,
                                 submitted_by=user.id)
    for index, line in enumerate(lines):
        case = cases.get(line["case_id"])
        if case is None or case.disbursed_on is None or case.disbursed_on >= end:
            raise DomainError("清单中有不属于本行或本季度未放款的贷款", code="validation_error", status=422,
                              details={"lines": {str(index): ["不是本行在本季度内的贷款"]}})
        statement.lines.append(line_for(case, interest=line["interest"], start=start, end=end))
    statement.interest = sum(line.interest for line in statement.lines)
    statement.subsidy = sum(line.subsidy for line in statement.lines)
    db.session.add(statement)
    db.session.flush()
    return statement


def _visible(query: sa.Select, user) -> sa.Select:
    conditions = []
    banks = bank_ids(user)
    if banks:
        conditions.append(SubsidyStatement.bank_id.in_(sorted(banks)))
    if user.has_role(Role.admin.value):
        allowed = scope.districts(user)
        conditions.append(sa.true() if allowed is None else SubsidyStatement.bank_id.in_(
            sa.select(Bank.id).where(Bank.region_code.in_(sorted(allowed)))))
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


def list_query(*, user, state=None) -> sa.Select:
    query = _visible(sa.select(SubsidyStatement), user)
    if state:
        query = query.where(SubsidyStatement.state == state)
    return query.order_by(SubsidyStatement.year.desc(), SubsidyStatement.quarter.desc(), SubsidyStatement.id.desc())


def get(*, user, id: int, lock: bool = False) -> SubsidyStatement:
    query = _visible(sa.select(SubsidyStatement).where(SubsidyStatement.id == id), user)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    statement = db.session.scalar(query)
    if statement is None:
        raise NotFound("利息清单不存在", code="statement_not_found")
    return statement


def decide(*, user, id: int, action: str) -> SubsidyStatement:
    """approve (submitted → approved) or pay (approved → paid), administrators only, in the error shape."""
    if not user.has_role(Role.admin.value):
        raise Forbidden("没有权限执行此操作", code="forbidden")
    statement = get(user=user, id=id, lock=True)
    source, target = {"approve": (StatementState.submitted, StatementState.approved),
                      "pay": (StatementState.approved, StatementState.paid)}[action]
    moved = db.session.execute(sa.update(SubsidyStatement).where(
        SubsidyStatement.id == statement.id, SubsidyStatement.state == source).values(
        state=target, **({"approved_at": flow.utcnow()} if action == "approve" else {"paid_at": flow.utcnow()}))
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise DomainError(f"清单当前为“{statement.state.label}”，不能{'审核' if action == 'approve' else '拨付'}",
                          code="statement_state_changed", status=409)
    audit.record(actor=user, action=f"loan_statement.{action}", target_type="loan_statement", target_id=statement.id,
                 before={"state": source.value}, after={"state": target.value, "subsidy": statement.subsidy})
    db.session.refresh(statement)
    return statement


def export(statement: SubsidyStatement):
    rows = [[line.case.number, line.case.applicant.name, line.interest / 100, line.computed_interest / 100,
             line.subsidy / 100, line.days, line.note] for line in statement.lines]
    rows.append(["合计", "", statement.interest / 100, sum(l.computed_interest for l in statement.lines) / 100,
                 statement.subsidy / 100, "", ""])
    return tables.export(name=f"loan-subsidy-{statement.year}Q{statement.quarter}-{statement.bank_id}",
                         header=["案件编号", "借款人", "申报利息（元）", "测算利息（元）", "贴息（元）", "贴息天数", "说明"],
                         rows=rows, fmt="xlsx", title=f"{statement.bank.name} {statement.year} 年第 {statement.quarter} 季度贴息清单",
                         widths=[20, 12, 16, 16, 14, 10, 60], sheet="贴息清单")
