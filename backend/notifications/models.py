from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, utcnow
from backend.extensions import db


class Notification(db.Model):
    """Something a person should see in the app; ``dedupe`` makes sending the same thing twice a no-op."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.String(500), default="")
    link: Mapped[str] = mapped_column(sa.String(128), default="")
    dedupe: Mapped[str | None] = mapped_column(sa.String(96))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index(None, "user_id", "id"), sa.UniqueConstraint("user_id", "dedupe"))
