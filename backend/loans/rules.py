"""The rules as data: which row applies to a case, and the pre-check that reads it.

A rule is a row of ``loan_rule`` for a region, a kind of borrower and a date range; the case gets the
most specific region's row in force (its district, then its city, then the province). Cities that
differ add their own rows: nothing here names a city or a number."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backend.core import regions
from backend.extensions import db
from backend.loans.enums import DOCUMENT_LABELS, LENT, BorrowerType, DocumentKind
from backend.loans.models import LoanCase, LoanRule


def in_force(*, region_code: str, borrower_type: BorrowerType, on: date) -> LoanRule | None:
    codes = [code for code, _ in reversed(regions.path(region_code))]  # the district first, the province last
    rows = db.session.scalars(sa.select(LoanRule).where(
        LoanRule.region_code.in_(codes), LoanRule.borrower_type == borrower_type, LoanRule.valid_from <= on,
        sa.or_(LoanRule.valid_to.is_(None), LoanRule.valid_to > on))).all()
    rows.sort(key=lambda r: (codes.index(r.region_code), -r.valid_from.toordinal(), -r.id))
    return rows[0] if rows else None


def _yuan(fen: int) -> str:
    value = fen / 100
    return f"{value / 10000:g} 万元" if fen % 100_0000 == 0 else f"{value:,.2f} 元"


def _result(key: str, label: str, passed: bool, message: str) -> dict:
    return {"key": key, "label": label, "passed": passed, "message": message}


def earlier_loans(case: LoanCase) -> tuple[int, bool]:
    """How many loans the applicant had before this case, and whether any of them ever fell overdue."""
    rows = db.session.execute(sa.select(LoanCase.id, LoanCase.ever_overdue).where(
        LoanCase.applicant_id == case.applicant_id, LoanCase.id != case.id, LoanCase.state.in_(LENT))).all()
    return len(rows), any(overdue for _, overdue in rows)


def required_documents(case: LoanCase, rule: LoanRule | None) -> list[DocumentKind]:
    kinds = [DocumentKind(k) for k in (rule.documents if rule else [])]
    for kind in case.requested_documents or []:
        if DocumentKind(kind) not in kinds:
            kinds.append(DocumentKind(kind))
    return kinds


def precheck(case: LoanCase, *, today: date) -> dict:
    """Each rule of the row in force, passed or failed, in words the applicant reads; what to bring."""
    rule = in_force(region_code=case.region_code, borrower_type=case.borrower_type, on=today)
    if rule is None:
        return {"passed": False, "rule_id": None, "rule_name": None, "bring": [], "results": [
            _result("rule", "适用政策", False, f"{regions.name_of(case.region_code)}暂无在执行的"
                                              f"{case.borrower_type.label}创业担保贷款政策，请咨询驿站专员")]}
    results = []
    if case.amount is None:
        results.append(_result("amount", "贷款额度", False, "请填写申请金额"))
    else:
        ok = case.amount <= rule.max_amount
        results.append(_result("amount", "贷款额度", ok,
                               f"申请 {_yuan(case.amount)}，{case.borrower_type.label}最高 {_yuan(rule.max_amount)}"
                               + ("" if ok else "，请调低金额")))
    if case.term_months is None:
        results.append(_result("term", "贷款期限", False, "请填写贷款期限"))
    else:
        ok = case.term_months <= rule.max_term_months
        results.append(_result("term", "贷款期限", ok, f"申请 {case.term_months} 个月，最长 {rule.max_term_months} 个月"
                               + ("" if ok else "，请缩短期限")))
    count, overdue = earlier_loans(case)
    results.append(_result("times", "贷款次数", count + 1 <= rule.max_times,
                           f"这是第 {count + 1} 笔创业担保贷款，信用良好的最多可贷 {rule.max_times} 次"))
    results.append(_result("credit", "还款记录", not overdue,
                           "此前的创业担保贷款有逾期记录，不能再次申请" if overdue else "此前没有逾期记录"))
    if case.borrower_type == BorrowerType.firm and rule.hire_pct is not None:
        if not case.staff_count or case.new_hires is None:
            results.append(_result("hiring", "吸纳就业", False, "请填写在职职工人数和当年新招用符合条件人员数"))
        else:
            large = rule.large_staff is not None and rule.hire_pct_large is not None and case.staff_count > rule.large_staff
            need = rule.hire_pct_large if large else rule.hire_pct
            share = case.new_hires * 100 / case.staff_count
            ok = case.new_hires * 100 >= need * case.staff_count
            results.append(_result("hiring", "吸纳就业", ok,
                                   f"新招用 {case.new_hires} 人，占职工 {case.staff_count} 人的 {share:.1f}%，"
                                   f"{'超过 ' + str(rule.large_staff) + ' 人的企业' if large else ''}须达到 {need}%"))
    waived = []
    if (rule.youth_max_age is not None and rule.youth_waiver_max is not None and case.age is not None
            and case.age <= rule.youth_max_age and (case.amount or 0) <= rule.youth_waiver_max):
        waived.append(f"{rule.youth_max_age} 岁以下青年贷款不超过 {_yuan(rule.youth_waiver_max)}")
    if rule.incubator_waiver and case.incubator_recommended:
        waived.append("省级创业孵化基地推荐的项目")
    results.append(_result("guarantee", "反担保", True,
                           f"免除反担保（{'；'.join(waived)}）" if waived else "需要提供反担保，经办银行会告知方式"))
    have = {d.kind for d in case.documents}
    bring = [DOCUMENT_LABELS[k] for k in required_documents(case, rule) if k not in have]
    return {"passed": all(r["passed"] for r in results), "rule_id": rule.id, "rule_name": rule.name,
            "results": results, "bring": bring}
