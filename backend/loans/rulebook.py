"""Administrators keep the rules as data: list the rows their region answers for, add a row (a new
rule from a date, or a city's own), change one. Each change is in the audit log."""
from __future__ import annotations

import sqlalchemy as sa

from backend.accounts import scope
from backend.core import audit
from backend.core.errors import DomainError, NotFound
from backend.extensions import db
from backend.loans.models import LoanRule

FIELDS = ("region_code", "borrower_type", "valid_from", "valid_to", "name", "source", "max_amount", "max_term_months",
          "max_times", "hire_pct", "hire_pct_large", "large_staff", "youth_max_age", "youth_waiver_max",
          "incubator_waiver", "rate_cap_offset_bp", "borrower_offset_bp", "finance_share_pct", "subsidy_loans_from",
          "documents")


def list_query(*, user, region_code=None) -> sa.Select:
    query = sa.select(LoanRule)
    allowed = scope.districts(user)
    if allowed is not None:
        # their own region's rows and the rows above it that apply to it
        from backend.core import regions
        above = {code for home in scope.admin_regions(user) for code, _ in regions.path(home)}
        query = query.where(LoanRule.region_code.in_(sorted(allowed | above)))
    if region_code:
        query = query.where(LoanRule.region_code == region_code)
    return query.order_by(LoanRule.region_code, LoanRule.borrower_type, LoanRule.valid_from.desc(), LoanRule.id)


def get_or_raise(*, user, id: int) -> LoanRule:
    rule = db.session.get(LoanRule, id)
    if rule is None or not scope.sees(rule.region_code, user):
        raise NotFound("贷款规则不存在", code="loan_rule_not_found")
    return rule


def _snapshot(rule: LoanRule) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v))
            for k in FIELDS for v in [getattr(rule, k)]}


def _check(data: dict) -> None:
    if data.get("valid_to") is not None and data["valid_to"] <= data["valid_from"]:
        raise DomainError("失效日期应晚于生效日期", code="validation_error", status=422,
                          details={"valid_to": ["失效日期应晚于生效日期"]})


def create(*, actor, data: dict) -> LoanRule:
    scope.check_region(data["region_code"], user=actor)
    _check(data)
    rule = LoanRule(**{k: v for k, v in data.items() if k in FIELDS})
    db.session.add(rule)
    db.session.flush()
    audit.record(actor=actor, action="loan_rule.create", target_type="loan_rule", target_id=rule.id,
                 after=_snapshot(rule))
    return rule


def update(*, actor, rule: LoanRule, data: dict) -> LoanRule:
    if "region_code" in data:
        scope.check_region(data["region_code"], user=actor)
    before = _snapshot(rule)
    _check({"valid_from": data.get("valid_from", rule.valid_from), "valid_to": data.get("valid_to", rule.valid_to)})
    for key, value in data.items():
        setattr(rule, key, value)
    db.session.flush()
    audit.record_changes(actor=actor, action="loan_rule.update", target_type="loan_rule", target_id=rule.id,
                         before=before, after=_snapshot(rule))
    return rule
