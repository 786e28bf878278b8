"""创业担保贷款: partner banks, the rules as rows, cases with their timeline, documents, the loan's
repayments and rate changes, and the banks' quarterly interest statements with the subsidy computed.
Money is integer fen, rates integer basis points."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.core.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from backend.extensions import db
from backend.loans.enums import BorrowerType, CaseState, DocumentKind, IdentityCategory, StatementState


class Bank(db.Model):
    """A partner bank (a head office) or one of its branches (``parent_id``). A bank officer bound to a
    bank sees the cases referred to it and to its branches."""

    __tablename__ = "loan_bank"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loan_bank.id", ondelete="RESTRICT"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), sa.ForeignKey("region.code", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped["Bank | None"] = relationship(remote_side=[id])


class LoanRule(TimestampMixin, db.Model):
    """Eligibility, terms and the interest subsidy for one kind of borrower in one region from a date.
    The rule for a case is the most specific region's row in force on the day (district → city →
    province). Null limits are not checked."""

    __tablename__ = "loan_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), sa.ForeignKey("region.code", ondelete="RESTRICT"),
                                             index=True)
    borrower_type: Mapped[BorrowerType] = mapped_column(str_enum(BorrowerType, "loan_borrower_type", 12))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]  # exclusive
    name: Mapped[str] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.String(160), default="")
    max_amount: Mapped[int] = mapped_column(sa.BigInteger)
    max_term_months: Mapped[int] = mapped_column(sa.SmallInteger)
    max_times: Mapped[int] = mapped_column(sa.SmallInteger)  # loans a good borrower may have, this one included
    hire_pct: Mapped[int | None] = mapped_column(sa.SmallInteger)  # firms: new eligible hires ≥ this % of staff
    hire_pct_large: Mapped[int | None] = mapped_column(sa.SmallInteger)  # … above large_staff staff
    large_staff: Mapped[int | None] = mapped_column(sa.SmallInteger)
    youth_max_age: Mapped[int | None] = mapped_column(sa.SmallInteger)
    youth_waiver_max: Mapped[int | None] = mapped_column(sa.BigInteger)  # counter-guarantee waived up to
    incubator_waiver: Mapped[bool] = mapped_column(default=False)
    rate_cap_offset_bp: Mapped[int | None] = mapped_column(sa.SmallInteger)  # rate counted ≤ LPR + this
    borrower_offset_bp: Mapped[int | None] = mapped_column(sa.SmallInteger)  # borrower pays ≤ LPR + this
    finance_share_pct: Mapped[int] = mapped_column(sa.SmallInteger)
    subsidy_loans_from: Mapped[date | None]  # only loans disbursed from this day get the subsidy
    documents: Mapped[list] = mapped_column(sa.JSON, default=list)  # DocumentKind values required

    __table_args__ = (
        sa.CheckConstraint("max_amount > 0", name="max_amount_positive"),
        sa.CheckConstraint("max_term_months BETWEEN 1 AND 120", name="term_range"),
        sa.CheckConstraint("finance_share_pct BETWEEN 0 AND 100", name="share_range"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
    )


class LoanCase(TimestampMixin, db.Model):
    __tablename__ = "loan_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    station_id: Mapped[int | None] = mapped_column(sa.ForeignKey("place.id", ondelete="RESTRICT"), index=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id", ondelete="SET NULL"))
    region_code: Mapped[str] = mapped_column(sa.String(6), sa.ForeignKey("region.code", ondelete="RESTRICT"),
                                             index=True)
    bank_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loan_bank.id", ondelete="RESTRICT"), index=True)
    state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "loan_case_state", 16), index=True)
    version: Mapped[int] = mapped_column(default=1)
    # the application
    borrower_type: Mapped[BorrowerType] = mapped_column(str_enum(BorrowerType, "loan_borrower_type", 12))
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # None until the application says
    term_months: Mapped[int | None] = mapped_column(sa.SmallInteger)
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    business: Mapped[str] = mapped_column(sa.String(200), default="")
    identity_category: Mapped[IdentityCategory] = mapped_column(
        str_enum(IdentityCategory, "loan_identity_category", 12))
    age: Mapped[int | None] = mapped_column(sa.SmallInteger)
    org_name: Mapped[str] = mapped_column(sa.String(128), default="")
    staff_count: Mapped[int | None]
    new_hires: Mapped[int | None]
    incubator_recommended: Mapped[bool] = mapped_column(default=False)
    # the pre-check and the handlers' steps
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loan_rule.id", ondelete="RESTRICT"))
    precheck: Mapped[dict | None] = mapped_column(sa.JSON)
    precheck_passed: Mapped[bool] = mapped_column(default=False)
    requested_documents: Mapped[list] = mapped_column(sa.JSON, default=list)
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    notice_until: Mapped[date | None]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")  # why rejected or withdrawn
    # the loan, once the bank pays it out
    approved_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    rate_bp: Mapped[int | None] = mapped_column(sa.SmallInteger)
    lpr_bp: Mapped[int | None] = mapped_column(sa.SmallInteger)
    loan_term_months: Mapped[int | None] = mapped_column(sa.SmallInteger)
    disbursed_on: Mapped[date | None]
    matures_on: Mapped[date | None]
    guarantee: Mapped[str] = mapped_column(sa.String(120), default="")
    outstanding: Mapped[int | None] = mapped_column(sa.BigInteger)
    extension_until: Mapped[date | None]
    ever_overdue: Mapped[bool] = mapped_column(default=False)

    applicant = relationship("User", foreign_keys=[applicant_id])
    station = relationship("Place", foreign_keys=[station_id])
    bank: Mapped[Bank | None] = relationship()
    rule: Mapped[LoanRule | None] = relationship()
    events: Mapped[list["LoanEvent"]] = relationship(order_by="LoanEvent.id", back_populates="case")
    documents: Mapped[list["LoanDocument"]] = relationship(order_by="LoanDocument.id")
    repayments: Mapped[list["LoanRepayment"]] = relationship(order_by="(LoanRepayment.paid_on, LoanRepayment.id)")
    rate_changes: Mapped[list["LoanRateChange"]] = relationship(order_by="LoanRateChange.effective_from")
    pauses: Mapped[list["LoanPause"]] = relationship(order_by="LoanPause.start")

    @property
    def number(self) -> str:
        """The case number people quote: DK, the day it was opened (Beijing time), the id."""
        from backend.core.localtime import LOCAL
        return f"DK{self.created_at.astimezone(LOCAL):%Y%m%d}{self.id:05d}"

    __table_args__ = (
        sa.CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        sa.CheckConstraint("term_months IS NULL OR term_months BETWEEN 1 AND 120", name="term_range"),
        sa.CheckConstraint("outstanding IS NULL OR outstanding >= 0", name="outstanding_nonnegative"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )


class LoanEvent(db.Model):
    """One step of a case's timeline: what happened, who did it, when, and their remark."""

    __tablename__ = "loan_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "loan_case_state", 16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(sa.String(20), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remark: Mapped[str] = mapped_column(sa.String(200), default="")

    case: Mapped[LoanCase] = relationship(back_populates="events")
    actor = relationship("User")


