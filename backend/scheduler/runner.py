"""One run of one job, once across every scheduler process: take the job's lock, record the run,
do the work, record how it ended; retry a failed run after the configured delays."""
from __future__ import annotations

import hashlib
import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from backend.core import ops
from backend.core.db import utcnow
from backend.extensions import db
from backend.scheduler import jobs
from backend.scheduler.enums import Outcome, RunTrigger, SkipReason
from backend.scheduler.models import JobRun

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """The job's PostgreSQL advisory lock key: a signed 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"cyql.job:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def _lock(name: str):
    """Whether this process holds the job's lock. PostgreSQL: a transaction-level advisory lock in a
    transaction of its own, on a connection of its own, open while the run lasts; it ends with that
    transaction, so neither a failure here nor a process that dies can leave it held. SQLite: always
    yes here; the unique "running" row ``_attempt`` inserts is the lock."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as conn, conn.begin() as transaction:
        try:
            yield conn.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)})
        finally:
            transaction.rollback()


def run(name: str, *, trigger: RunTrigger = RunTrigger.schedule, actor_id: int | None = None,
        scheduled_for: datetime | None = None, delays=None, sleep=time.sleep) -> JobRun:
    """Run job ``name`` now; returns its last recorded attempt (ok, failed after its retries, or skipped
    because another process is running it or already ran this scheduled time). Commits as it goes."""
    job = jobs.get(name)
    if job is None:
        raise KeyError(name)
    delays = tuple(current_app.config["SCHEDULER_RETRY_DELAYS"] if delays is None else delays)
    with _lock(name) as held:
        if not held:
            return _skipped(name, trigger, actor_id, scheduled_for, SkipReason.running_elsewhere)
        _close_interrupted(name)
        if scheduled_for is not None and db.session.scalar(sa.select(JobRun.id).where(
                JobRun.job == name, JobRun.scheduled_for == scheduled_for, JobRun.outcome.in_(
                    (Outcome.ok, Outcome.failed))).limit(1)) is not None:
            return _skipped(name, trigger, actor_id, scheduled_for, SkipReason.already_ran)
        attempt = 1
        while True:
            entry = _attempt(job, attempt, trigger, actor_id, scheduled_for)
            if entry.outcome != Outcome.failed or attempt > len(delays):
                return entry
            log.warning("job %s failed (attempt %d), retrying in %ss", name, attempt, delays[attempt - 1])
            sleep(delays[attempt - 1])
            attempt += 1


def _close_interrupted(name: str) -> None:
    """Runs left "running" by a process that died. On PostgreSQL whoever holds the lock knows any such
    row is stale; on SQLite only one older than SCHEDULER_STALE_MINUTES is."""
    query = sa.update(JobRun).where(JobRun.job == name, JobRun.outcome == Outcome.running)
    if db.engine.dialect.name != "postgresql":
        stale = utcnow() - timedelta(minutes=current_app.config["SCHEDULER_STALE_MINUTES"])
        query = query.where(JobRun.started_at < stale)
    db.session.execute(query.values(outcome=Outcome.failed, finished_at=utcnow(), error="运行中断：进程在任务完成前退出"))
    db.session.commit()


def _skipped(name, trigger, actor_id, scheduled_for, reason: SkipReason) -> JobRun:
    now = utcnow()
    entry = JobRun(job=name, trigger=trigger, actor_id=actor_id, scheduled_for=scheduled_for, outcome=Outcome.skipped,
                   started_at=now, finished_at=now, counts={}, error=reason.label)
    db.session.add(entry)
    db.session.commit()
    return entry


def _attempt(job: jobs.Job, attempt: int, trigger, actor_id, scheduled_for) -> JobRun:
    entry = JobRun(job=job.name, trigger=trigger, actor_id=actor_id, scheduled_for=scheduled_for,
                   outcome=Outcome.running, attempt=attempt, started_at=utcnow(), counts={}, error="")
    db.session.add(entry)
    try:
        db.session.commit()  # seen as running on the admin screen; on SQLite this row is the lock
    except IntegrityError:
        db.session.rollback()
        return _skipped(job.name, trigger, actor_id, scheduled_for, SkipReason.running_elsewhere)
    run_id = entry.id
    try:
        counts = dict(job.run() or {})
        db.session.commit()
    except Exception as error:  # noqa: BLE001 - any failure of the job is recorded, then retried
        db.session.rollback()
        log.exception("job %s failed (attempt %d)", job.name, attempt)
        return _finish(run_id, Outcome.failed, error=f"{type(error).__name__}: {error}"[:2000])
    return _finish(run_id, Outcome.ok, counts=counts)


def _finish(run_id: int, outcome: Outcome, *, counts: dict | None = None, error: str = "") -> JobRun:
    entry = db.session.get(JobRun, run_id)
    entry.outcome, entry.finished_at, entry.counts, entry.error = outcome, utcnow(), counts or {}, error
    db.session.commit()
    ops.JOB_RUNS.labels(entry.job, outcome.value).inc()
    if entry.started_at is not None:
        ops.JOB_DURATION.labels(entry.job).observe(max((entry.finished_at - entry.started_at).total_seconds(), 0))
    log.info("job %s %s %s", entry.job, outcome.value, entry.counts)
    return entry
