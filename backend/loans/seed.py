"""Reference data: the province's rules and the partner banks (``flask loans seed``, which ``flask
seed-demo`` calls). Idempotent: rows already there, edited or not, stay as they are.

The Shandong rows follow the province's revised measures as reported: individuals up to ¥300,000 for
up to 3 years, small and micro firms up to ¥4,000,000 for up to 2 years; good borrowers up to 3 and
2 loans; a firm qualifies with new eligible hires ≥ 10 % of staff (5 % above 100 staff); no
counter-guarantee for people up to 35 borrowing up to ¥200,000 or for projects a provincial
incubation base recommends; the borrower pays at most LPR − 150 bp and public finance the rest, for
loans from 2021 on. No cap on the rate counted is stated there, so none is set (a row can add one)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backend.extensions import db
from backend.loans.enums import BorrowerType
from backend.loans.models import Bank, LoanRule

WAN = 10000 * 100  # ¥10,000 in fen
SOURCE = "山东省创业担保贷款政策（省修订措施）"
RULES = [
    dict(region_code="370000", borrower_type=BorrowerType.individual, valid_from=date(2021, 1, 1),
         name="山东省个人创业担保贷款", source=SOURCE, max_amount=30 * WAN, max_term_months=36, max_times=3,
         youth_max_age=35, youth_waiver_max=20 * WAN, incubator_waiver=True, borrower_offset_bp=-150,
         finance_share_pct=100, subsidy_loans_from=date(2021, 1, 1),
         documents=["id_card", "identity_proof", "credit_auth"]),
    dict(region_code="370000", borrower_type=BorrowerType.firm, valid_from=date(2021, 1, 1),
         name="山东省小微企业创业担保贷款", source=SOURCE, max_amount=400 * WAN, max_term_months=24, max_times=2,
         hire_pct=10, hire_pct_large=5, large_staff=100, incubator_waiver=True, borrower_offset_bp=-150,
         finance_share_pct=100, subsidy_loans_from=date(2021, 1, 1),
         documents=["id_card", "business_licence", "credit_auth", "hiring_proof"]),
]
BANKS = [("济宁银行", None, "370800"), ("济宁银行任城支行", "济宁银行", "370811"),
         ("中国农业银行济宁分行", None, "370800"), ("曲阜农商银行", None, "370881")]


def seed() -> int:
    added = 0
    for row in RULES:
        exists = db.session.scalar(sa.select(LoanRule.id).where(
            LoanRule.region_code == row["region_code"], LoanRule.borrower_type == row["borrower_type"],
            LoanRule.valid_from == row["valid_from"]))
        if exists is None:
            db.session.add(LoanRule(**row))
            added += 1
    for name, parent, region in BANKS:
        if db.session.scalar(sa.select(Bank.id).where(Bank.name == name)) is None:
            parent_id = db.session.scalar(sa.select(Bank.id).where(Bank.name == parent)) if parent else None
            db.session.add(Bank(name=name, parent_id=parent_id, region_code=region))
            db.session.flush()
            added += 1
    db.session.flush()
    return added


def demo_bank() -> Bank:
    return db.session.scalar(sa.select(Bank).where(Bank.name == BANKS[0][0]))