class LoanDocument(db.Model):
    __tablename__ = "loan_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "loan_document_kind", 20))
    upload_id: Mapped[int] = mapped_column(sa.ForeignKey("upload.id", ondelete="RESTRICT"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    upload = relationship("Upload")


class LoanRepayment(db.Model):
    __tablename__ = "loan_repayment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date]
    principal: Mapped[int] = mapped_column(sa.BigInteger)
    interest: Mapped[int] = mapped_column(sa.BigInteger)
    recorded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (sa.CheckConstraint("principal >= 0 AND interest >= 0", name="amounts_nonnegative"),)


class LoanRateChange(db.Model):
    __tablename__ = "loan_rate_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date]
    rate_bp: Mapped[int] = mapped_column(sa.SmallInteger)

    __table_args__ = (sa.UniqueConstraint("case_id", "effective_from"),
                      sa.CheckConstraint("rate_bp BETWEEN 0 AND 3600", name="rate_range"))


class LoanPause(db.Model):
    """A period without subsidy: overdue (until cured) or the extension."""

    __tablename__ = "loan_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # overdue | extension
    start: Mapped[date]
    end: Mapped[date | None]  # exclusive; None while it lasts


class SubsidyStatement(TimestampMixin, db.Model):
    """A bank's interest statement for one quarter, with the subsidy computed per loan by the rule in
    force; approved, then marked paid, by an administrator."""

    __tablename__ = "loan_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_bank.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger)
    state: Mapped[StatementState] = mapped_column(str_enum(StatementState, "loan_statement_state", 12))
    interest: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    subsidy: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    submitted_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bank: Mapped[Bank] = relationship()
    lines: Mapped[list["SubsidyLine"]] = relationship(order_by="SubsidyLine.id")

    __table_args__ = (sa.UniqueConstraint("bank_id", "year", "quarter"),
                      sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"))


class SubsidyLine(db.Model):
    __tablename__ = "loan_statement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_statement.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_case.id", ondelete="RESTRICT"), index=True)
    interest: Mapped[int] = mapped_column(sa.BigInteger)  # as the bank reports it
    computed_interest: Mapped[int] = mapped_column(sa.BigInteger)  # by our records
    subsidy: Mapped[int] = mapped_column(sa.BigInteger)
    days: Mapped[int] = mapped_column(sa.SmallInteger)
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    case: Mapped[LoanCase] = relationship()

    __table_args__ = (sa.UniqueConstraint("statement_id", "case_id"),
                      sa.CheckConstraint("subsidy >= 0 AND subsidy <= interest", name="subsidy_within_interest"))
