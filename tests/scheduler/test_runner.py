"""One run of a job: recorded with its counts, retried when it fails (time injected), skipped when
another process holds the job, once per scheduled fire time. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.accounts.models import RevokedToken, SmsCode
from backend.core.db import utcnow
from backend.core.localtime import LOCAL
from backend.extensions import db
from backend.scheduler import jobs, runner
from backend.scheduler.enums import Outcome, RunTrigger
from backend.scheduler.models import JobRun


def runs(name):
    return db.session.scalars(sa.select(JobRun).where(JobRun.job == name).order_by(JobRun.id)).all()


class Probe:
    """A stand-in job: fails the first ``failures`` calls, then reports one count."""

    def __init__(self, failures=0):
        self.failures, self.calls = failures, 0

    def __call__(self):
        self.calls += 1
        db.session.add(SmsCode(phone_hash=f"probe-{self.calls}", code_hash="x", expires_at=utcnow()))
        if self.calls <= self.failures:
            raise RuntimeError(f"下游服务无响应 #{self.calls}")
        return {"notified": self.calls}


@pytest.fixture
def probe(monkeypatch):
    def install(failures=0):
        job = Probe(failures)
        original = jobs.JOBS["events_remind"]
        monkeypatch.setitem(jobs.JOBS, "events_remind", jobs.Job(original.name, original.label, original.schedule,
                                                                  original.trigger, job))
        return job

    return install


def test_a_run_is_recorded_with_its_counts(session):
    now = utcnow()
    user_id = __import__("tests.factories", fromlist=["make_user"]).make_user().id
    session.add_all([SmsCode(phone_hash="old", code_hash="x", expires_at=now - timedelta(minutes=1)),
                     SmsCode(phone_hash="live", code_hash="x", expires_at=now + timedelta(minutes=4)),
                     RevokedToken(jti="gone", user_id=user_id, expires_at=now - timedelta(seconds=1)),
                     RevokedToken(jti="kept", user_id=user_id, expires_at=now + timedelta(days=1))])
    session.flush()
    old = [JobRun(job="vouchers_expire", trigger=RunTrigger.schedule, outcome=outcome, started_at=now - age, counts={},
                  error="") for outcome, age in ((Outcome.skipped, timedelta(days=31)), (Outcome.skipped, timedelta(days=29)),
                                                 (Outcome.ok, timedelta(days=401)), (Outcome.failed, timedelta(days=399)))]
    session.add_all(old)
    session.flush()
    entry = runner.run("cleanup", trigger=RunTrigger.cli, delays=())
    assert (entry.outcome, entry.attempt, entry.trigger) == (Outcome.ok, 1, RunTrigger.cli)
    assert entry.counts == {"sms_codes": 1, "revoked_tokens": 1, "job_runs": 2}
    assert [r.id for r in runs("vouchers_expire")] == [old[1].id, old[3].id]
    assert entry.started_at <= entry.finished_at and entry.error == ""
    assert session.scalars(sa.select(SmsCode.phone_hash)).all() == ["live"]
    assert session.scalars(sa.select(RevokedToken.jti)).all() == ["kept"]


def test_a_failing_job_is_retried_after_the_delays_then_recorded_failed(session, probe):
    job, slept = probe(failures=5), []
    entry = runner.run("events_remind", delays=(30, 120), sleep=slept.append)
    assert slept == [30, 120] and job.calls == 3
    history = runs("events_remind")
    assert [(r.attempt, r.outcome) for r in history] == [(1, Outcome.failed), (2, Outcome.failed), (3, Outcome.failed)]
    assert entry.id == history[-1].id and entry.error == "RuntimeError: 下游服务无响应 #3"
    assert all(r.finished_at is not None and r.counts == {} for r in history)
    # what a failed attempt wrote was rolled back
    assert session.scalar(sa.select(sa.func.count()).select_from(SmsCode).where(SmsCode.phone_hash.like("probe-%"))) == 0


def test_a_retry_that_succeeds_ends_the_run(session, probe):
    job, slept = probe(failures=1), []
    entry = runner.run("events_remind", delays=(30, 120), sleep=slept.append)
    assert slept == [30] and job.calls == 2
    assert [(r.attempt, r.outcome) for r in runs("events_remind")] == [(1, Outcome.failed), (2, Outcome.ok)]
    assert entry.counts == {"notified": 2}
    assert session.scalars(sa.select(SmsCode.phone_hash).where(SmsCode.phone_hash.like("probe-%"))).all() == ["probe-2"]


def test_a_job_running_elsewhere_is_skipped(app, session, probe):
    job = probe()
    if db.engine.dialect.name == "postgresql":  # another scheduler process holds the advisory lock
        other = db.engine.connect()
        other.begin()
        assert other.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": runner.lock_key("events_remind")})
    else:  # another process's run is in progress
        other = None
        session.add(JobRun(job="events_remind", trigger=RunTrigger.schedule, outcome=Outcome.running, started_at=utcnow(),
                           counts={}, error=""))
        session.commit()
    try:
        entry = runner.run("events_remind", delays=(30,), sleep=pytest.fail)
    finally:
        if other is not None:
            other.rollback()
            other.close()
    assert job.calls == 0
    assert (entry.outcome, entry.error) == (Outcome.skipped, "另一进程正在运行此任务")


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted(app, session, probe):
    job = probe()
    stale = JobRun(job="events_remind", trigger=RunTrigger.schedule, outcome=Outcome.running, counts={}, error="",
                   started_at=utcnow() - timedelta(minutes=app.config["SCHEDULER_STALE_MINUTES"] + 1))
    session.add(stale)
    session.commit()
    assert runner.run("events_remind", delays=()).outcome == Outcome.ok and job.calls == 1
    session.refresh(stale)
    assert stale.outcome == Outcome.failed and stale.error.startswith("运行中断")


def test_a_scheduled_fire_time_runs_once(session, probe):
    job, fire = probe(), datetime(2026, 12, 4, 9, 0, tzinfo=LOCAL)
    assert runner.run("events_remind", scheduled_for=fire, delays=()).outcome == Outcome.ok
    second = runner.run("events_remind", scheduled_for=fire, delays=())
    assert (second.outcome, second.error, job.calls) == (Outcome.skipped, "本次定时已由另一进程完成", 1)
    assert runner.run("events_remind", scheduled_for=fire + timedelta(days=1), delays=()).outcome == Outcome.ok


def test_the_month_end_trigger_fires_on_the_last_three_days():
    job = jobs.get("settlement_remind")
    fire, fires = datetime(2027, 1, 1, tzinfo=LOCAL), []
    for _ in range(7):
        fire = job.trigger.get_next_fire_time(fire if fires else None, fire)
        fires.append(fire.strftime("%m-%d %H:%M"))
    assert fires == ["01-29 09:30", "01-30 09:30", "01-31 09:30", "02-26 09:30", "02-27 09:30", "02-28 09:30",
                     "03-29 09:30"]


def test_a_scheduled_run_knows_its_fire_time():
    hourly = jobs.get("vouchers_expire")
    assert jobs.fire_time(hourly, datetime(2026, 12, 4, 10, 5, 0, 300_000, tzinfo=LOCAL)) == \
        datetime(2026, 12, 4, 10, 5, tzinfo=LOCAL)
    assert jobs.fire_time(hourly, datetime(2026, 12, 4, 10, 12, tzinfo=LOCAL)) == datetime(2026, 12, 4, 10, 5, tzinfo=LOCAL)
    assert jobs.next_run(jobs.get("vouchers_remind"), datetime(2026, 12, 4, 9, 1, tzinfo=LOCAL)) == \
        datetime(2026, 12, 5, 9, 0, tzinfo=LOCAL)


def test_each_attempt_is_counted_in_the_metrics(session, probe):
    """scheduler_job_runs_total{job,outcome} and the duration histogram follow job_run (the stack puts the
    scheduler's metrics in app server 1's multiprocess folder, so its /metrics shows them)."""
    from prometheus_client import REGISTRY

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    before = (sample("scheduler_job_runs_total", job="events_remind", outcome="failed"),
              sample("scheduler_job_runs_total", job="events_remind", outcome="ok"),
              sample("scheduler_job_duration_seconds_count", job="events_remind"))
    probe(failures=1)
    runner.run("events_remind", delays=(30,), sleep=lambda seconds: None)
    after = (sample("scheduler_job_runs_total", job="events_remind", outcome="failed"),
             sample("scheduler_job_runs_total", job="events_remind", outcome="ok"),
             sample("scheduler_job_duration_seconds_count", job="events_remind"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 2]
