"""The scheduler process (``flask scheduler run``): APScheduler's BlockingScheduler with each job on its
trigger. Every process may run it; the lock in runner.run makes each fire time run once."""
from __future__ import annotations

import logging
import signal
import threading

from apscheduler.events import EVENT_SCHEDULER_STARTED
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
    """Run until SIGTERM or Ctrl-C. The loop stops at once; a run in progress finishes first (the
    interpreter joins the executor's threads before it exits)."""
    scheduler, stopping = build(app), threading.Event()

    def stop(signum, _frame):
        stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    def started(_event):
        if stopping.is_set():  # the signal came while start() was still setting up
            scheduler.shutdown(wait=False)
            return
        log.info("scheduler started: %s", ", ".join(jobs.JOBS))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    scheduler.start()
    log.info("scheduler stopped")
