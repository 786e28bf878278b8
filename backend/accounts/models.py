from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.accounts.enums import Role, SubjectType, WechatApp
from backend.core import regions  # noqa: F401  (the region table the grants and profiles point into)
from backend.core.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from backend.core.pii import EncryptedString
from backend.extensions import db


class User(TimestampMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    phone: Mapped[str | None] = mapped_column(EncryptedString)
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id"
    )
    profile: Mapped[EntrepreneurProfile | None] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        seen: dict[str, None] = {}
        for grant in self.grants:
            seen.setdefault(grant.role.value, None)
        return list(seen)

    def has_role(self, *roles: str) -> bool:
        return any(grant.role.value in roles for grant in self.grants)

    @property
    def admin_region(self) -> dict | None:
        """An administrator's region (the province when any grant is province-wide) and the district
        codes inside it (None: every one), for the console to offer only what they may manage."""
        codes = [g.region_code or regions.PROVINCE for g in self.grants if g.role.value == "admin"]
        if not codes:
            return None
        code = regions.PROVINCE if regions.PROVINCE in codes else codes[0]
        inside = None if code == regions.PROVINCE else sorted(set(regions.within(code)) & set(regions.DISTRICTS))
        return {"code": code, "name": regions.REGION_NAMES.get(code, code), "districts": inside}

    @property
    def place_id(self) -> int | None:
        return next((g.place_id for g in self.grants if g.place_id is not None), None)


class RoleGrant(db.Model):
    """A role a person holds, bound to what it is for: a place (station staff, organisers), a provider
    (provider staff), a bank (bank officers) or a region (administrators)."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    place_id: Mapped[int | None] = mapped_column(sa.ForeignKey("place.id", ondelete="CASCADE"), index=True)
    # an administrator's region (GB/T code; a province grant sees everything), a provider staff member's provider
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code", ondelete="RESTRICT"), index=True)
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    # a bank officer's bank (its branches included)
    bank_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loan_bank.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")


class EntrepreneurProfile(TimestampMixin, db.Model):
    __tablename__ = "entrepreneur_profile"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    subject_type: Mapped[SubjectType | None] = mapped_column(str_enum(SubjectType, "subject_type"))
    org_name: Mapped[str | None] = mapped_column(sa.String(128))
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    founded_on: Mapped[date | None]
    district: Mapped[str | None] = mapped_column(sa.String(12), sa.ForeignKey("region.code", ondelete="RESTRICT"))
    id_number: Mapped[str | None] = mapped_column(EncryptedString)
    id_number_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)

    user: Mapped[User] = relationship(back_populates="profile")


class WechatIdentity(db.Model):
    __tablename__ = "wechat_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    app: Mapped[WechatApp] = mapped_column(str_enum(WechatApp, "wechat_app", 8))
    appid: Mapped[str] = mapped_column(sa.String(64))
    openid: Mapped[str] = mapped_column(sa.String(128))
    unionid: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("appid", "openid"),)


class SmsCode(db.Model):
    __tablename__ = "sms_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedToken(db.Model):
    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
