from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import TimestampMixin, str_enum
from backend.extensions import db
from backend.programme.enums import Measure


class ProgrammeTarget(TimestampMixin, db.Model):
    """A plan's number for one measure, one year and one region (a GB/T 2260 code: the province, a
    city or a district). Money is integer fen; everything else counts in the measure's unit."""

    __tablename__ = "programme_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    region_code: Mapped[str] = mapped_column(sa.String(6), sa.ForeignKey("region.code", ondelete="RESTRICT"),
                                             index=True)
    measure: Mapped[Measure] = mapped_column(str_enum(Measure, "programme_measure", 24))
    value: Mapped[int] = mapped_column(sa.BigInteger)
    unit: Mapped[str] = mapped_column(sa.String(8))
    plan: Mapped[str] = mapped_column(sa.String(160))
    note: Mapped[str] = mapped_column(sa.String(120), default="")

    __table_args__ = (
        sa.UniqueConstraint("year", "region_code", "measure"),
        sa.CheckConstraint("value >= 0", name="value_nonnegative"),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )
