from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import TimestampMixin, str_enum
from backend.extensions import db
from backend.places.enums import PlaceKind


class Place(TimestampMixin, db.Model):
    __tablename__ = "place"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind, "place_kind"), index=True)
    name: Mapped[str] = mapped_column(sa.String(128), index=True)
    district: Mapped[str] = mapped_column(sa.String(12), sa.ForeignKey("region.code", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(sa.String(256), default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    opening_hours: Mapped[str] = mapped_column(sa.String(128), default="")
    services: Mapped[list] = mapped_column(sa.JSON, default=list)
    operator: Mapped[str] = mapped_column(sa.String(128), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        sa.CheckConstraint("lng IS NULL OR (lng BETWEEN -180 AND 180)", name="lng_range"),
    )
