"""The scheduler process (``flask scheduler run``): APScheduler's BlockingScheduler with each job on its
trigger. Every process may run it; the lock in runner.run makes each fire time run once."""
from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from backend.core.db import utcnow
from backend.core.localtime import LOCAL
from backend.scheduler import jobs, runner
from backend.scheduler.enums import RunTrigger

log = logging.getLogger(__name__)


def fire(app: Flask, name: str) -> None:
    """One scheduled firing of ``name``, in an app context of its own (APScheduler calls it on a worker thread)."""
    with app.app_context():
        try:
            runner.run(name, trigger=RunTrigger.schedule, scheduled_for=jobs.fire_time(jobs.get(name), utcnow()))
        finally:
            from backend.extensions import db

            db.session.remove()


def build(app: Flask) -> BlockingScheduler:
    # coalesce: a process that was down runs a missed job once, not once per missed firing;
    # max_instances=1: a slow run is never overlapped by its next firing in the same process
    scheduler = BlockingScheduler(timezone=LOCAL, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
    for job in jobs.JOBS.values():
        scheduler.add_job(fire, job.trigger, args=(app, job.name), id=job.name, name=job.label)
    return scheduler


def serve(app: Flask) -> None:
    """Run until SIGTERM or Ctrl-C; a run in progress finishes first."""
    scheduler = build(app)

    def stop(signum, _frame):
        log.info("scheduler stopping (signal %s)", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler started: %s", ", ".join(jobs.JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
