"""Voucher tables. Amounts are integer fen. A voucher's ``balance`` is a cache of the sum of its
ledger entries, written in the same transaction as each entry under the voucher's row lock; the
entries themselves are append-only."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.core.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from backend.core.errors import DomainError
from backend.core.pii import EncryptedString
from backend.extensions import db
if TYPE_CHECKING:
    from backend.accounts.models import User
from backend.vouchers.enums import (ApplicationState, BatchMode, BatchState, LedgerKind, ProviderStatus,
                                    StatementState)

BATCH_TRANSITIONS = {
    BatchState.draft: {BatchState.active, BatchState.ended},
    BatchState.active: {BatchState.paused, BatchState.ended},
    BatchState.paused: {BatchState.active, BatchState.ended},
    BatchState.ended: set(),
}


class VoucherBatch(TimestampMixin, db.Model):
    """A funded issue of vouchers: budget, face value, what it pays for, who may claim, when."""

    __tablename__ = "voucher_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    district: Mapped[str] = mapped_column(sa.String(12), index=True)
    face_value: Mapped[int] = mapped_column(sa.BigInteger)
    total_count: Mapped[int | None]
    budget: Mapped[int | None] = mapped_column(sa.BigInteger)
    per_person_limit: Mapped[int] = mapped_column(default=1)
    daily_cap: Mapped[int | None]
    claim_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_days: Mapped[int | None]
    categories: Mapped[list] = mapped_column(sa.JSON, default=list)
    co_pay_ratio_bp: Mapped[int] = mapped_column(default=10000)  # share of a bill it may cover, 1/10000
    min_bill: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    eligibility: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # subject_types, max_firm_age_years, districts
    mode: Mapped[BatchMode] = mapped_column(str_enum(BatchMode, "batch_mode", 8), default=BatchMode.claim)
    state: Mapped[BatchState] = mapped_column(str_enum(BatchState, "batch_state", 8), default=BatchState.draft)
    issued_count: Mapped[int] = mapped_column(default=0)
    issued_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    returned_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # unspent value of expired vouchers
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.CheckConstraint("face_value > 0", name="face_value_positive"),
        sa.CheckConstraint("total_count IS NULL OR issued_count <= total_count", name="count_cap"),
        sa.CheckConstraint("budget IS NULL OR issued_amount <= budget", name="budget_cap"),
        sa.CheckConstraint("co_pay_ratio_bp BETWEEN 1 AND 10000", name="ratio_range"),
        sa.CheckConstraint("per_person_limit >= 1", name="limit_positive"),
        sa.CheckConstraint("issued_count >= 0 AND issued_amount >= 0 AND returned_amount >= 0",
                           name="counters_nonnegative"),
        sa.CheckConstraint("returned_amount <= issued_amount", name="returned_within_issued"),
        sa.CheckConstraint("min_bill >= 0", name="min_bill_nonnegative"),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_nonnegative"),
        sa.CheckConstraint("(total_count IS NULL OR total_count >= 0) AND (daily_cap IS NULL OR daily_cap >= 0)"
                           " AND (valid_days IS NULL OR valid_days >= 0)", name="quantities_nonnegative"),
    )

    def transition(self, to: BatchState) -> None:
        """The one place a batch changes state: draft → active ⇄ paused → ended."""
        if to == self.state:
            return
        if to not in BATCH_TRANSITIONS[self.state]:
            raise DomainError("批次当前状态不能变更为该状态", code="invalid_transition", status=409,
                              details={"from": self.state.value, "to": to.value})
        self.state = to

    @property
    def state_label(self) -> str:
        """The state in words; a published batch whose claim window has not opened yet is 即将开放, not 发放中."""
        if self.state == BatchState.active and utcnow() < self.claim_starts_at:
            return "即将开放"
        return self.state.label

    @property
    def cap_count(self) -> int | None:
        """How many vouchers the batch can issue at most (count and budget both bound it)."""
        by_budget = self.budget // self.face_value if self.budget is not None else None
        caps = [c for c in (self.total_count, by_budget) if c is not None]
        return min(caps) if caps else None

    @property
    def remaining(self) -> int | None:
        """How many more it can issue (None: no cap)."""
        return None if self.cap_count is None else max(0, self.cap_count - self.issued_count)


class BatchHolding(db.Model):
    """How many vouchers of a batch one controller (credit code, ID number, or account) holds."""

    __tablename__ = "batch_holding"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_batch.id", ondelete="CASCADE"))
    controller: Mapped[str] = mapped_column(sa.String(80))
    count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("batch_id", "controller"),
                      sa.CheckConstraint("count >= 0", name="count_nonnegative"))


class BatchDay(db.Model):
    """Claims of a batch on one day (Asia/Shanghai), for the daily cap."""

    __tablename__ = "batch_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_batch.id", ondelete="CASCADE"))
    day: Mapped[date]
    count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.UniqueConstraint("batch_id", "day"),
                      sa.CheckConstraint("count >= 0", name="count_nonnegative"))


class Voucher(db.Model):
    __tablename__ = "voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_batch.id", ondelete="RESTRICT"), index=True)
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    face_value: Mapped[int] = mapped_column(sa.BigInteger)
    balance: Mapped[int] = mapped_column(sa.BigInteger)
    claim_key: Mapped[str | None] = mapped_column(sa.String(64))
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voucher_application.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[VoucherBatch] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("balance >= 0 AND balance <= face_value", name="balance_range"),
        sa.CheckConstraint("face_value > 0", name="face_value_positive"),
        sa.UniqueConstraint("holder_id", "claim_key"),
    )


class LedgerEntry(db.Model):
    """Append-only: issue (+face), redeem (−), reverse (+), expire (−what was left). The database
    refuses UPDATE and DELETE itself (triggers, migration d4e1c0de0003); the ORM hook below only
    fails earlier, with a Python error, for code that goes through the unit of work."""

    __tablename__ = "voucher_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind, "ledger_kind", 8))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    redemption_id: Mapped[int | None] = mapped_column(sa.ForeignKey("redemption.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("balance_after >= 0", name="balance_after_nonnegative"),
        sa.CheckConstraint("(kind IN ('issue', 'reverse') AND amount >= 0)"
                           " OR (kind IN ('redeem', 'expire') AND amount <= 0)", name="amount_sign"),
    )


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("voucher_ledger is append-only")


class Provider(TimestampMixin, db.Model):
    """A 服务机构: landlord/incubator (rent) or service firm, reviewed, on public notice, then listed."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), index=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    categories: Mapped[list] = mapped_column(sa.JSON, default=list)
    district: Mapped[str] = mapped_column(sa.String(12), sa.ForeignKey("region.code", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(sa.String(256), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(64), default="")
    contact_phone: Mapped[str | None] = mapped_column(EncryptedString)
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ProviderStatus] = mapped_column(str_enum(ProviderStatus, "provider_status", 12),
                                                   default=ProviderStatus.pending, index=True)
    status_reason: Mapped[str] = mapped_column(sa.String(256), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # end of the public notice
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    @hybrid_method
    def listed(self, now: datetime) -> bool:
        """In the catalogue, so vouchers may pay it: approved, and its public notice is over. The one
        rule, in Python and (below) in SQL."""
        return self.status == ProviderStatus.approved and self.listed_at is not None and self.listed_at <= now

    @listed.inplace.expression
    @classmethod
    def _listed_expression(cls, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status == ProviderStatus.approved, cls.listed_at.is_not(None), cls.listed_at <= now)

    @hybrid_method
    def on_notice(self, now: datetime) -> bool:
        """Approved, but still on public notice (objections open), not yet in the catalogue."""
        return self.status == ProviderStatus.approved and not self.listed(now)

    @on_notice.inplace.expression
    @classmethod
    def _on_notice_expression(cls, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status == ProviderStatus.approved, sa.or_(cls.listed_at.is_(None), cls.listed_at > now))

    def public_status(self, now: datetime) -> str:
        if self.status == ProviderStatus.approved:
            return "listed" if self.listed(now) else "notice"
        return self.status.value


class ProviderMember(db.Model):
    """Provider staff belong to one provider."""

    __tablename__ = "provider_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderObjection(db.Model):
    """An objection raised during a provider's public notice."""

    __tablename__ = "provider_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoucherApplication(TimestampMixin, db.Model):
    __tablename__ = "voucher_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_batch.id", ondelete="RESTRICT"), index=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    state: Mapped[ApplicationState] = mapped_column(str_enum(ApplicationState, "application_state", 12),
                                                    default=ApplicationState.pending, index=True)
    statement: Mapped[str] = mapped_column(sa.Text, default="")
    upload_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    decision_reason: Mapped[str] = mapped_column(sa.String(256), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[VoucherBatch] = relationship(lazy="joined")
    # for the review list: every applicant (and profile) on a page in one extra query each
    applicant: Mapped[User] = relationship("User", foreign_keys=[applicant_id], viewonly=True, lazy="selectin")


class PayScan(db.Model):
    """A pay code (付款码) consumed by a cashier's scan. A pay code is single-use, as WeChat Pay's is:
    the phone's device and the second the code was made identify it (its ECDSA signature is not
    unique: the same code can be re-signed or its signature's ``s`` negated), and the unique pair
    makes the first scan win on any number of app servers. The scan authorises one redemption."""

    __tablename__ = "pay_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("personal_device.id", ondelete="CASCADE"))
    code_ts: Mapped[int] = mapped_column(sa.BigInteger)  # when the phone made the code, Unix seconds
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("device_id", "code_ts"),)


class Redemption(db.Model):
    """One use of a voucher at a provider (核销); reversed in place, settled by a statement."""

    __tablename__ = "redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher.id", ondelete="RESTRICT"), index=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="RESTRICT"), index=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"))
    holder_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    category: Mapped[str] = mapped_column(sa.String(16))
    bill_amount: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"))
    reverse_reason: Mapped[str] = mapped_column(sa.String(256), default="")
    statement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("settlement_statement.id", ondelete="RESTRICT"),
                                                     index=True)
    # the scan of the pay code that authorised it: one scan, one payment (unique); empty on older rows
    scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pay_scan.id", ondelete="RESTRICT"), unique=True)

    voucher: Mapped[Voucher] = relationship(lazy="joined")
    # for lists of receipts: every holder on a page in one extra query, not one query per row
    holder: Mapped[User] = relationship("User", foreign_keys=[holder_id], viewonly=True, lazy="selectin")
    # loaded when read (receipts name the provider); many rows of one provider cost one query
    provider: Mapped[Provider] = relationship(viewonly=True, lazy="select")

    __table_args__ = (
        sa.UniqueConstraint("staff_id", "idempotency_key"),
        sa.CheckConstraint("amount > 0 AND amount <= bill_amount", name="amount_range"),
    )

    @property
    def receipt_no(self) -> str:
        return f"HX{self.id:012d}"  # from the id alone: it never changes


class SettlementStatement(TimestampMixin, db.Model):
    """A provider's monthly statement: what it redeemed minus what it reversed, for reimbursement."""

    __tablename__ = "settlement_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM, Asia/Shanghai
    state: Mapped[StatementState] = mapped_column(str_enum(StatementState, "statement_state", 12),
                                                  default=StatementState.submitted, index=True)
    redemption_count: Mapped[int] = mapped_column(default=0)
    redeemed_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reversed_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    net_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(256), default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("provider_id", "month"),
        sa.CheckConstraint("redemption_count >= 0 AND redeemed_total >= 0 AND reversed_total >= 0",
                           name="totals_nonnegative"),
        sa.CheckConstraint("reversed_total <= redeemed_total", name="reversed_within_redeemed"),
        sa.CheckConstraint("net_total = redeemed_total - reversed_total", name="net_is_difference"),
    )
