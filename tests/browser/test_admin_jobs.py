"""定时任务 in Chromium: the province administrator opens it from the console's 系统管理 section, sees
each job with its schedule and next run, a failed run standing out with its error, runs a job now
(confirmed, then its counts), and filters the runs by outcome. Screenshots at 390 and 1280 px."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import demo_login

DESKTOP = {"width": 1280, "height": 900}


def seed_failed_run(database_url: str):
    """A failed scheduled run of the voucher reminders an hour ago, as the scheduler process records it."""
    engine = sa.create_engine(database_url)
    started = datetime.now(timezone.utc) - timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO job_run (job, \"trigger\", outcome, attempt, started_at, finished_at, counts, error) "
            "VALUES ('vouchers_remind', 'schedule', 'failed', 3, :s, :f, '{}', :e)"),
            {"s": started, "f": started + timedelta(seconds=2), "e": "OperationalError: 数据库连接中断"})
    engine.dispose()


def test_admin_sees_the_jobs_runs_one_now_and_filters_the_runs(page, shot, live_server, live_database_url):
    live_server.flask("scheduler", "run-once", "cleanup")
    seed_failed_run(live_database_url)
    demo_login(page, "admin")
    page.goto("/#/admin")
    page.get_by_test_id("admin-jobs").click()
    expect(page.get_by_test_id("page-admin-jobs")).to_be_visible()

    expire = page.get_by_test_id("job-vouchers_expire")
    expect(expire).to_contain_text("每小时第 5 分钟")
    expect(expire.get_by_test_id("job-outcome")).to_have_text("尚未运行")
    expect(expire.get_by_test_id("job-next")).to_have_text(re.compile(r"^20\d\d-\d\d-\d\d \d\d:05$"))
    cleanup = page.get_by_test_id("job-cleanup")
    expect(cleanup.get_by_test_id("job-outcome")).to_have_text("成功")
    expect(cleanup.get_by_test_id("job-last")).to_contain_text("命令行")
    failed = page.get_by_test_id("job-vouchers_remind")
    expect(failed).to_have_class(re.compile("jobs__card_failed"))
    expect(failed.get_by_test_id("job-error")).to_have_text("OperationalError: 数据库连接中断")
    expect(failed.get_by_test_id("job-failures")).to_have_text("近 7 天失败 1 次")
    expect(page.get_by_test_id("jobs-attention")).to_contain_text("1 项任务近期运行失败")
    expect(page.get_by_test_id("runs-total")).to_have_text("共 2 条记录")
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=6000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "admin-jobs-390")

    # run the voucher expiry now: confirmed first, then the card shows the run and the list gains it
    page.get_by_test_id("run-vouchers_expire").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("立即运行“创业券到期处理”？")
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("toast")).to_contain_text("创业券到期处理已完成：到期张数 0 · 退回批次金额 ¥0.00")
    expect(expire.get_by_test_id("job-outcome")).to_have_text("成功")
    expect(expire.get_by_test_id("job-last")).to_contain_text("管理员手动")
    expect(page.get_by_test_id("runs-total")).to_have_text("共 3 条记录")
    expect(page.get_by_test_id("job-run").first).to_contain_text("管理员手动（")

    page.get_by_test_id("runs-outcome-failed").click()
    expect(page.get_by_test_id("runs-total")).to_have_text("共 1 条记录")
    expect(page.get_by_test_id("job-run")).to_contain_text("第 3 次尝试")
    page.get_by_test_id("runs-outcome-all").click()
    expect(page.get_by_test_id("runs-total")).to_have_text("共 3 条记录")

    page.set_viewport_size(DESKTOP)
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=6000)
    expect(page.get_by_test_id("admin-nav")).to_contain_text("定时任务")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "admin-jobs-1280")


def test_a_district_admin_reads_the_jobs_but_has_no_run_button(page, shot):
    demo_login(page, "district_admin")
    page.goto("/#/admin-jobs")
    expect(page.get_by_test_id("jobs-province-only")).to_contain_text("由省级管理员立即运行")
    expect(page.get_by_test_id("job-cleanup").get_by_test_id("job-outcome")).to_have_text("成功")
    expect(page.get_by_role("button", name="立即运行")).to_have_count(0)
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=6000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "admin-jobs-district-390")
