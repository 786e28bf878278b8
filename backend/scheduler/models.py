from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, str_enum, utcnow
from backend.extensions import db
from backend.scheduler.enums import Outcome, RunTrigger


class JobRun(db.Model):
    """One attempt of one scheduled job: when, how it ended, what it did (counts) or why it failed."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(32))
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger, "job_run_trigger", 12))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "job_run_outcome", 12), index=True)
    attempt: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the fire time a scheduled run is for
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.Index(None, "job", "started_at"),
        # at most one run of a job in progress: the lock on SQLite, a second guard on PostgreSQL
        sa.Index("uq_job_run_job_running", "job", unique=True,
                 sqlite_where=sa.text("outcome = 'running'"), postgresql_where=sa.text("outcome = 'running'")),
        sa.CheckConstraint("attempt >= 1", name="attempt_positive"),
    )


SKIPPED_KEPT, RUNS_KEPT = timedelta(days=30), timedelta(days=400)


def purge_old_runs(*, now: datetime | None = None) -> int:
    """The job_run table stays small: skipped runs are kept 30 days, the others about a year and a month."""
    now = now or utcnow()
    return db.session.execute(sa.delete(JobRun).where(sa.or_(
        sa.and_(JobRun.outcome == Outcome.skipped, JobRun.started_at < now - SKIPPED_KEPT),
        sa.and_(JobRun.outcome != Outcome.running, JobRun.started_at < now - RUNS_KEPT)))).rowcount
