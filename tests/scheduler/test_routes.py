"""The 定时任务 admin API: each job's state, the runs (paged, filtered, named in Chinese), run now (audited)."""
from datetime import timedelta

import sqlalchemy as sa

from backend.core.audit import AuditLog
from backend.core.db import utcnow
from backend.scheduler.enums import Outcome, RunTrigger
from backend.scheduler.models import JobRun
from tests.scheduler.test_runner import probe  # noqa: F401 - the fixture


def test_run_now_runs_the_job_records_who_and_is_audited(client, make_user, auth, session):
    admin = make_user("admin", name="周管理")
    answer = client.post("/api/admin/jobs/cleanup/run", headers=auth(admin))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["job"], body["job_label"], body["outcome"], body["outcome_label"]) == (
        "cleanup", "清理过期验证码与令牌", "ok", "成功")
    assert (body["trigger_label"], body["actor_name"]) == ("管理员手动", "周管理")
    assert {c["label"] for c in body["counts_shown"]} == {"清理验证码", "清理注销令牌", "清理运行记录"}
    entry = session.scalars(sa.select(AuditLog).where(AuditLog.action == "job.run")).one()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "job", "cleanup")
    log = client.get("/api/admin/audit-log?action=job", headers=auth(admin)).get_json()
    assert log[0]["action_label"] == "立即运行定时任务"


def test_a_failed_run_now_answers_with_the_failure(client, make_user, auth, probe):  # noqa: F811
    probe(failures=1)
    body = client.post("/api/admin/jobs/events_remind/run", headers=auth(make_user("admin"))).get_json()
    assert (body["outcome"], body["attempt"], body["error"]) == ("failed", 1, "RuntimeError: 下游服务无响应 #1")


def test_unknown_job_and_district_admin_are_refused(client, make_user, auth, session):
    admin = make_user("admin")
    missing = client.post("/api/admin/jobs/nope/run", headers=auth(admin))
    assert (missing.status_code, missing.get_json()["code"]) == (404, "job_not_found")
    district = make_user("admin")
    district.grants[0].region_code = "370811"
    refused = client.post("/api/admin/jobs/cleanup/run", headers=auth(district))
    assert (refused.status_code, refused.get_json()["code"]) == (403, "province_admin_only")
    assert session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "job.run")) == 0


def _run(job, outcome, minutes_ago, **extra):
    start = utcnow() - timedelta(minutes=minutes_ago)
    return JobRun(job=job, trigger=RunTrigger.schedule, outcome=outcome, started_at=start,
                  finished_at=start + timedelta(seconds=2), counts=extra.pop("counts", {}), error=extra.pop("error", ""))


def test_jobs_show_next_run_last_run_and_recent_failures(client, make_user, auth, session):
    session.add_all([_run("vouchers_expire", Outcome.failed, 70, error="OperationalError: 数据库连接中断"),
                     _run("vouchers_expire", Outcome.ok, 10, counts={"expired": 2, "returned": 12345}),
                     _run("vouchers_expire", Outcome.skipped, 9, error="另一进程正在运行此任务"),
                     _run("cleanup", Outcome.failed, 60 * 24 * 8)])  # over a week ago: not a recent failure
    session.flush()
    jobs = client.get("/api/admin/jobs", headers=auth(make_user("admin"))).get_json()["jobs"]
    by_name = {j["job"]: j for j in jobs}
    assert [j["label"] for j in jobs] == ["创业券到期处理", "创业券到期提醒", "活动前一天提醒", "月末结算提醒",
                                          "清理过期验证码与令牌", "贷款案件超时提醒"]
    expire = by_name["vouchers_expire"]
    assert expire["schedule"] == "每小时第 5 分钟" and expire["next_run_at"] > utcnow().isoformat()[:16]
    assert expire["last_run"]["outcome"] == "ok" and expire["failures_7d"] == 1  # a skip is not a last run
    assert expire["last_run"]["counts_shown"] == [{"key": "expired", "label": "到期张数", "value": "2"},
                                                  {"key": "returned", "label": "退回批次金额", "value": "¥123.45"}]
    assert by_name["cleanup"]["failures_7d"] == 0 and by_name["cleanup"]["last_run"]["outcome"] == "failed"
    assert by_name["events_remind"]["last_run"] is None


def test_runs_are_paged_newest_first_and_filtered(client, make_user, auth, session):
    session.add_all([_run("vouchers_expire", Outcome.failed, 30), _run("vouchers_expire", Outcome.ok, 20),
                     _run("cleanup", Outcome.ok, 10)])
    session.flush()
    headers = auth(make_user("admin"))
    every = client.get("/api/admin/job-runs?page_size=2", headers=headers)
    assert [r["job"] for r in every.get_json()] == ["cleanup", "vouchers_expire"]
    assert '"total": 3' in every.headers["X-Pagination"]
    failed = client.get("/api/admin/job-runs?job=vouchers_expire&outcome=failed", headers=headers).get_json()
    assert [(r["job_label"], r["outcome_label"]) for r in failed] == [("创业券到期处理", "失败")]
    bad = client.get("/api/admin/job-runs?outcome=exploded", headers=headers)
    assert (bad.status_code, bad.get_json()["code"]) == (422, "validation_error")
    assert client.get("/api/admin/job-runs?job=nope", headers=headers).status_code == 422
