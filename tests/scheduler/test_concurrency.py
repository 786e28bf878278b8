"""Scheduler processes against a real PostgreSQL database: two (or eight) runners of the same job at
the same moment run it exactly once, and ``flask scheduler run`` is a process that starts and stops."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.core.db import utcnow
from backend.core.localtime import LOCAL
from backend.extensions import db
from backend.scheduler import jobs, process, runner
from backend.scheduler.enums import Outcome
from backend.scheduler.models import JobRun
from backend.vouchers import ledger
from backend.vouchers.models import Voucher
from tests.conftest import TEST_SECRETS
from tests.factories import make_voucher
from tests.vouchers.test_concurrency import committed, pg_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres_only
ROOT = Path(__file__).resolve().parents[2]


def all_runs(app, name):
    with app.app_context():
        rows = db.session.scalars(sa.select(JobRun).where(JobRun.job == name).order_by(JobRun.id)).all()
        return [(r.outcome, r.error, r.counts) for r in rows]


def test_eight_runners_of_one_firing_expire_a_voucher_once(pg_app):  # noqa: F811
    def build():
        voucher = make_voucher()
        voucher.valid_until = utcnow() - timedelta(minutes=1)
        return voucher.id, voucher.balance

    voucher_id, balance = committed(pg_app, build)
    fire, start = datetime(2026, 12, 4, 10, 5, tzinfo=LOCAL), threading.Barrier(8)

    def one_scheduler(_):
        start.wait(timeout=20)
        with pg_app.app_context():
            return runner.run("vouchers_expire", scheduled_for=fire, delays=()).outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one_scheduler, range(8)))
    assert sorted(outcomes).count(Outcome.ok) == 1 and outcomes.count(Outcome.skipped) == 7
    recorded = all_runs(pg_app, "vouchers_expire")
    assert [c for o, _, c in recorded if o == Outcome.ok] == [{"expired": 1, "returned": balance}]
    assert {e for o, e, _ in recorded if o == Outcome.skipped} <= {"另一进程正在运行此任务", "本次定时已由另一进程完成"}
    with pg_app.app_context():
        assert db.session.get(Voucher, voucher_id).expired_at is not None
        assert ledger.check_invariants() == []


def test_a_firing_while_another_process_runs_the_job_is_skipped(pg_app, monkeypatch):  # noqa: F811
    entered, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append(1)
        entered.set()
        assert release.wait(timeout=20)
        return {"notified": 0}

    original = jobs.JOBS["events_remind"]
    monkeypatch.setitem(jobs.JOBS, "events_remind",
                        jobs.Job(original.name, original.label, original.schedule, original.trigger, slow))
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(process.fire, pg_app, "events_remind")
        assert entered.wait(timeout=20)
        running = all_runs(pg_app, "events_remind")
        assert [o for o, _, _ in running] == [Outcome.running]  # seen on the admin screen while it runs
        process.fire(pg_app, "events_remind")  # the second scheduler's firing
        release.set()
        first.result(timeout=20)
    assert len(calls) == 1
    assert [(o, e) for o, e, _ in all_runs(pg_app, "events_remind")] == [
        (Outcome.ok, ""), (Outcome.skipped, "另一进程正在运行此任务")]


def test_the_scheduler_process_starts_lists_its_jobs_and_stops_on_sigterm(pg_app, tmp_path):  # noqa: F811
    env = {**os.environ, **TEST_SECRETS, "DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"],
           "INSTANCE_PATH": str(tmp_path), "FLASK_APP": "backend:create_app", "PYTHONUNBUFFERED": "1"}
    listing = subprocess.run([sys.executable, "-m", "flask", "scheduler", "list"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0] for line in listing.stdout.splitlines()] == list(jobs.JOBS)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "scheduler", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen, deadline = "", time.monotonic() + 60
        while "scheduler started" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "scheduler started: vouchers_expire, vouchers_remind" in seen, seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
