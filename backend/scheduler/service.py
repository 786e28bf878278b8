"""What the admin screen and the CLI ask of the scheduler: each job's state, the runs, run now."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.core import audit
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.extensions import db
from backend.scheduler import jobs, runner
from backend.scheduler.enums import Outcome, RunTrigger
from backend.scheduler.models import JobRun

FAILURE_WINDOW = timedelta(days=7)


def get_job_or_raise(name: str) -> jobs.Job:
    job = jobs.get(name)
    if job is None:
        raise NotFound("没有这个定时任务", code="job_not_found", details={"job": name})
    return job


def overview(*, now: datetime | None = None) -> list[dict]:
    """Every job with its schedule, next run, last finished run and the failures of the last 7 days."""
    now = now or utcnow()
    last_ids = sa.select(sa.func.max(JobRun.id)).where(JobRun.outcome != Outcome.skipped).group_by(JobRun.job)
    last = {run.job: run for run in db.session.scalars(sa.select(JobRun).where(JobRun.id.in_(last_ids)))}
    failures = dict(db.session.execute(sa.select(JobRun.job, sa.func.count()).where(
        JobRun.outcome == Outcome.failed, JobRun.started_at >= now - FAILURE_WINDOW).group_by(JobRun.job)).all())
    annotate(list(last.values()))
    return [{"job": job.name, "label": job.label, "schedule": job.schedule, "next_run_at": jobs.next_run(job, now),
             "last_run": last.get(job.name), "failures_7d": failures.get(job.name, 0)} for job in jobs.JOBS.values()]


def runs_query(*, job: str | None = None, outcome: Outcome | None = None) -> sa.Select:
    query = sa.select(JobRun).order_by(JobRun.id.desc())
    if job:
        query = query.where(JobRun.job == job)
    if outcome:
        query = query.where(JobRun.outcome == outcome)
    return query


def annotate(runs: list[JobRun]) -> None:
    """Names for people: the job's, who started a manual run, and each count with its label."""
    actor_ids = {run.actor_id for run in runs if run.actor_id is not None}
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    for run in runs:
        job = jobs.get(run.job)
        run.job_label = job.label if job else run.job
        run.actor_name = names.get(run.actor_id) if run.actor_id else None
        run.counts_shown = [{"key": key, "label": jobs.COUNT_LABELS.get(key, key),
                             "value": f"¥{value / 100:,.2f}" if key in jobs.AMOUNTS else str(value)}
                            for key, value in (run.counts or {}).items()]


def run_now(*, actor, name: str) -> JobRun:
    """An administrator runs a job at once (one attempt; the schedule retries its own runs). Audited."""
    job = get_job_or_raise(name)
    audit.record(actor=actor, action="job.run", target_type="job", target_id=job.name, after={"job": job.label})
    entry = runner.run(job.name, trigger=RunTrigger.manual, actor_id=actor.id, delays=())
    annotate([entry])
    return entry
