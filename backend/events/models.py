"""Events at 喵小创 spaces and the registrations for them (scans at the door: ``checkins.models.Scan``).

``Event.seats_taken`` counts registrations in state ``registered``; it only moves by guarded
UPDATEs in the same transaction as the registration's change, so it never passes ``capacity``."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from backend.core.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from backend.events.enums import ACTIVE_STATES, EventKind, EventState, RegistrationState
from backend.extensions import db


LIVE = "state IN (" + ", ".join(f"'{state.value}'" for state in ACTIVE_STATES) + ")"


class Event(TimestampMixin, db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(sa.ForeignKey("place.id", ondelete="RESTRICT"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind", 16))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    cover_id: Mapped[int | None] = mapped_column(sa.ForeignKey("upload.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    waitlist: Mapped[bool] = mapped_column(default=True)
    approval_required: Mapped[bool] = mapped_column(default=False)
    audience: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # subject_types, districts
    state: Mapped[EventState] = mapped_column(str_enum(EventState, "event_state", 12), default=EventState.draft)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    seats_taken: Mapped[int] = mapped_column(default=0)

    place = relationship("Place", lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.Index(None, "state", "starts_at"),
    )

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def full(self) -> bool:
        """A sign-up now would be turned away: no seat left, and no waitlist or approval queue to join."""
        return self.seats_left == 0 and not self.waitlist and not self.approval_required


class Registration(db.Model):
    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    state: Mapped[RegistrationState] = mapped_column(str_enum(RegistrationState, "registration_state", 12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the earliest door scan's time
    checkin_nonce: Mapped[str | None] = mapped_column(sa.String(64))  # that scan (a checkin_scan nonce)

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    user = relationship("User", foreign_keys=[user_id], lazy="select")

    __table_args__ = (
        sa.Index(None, "event_id", "state", "id"),
        # one live registration per person per event; cancelled ones are history
        sa.Index("uq_registration_live", "event_id", "user_id", unique=True,
                 postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE)),
    )


# live figures for the organiser's list, loaded only where asked for (undefer)
Event.checked_in_count = column_property(
    sa.select(sa.func.count(Registration.checked_in_at)).where(Registration.event_id == Event.id)
    .correlate_except(Registration).scalar_subquery(), deferred=True)
