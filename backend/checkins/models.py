"""Visits to streets, markets, spaces and 创贷之家 stations, and every scan that reported one.

A ``Visit`` is what the programme counts: one per person, place and local day. A ``Scan`` is one
item a phone or a scanner sent (keyed by its nonce, so the same upload twice changes nothing); its
result says whether it made the visit, met an existing one, was let through offline although the
server refuses it (*forced*), or was rejected (the failed-scan log). ``conflict`` marks the same
person scanned at the same place and day by two devices while offline, for an administrator to review.

The same ``Scan`` log keeps the scans at an event's door (``channel`` door, with the event and the
registration): one failed-scan log and one review queue for both (``backend/checkins/engine.py``).
A visit (and a registration's check-in) names the scan that made it, the earliest one."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.checkins.enums import Channel, ScanResult, VisitPurpose, VisitSource
from backend.core.db import UTCDateTime, str_enum, utcnow
from backend.extensions import db


class Visit(db.Model):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]  # Asia/Shanghai
    purpose: Mapped[VisitPurpose] = mapped_column(str_enum(VisitPurpose, "visit_purpose", 12))
    source: Mapped[VisitSource] = mapped_column(str_enum(VisitSource, "visit_source", 12))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when scanned (device clock, corrected)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scanner_device.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    offline: Mapped[bool] = mapped_column(default=False)
    forced_reason: Mapped[str | None] = mapped_column(sa.String(32))
    scan_nonce: Mapped[str | None] = mapped_column(sa.String(64))  # the scan that made it: the earliest

    place = relationship("Place", lazy="joined")
    user = relationship("User", foreign_keys=[user_id], lazy="select")

    __table_args__ = (sa.UniqueConstraint("place_id", "user_id", "day"), sa.Index(None, "place_id", "day"),
                      sa.Index(None, "day"))


class Scan(db.Model):
    __tablename__ = "checkin_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "scan_channel", 8), default=Channel.place,
                                             server_default=Channel.place.value)
    result: Mapped[ScanResult] = mapped_column(str_enum(ScanResult, "scan_result", 12))
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    place_id: Mapped[int | None] = mapped_column(sa.ForeignKey("place.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registration.id", ondelete="CASCADE"),
                                                        index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scanner_device.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    purpose: Mapped[VisitPurpose | None] = mapped_column(str_enum(VisitPurpose, "visit_purpose", 12))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(default=False)
    conflict: Mapped[bool] = mapped_column(default=False)
    code_excerpt: Mapped[str] = mapped_column(sa.String(48), default="")  # the start of a rejected code, for review
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(sa.String(200), default="")

    place = relationship("Place", lazy="joined")
    device = relationship("ScannerDevice", lazy="joined")
    staff = relationship("User", foreign_keys=[staff_id], lazy="joined")
    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    event = relationship("Event", lazy="joined")
    registration = relationship("Registration", lazy="select")

    __table_args__ = (sa.Index(None, "result", "id"), sa.Index(None, "conflict", "id"))


class VisitNote(db.Model):
    """Staff's short service note on a visit (e.g. a loan pre-screen)."""

    __tablename__ = "visit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    loan_amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # fen sought
    business_type: Mapped[str] = mapped_column(sa.String(64), default="")
    referred_bank: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def summary(self) -> str:
        """The note in one line, as the visit list and the export show it."""
        parts = [self.text] if self.text else []
        if self.loan_amount:
            parts.append(f"拟贷 {self.loan_amount / 100:,.0f} 元")
        if self.business_type:
            parts.append(f"经营：{self.business_type}")
        if self.referred_bank:
            parts.append(f"推荐至：{self.referred_bank}")
        return "，".join(parts)
