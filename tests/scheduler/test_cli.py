"""flask scheduler list | run-once <job> (the long-running `run` is tested in test_concurrency.py)."""
import sqlalchemy as sa

from backend.scheduler import jobs
from backend.scheduler.enums import Outcome, RunTrigger
from backend.scheduler.models import JobRun
from tests.scheduler.test_runner import probe  # noqa: F401 - the fixture


def test_run_once_runs_and_records_the_job(app, session):
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "清理过期验证码与令牌 / cleanup: ok (attempt 1) sms_codes 0, revoked_tokens 0, job_runs 0" in result.output
    entry = session.scalars(sa.select(JobRun).order_by(JobRun.id.desc())).first()
    assert (entry.job, entry.trigger, entry.outcome) == ("cleanup", RunTrigger.cli, Outcome.ok)


def test_run_once_of_a_failing_job_exits_non_zero_and_is_recorded(app, session, probe):  # noqa: F811
    probe(failures=9)
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", "events_remind"])
    assert result.exit_code != 0 and "RuntimeError: 下游服务无响应 #1" in result.output
    assert session.scalars(sa.select(JobRun.outcome).where(JobRun.job == "events_remind")).all() == [Outcome.failed]


def test_run_once_refuses_an_unknown_job(app, session):
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", "nope"])
    assert result.exit_code != 0 and "没有这个定时任务" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0


def test_list_shows_every_job_with_its_next_run(app, session):
    app.test_cli_runner().invoke(args=["scheduler", "run-once", "cleanup"])
    lines = app.test_cli_runner().invoke(args=["scheduler", "list"]).output.splitlines()
    assert [line.split()[0] for line in lines] == list(jobs.JOBS)
    assert all(" next 20" in line for line in lines)
    cleanup = next(line for line in lines if line.startswith("cleanup"))
    assert " last ok " in cleanup and " last never " in lines[0]
