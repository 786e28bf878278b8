"""Phones that make personal codes, phones provisioned as scanners, and the revocation feed
offline scanners keep."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, str_enum, utcnow
from backend.extensions import db


class PersonalDevice(db.Model):
    """A phone's device key (P-256, private part never leaves the phone) and its credential."""

    __tablename__ = "personal_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(33))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credential_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScannerDevice(db.Model):
    """A phone provisioned to scan at one place; it authenticates with its own revocable token."""

    __tablename__ = "scanner_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScannerSetup(db.Model):
    """A one-time setup code (shown as a QR) that provisions one scanner for a place."""

    __tablename__ = "scanner_setup"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scanner_device.id", ondelete="SET NULL"))


class RevocationKind(StrEnum):
    credential = "credential"  # a personal device: its codes are refused
    user_blocked = "user_blocked"  # a person: every code of theirs is refused
    user_restored = "user_restored"  # a blocked person allowed again
    ticket = "ticket"  # an event registration's ticket


class Revocation(db.Model):
    """Append-only feed; its increasing id is the cursor scanners sync from (``since``)."""

    __tablename__ = "revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RevocationKind] = mapped_column(str_enum(RevocationKind, "revocation_kind", 16))
    ref_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index(None, "kind", "ref_id"),)
