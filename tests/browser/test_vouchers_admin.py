"""创业券 administration in Chromium: the admin creates a batch through the form (a bad input first:
the Chinese error shows under the field and nothing is created), publishes it and sees it 发放中;
approves a pending provider (registered through the API) onto public notice (公示中); rejects an
application with a reason. Every admin page is screenshot at phone and desktop width."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from tests.factories import valid_credit_code
from tests.browser.conftest import PHONE_VIEWPORT, demo_login, demo_token

DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
BATCH_NAME = "2026年测试区创业券（浏览器）"
PROVIDER_NAME = "济宁浏览器测试财税服务所"


def api(base_url: str, method: str, path: str, token: str, **kwargs):
    return requests.request(method, base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=5, **kwargs)


def batches_named(base_url: str, token: str, name: str) -> list[dict]:
    answer = api(base_url, "GET", "/api/admin/voucher-batches", token, params={"q": name, "page_size": 50})
    assert answer.status_code == 200, answer.text
    return answer.json()


def snap(shot, page, name: str):
    """A full-page screenshot without a toast over it, from the top."""
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def open_page(page, hash_path: str, testid: str):
    page.goto(f"/#/{hash_path}")
    expect(page.get_by_test_id(testid)).to_be_visible()
    expect(page.get_by_test_id("list-loading")).to_have_count(0)


def tour(page, shot, width: str, batch_id: int):
    """Every admin page, screenshot at this width."""
    open_page(page, "admin", "page-admin")
    expect(page.get_by_test_id("admin-batches")).to_be_visible()
    snap(shot, page, f"admin-home-{width}")
    open_page(page, "admin-batches", "page-admin-batches")
    expect(page.get_by_test_id(f"batch-{batch_id}")).to_be_visible()
    snap(shot, page, f"admin-batches-{width}")
    open_page(page, f"admin-batches?id={batch_id}", "page-admin-batch-detail")
    expect(page.get_by_test_id("batch-balanced")).to_have_text("账目平衡 ✓")
    snap(shot, page, f"admin-batch-detail-{width}")
    open_page(page, "admin-batch-edit", "batch-form")
    snap(shot, page, f"admin-batch-new-{width}")
    open_page(page, f"admin-batch-edit?id={batch_id}", "batch-form")
    expect(page.get_by_test_id("field-face_value")).to_be_disabled()
    snap(shot, page, f"admin-batch-edit-live-{width}")
    open_page(page, "admin-applications?state=all", "page-admin-applications")
    snap(shot, page, f"admin-applications-{width}")
    open_page(page, "admin-providers?status=all", "page-admin-providers")
    snap(shot, page, f"admin-providers-{width}")
    open_page(page, "admin-statements?state=all", "page-admin-statements")
    snap(shot, page, f"admin-statements-{width}")


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the desktop page: {errors}"


def create_batch_through_the_form(page, live_server, shot, admin_token: str) -> int:
    page.get_by_test_id("admin-batches").click()
    expect(page.get_by_test_id("page-admin-batches")).to_be_visible()
    page.get_by_test_id("batch-new").click()
    form = page.get_by_test_id("batch-form")
    expect(form).to_be_visible()

    page.get_by_test_id("field-name").fill(BATCH_NAME)
    page.get_by_test_id("field-description").fill("浏览器测试批次：房租抵扣和法律服务。")
    page.get_by_test_id("field-district").select_option("370811")
    page.get_by_test_id("field-face_value").fill("两千")  # not an amount
    page.get_by_test_id("field-total_count").fill("100")
    page.get_by_test_id("field-budget").fill("200000")
    page.get_by_test_id("field-claim_starts_at").fill("2026-01-01T09:00")
    page.get_by_test_id("field-claim_ends_at").fill("2025-12-01T09:00")  # before the start
    page.get_by_test_id("field-valid_days").fill("180")
    page.get_by_test_id("field-category-rent").check()
    page.get_by_test_id("field-category-legal").check()
    page.get_by_test_id("field-co_pay_ratio").fill("50")
    page.get_by_test_id("field-min_bill").fill("100")
    page.get_by_test_id("field-subject-startup").check()

    # checked on the phone first
    page.get_by_test_id("batch-save").click()
    expect(page.get_by_test_id("error-face_value")).to_contain_text("请输入面值")
    assert batches_named(live_server.url, admin_token, BATCH_NAME) == []

    # then by the server: its message lands under the field it names
    page.get_by_test_id("field-face_value").fill("2000")
    page.get_by_test_id("batch-save").click()
    expect(page.get_by_test_id("error-claim_ends_at")).to_contain_text("应晚于开始时间")
    expect(page.get_by_test_id("error-face_value")).to_have_count(0)
    assert batches_named(live_server.url, admin_token, BATCH_NAME) == []
    page.get_by_test_id("error-claim_ends_at").scroll_into_view_if_needed()
    shot(page, "admin-batch-form-error-phone")

    page.get_by_test_id("field-claim_ends_at").fill("2027-06-30T18:00")
    page.get_by_test_id("batch-save").click()
    expect(page.get_by_test_id("batch-created")).to_contain_text("批次已保存为草稿")
    [batch] = batches_named(live_server.url, admin_token, BATCH_NAME)
    assert batch["state"] == "draft"
    assert batch["face_value"] == 200000 and batch["budget"] == 20000000 and batch["min_bill"] == 10000
    assert batch["co_pay_ratio_bp"] == 5000 and batch["valid_days"] == 180 and batch["valid_until"] is None
    assert sorted(batch["categories"]) == ["legal", "rent"]
    assert batch["eligibility"]["subject_types"] == ["startup"]
    # typed as Beijing time
    beijing = timezone(timedelta(hours=8))
    assert datetime.fromisoformat(batch["claim_starts_at"]) == datetime(2026, 1, 1, 9, 0, tzinfo=beijing)
    assert datetime.fromisoformat(batch["claim_ends_at"]) == datetime(2027, 6, 30, 18, 0, tzinfo=beijing)
    snap(shot, page, "admin-batch-created-phone")

    page.get_by_test_id("created-publish").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("page-admin-batch-detail")).to_be_visible()
    expect(page.get_by_test_id("detail-state")).to_have_text("发放中")
    expect(page.get_by_test_id("figure-vouchers")).to_have_text("0 张")
    expect(page.get_by_test_id("batch-balanced")).to_have_text("账目平衡 ✓")

    page.goto("/#/admin-batches?state=active")
    card = page.get_by_test_id(f"batch-{batch['id']}")
    expect(card.get_by_test_id("batch-state")).to_have_text("发放中")
    expect(card.get_by_test_id("batch-issued")).to_have_text("0 / 100")
    return batch["id"]


def register_pending_provider(live_server) -> int:
    """A new person signs in with a phone code and registers a provider (pending review)."""
    phone = "13700001234"
    assert requests.post(live_server.url + "/api/auth/sms-code", json={"phone": phone}, timeout=5).ok
    code = live_server.last_sms_code("137****1234")
    login = requests.post(live_server.url + "/api/auth/login/phone", json={"phone": phone, "code": code}, timeout=5)
    assert login.status_code == 200, login.text
    answer = api(live_server.url, "POST", "/api/providers", login.json()["access_token"], json={
        "name": PROVIDER_NAME, "credit_code": valid_credit_code("91370811MA3BR0001"), "categories": ["tax", "legal"],
        "district": "370811", "address": "济宁市任城区共青团路 8 号", "contact_name": "钱会计",
        "contact_phone": phone, "intro": "代理记账、税务筹划与创业法律咨询。"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def approve_provider(page, shot, provider_id: int):
    page.goto("/#/admin")
    page.get_by_test_id("admin-providers").click()
    expect(page.get_by_test_id("page-admin-providers")).to_be_visible()
    card = page.get_by_test_id(f"provider-{provider_id}")
    expect(card.get_by_test_id("provider-status")).to_have_text("待审核")
    expect(card.get_by_test_id("provider-contact")).to_have_text("钱** 137****1234")
    expect(card.get_by_test_id("provider-objections")).to_contain_text("公示异议 0 条")
    card.get_by_test_id("provider-action-approve").click()
    expect(page.get_by_test_id("dialog-objections")).to_contain_text("公示期异议 0 条")
    snap(shot, page, "admin-provider-approve-phone")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id(f"provider-{provider_id}")).to_have_count(0)  # left the pending tab
    page.get_by_test_id("filter-notice").click()
    expect(page.get_by_test_id(f"provider-{provider_id}").get_by_test_id("provider-status")).to_have_text("公示中")


def reject_application(page, shot, live_server) -> int:
    entrepreneur = demo_token(live_server.url, "entrepreneur")
    admin = demo_token(live_server.url, "admin")
    apply_batches = [b for b in api(live_server.url, "GET", "/api/admin/voucher-batches", admin,
                                    params={"state": "active"}).json() if b["mode"] == "apply"]
    answer = api(live_server.url, "POST", f"/api/voucher-batches/{apply_batches[0]['id']}/applications", entrepreneur,
                 json={"statement": "我们是成立一年的科技初创企业，需要做产品检验检测。", "upload_ids": []})
    if answer.status_code == 201:
        application_id = answer.json()["id"]
    else:  # another test already applied as the demo entrepreneur: review that one
        pending = api(live_server.url, "GET", "/api/admin/voucher-applications", admin,
                      params={"state": "pending", "batch_id": apply_batches[0]["id"], "page_size": 100}).json()
        mine = [a for a in pending if a["applicant"]["phone_masked"] == "199****0001"]
        assert mine, answer.text
        application_id = mine[0]["id"]

    page.goto("/#/admin")
    page.get_by_test_id("admin-applications").click()
    card = page.get_by_test_id(f"application-{application_id}")
    expect(card.get_by_test_id("application-statement")).to_be_visible()
    expect(card).to_contain_text("199****0001")
    snap(shot, page, "admin-applications-pending-phone")
    card.get_by_test_id("application-reject").click()
    page.get_by_test_id("reason-ok").click()  # no reason yet
    expect(page.get_by_test_id("reason-error")).to_have_text("请填写原因")
    page.get_by_test_id("reason-input").fill("申请说明不完整，请补充检验检测项目和报价后重新申请")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id(f"application-{application_id}")).to_have_count(0)
    mine = api(live_server.url, "GET", "/api/admin/voucher-applications", admin, params={"state": "rejected"}).json()
    assert any(a["id"] == application_id and a["decision_reason"].startswith("申请说明不完整") for a in mine)
    page.get_by_test_id("filter-rejected").click()
    card = page.get_by_test_id(f"application-{application_id}")
    expect(card.get_by_test_id("application-state")).to_have_text("未通过")
    expect(card).to_contain_text("审核意见：申请说明不完整")
    return application_id


def test_admin_runs_vouchers(page, desktop, live_server, shot):
    admin_token = demo_token(live_server.url, "admin")
    demo_login(page, "admin")
    expect(page.get_by_test_id("admin-scanners")).to_be_visible()
    expect(page.get_by_test_id("open-scanner")).to_be_visible()

    batch_id = create_batch_through_the_form(page, live_server, shot, admin_token)
    provider_id = register_pending_provider(live_server)
    page.goto("/#/admin")
    expect(page.get_by_test_id("admin-providers-count")).to_contain_text("待审核")
    approve_provider(page, shot, provider_id)
    reject_application(page, shot, live_server)

    tour(page, shot, "phone", batch_id)
    demo_login(desktop, "admin")
    tour(desktop, shot, "desktop", batch_id)


def test_a_batch_before_its_window_and_without_a_budget_reads_right(page, browser, live_server, shot):
    """Published, claim window opening tomorrow, bounded by its count only: 即将开放 (not 发放中) in the
    centre and in 批次管理, and 资金预算 shows count × face value (not 不限). Ended afterwards."""
    base = live_server.url
    admin = demo_token(base, "admin")
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    created = api(base, "POST", "/api/admin/voucher-batches", admin, json={
        "name": "预告测试批次", "district": "370811", "face_value": 50_000, "total_count": 40, "budget": None,
        "claim_starts_at": tomorrow.isoformat(), "claim_ends_at": (tomorrow + timedelta(days=30)).isoformat(),
        "valid_days": 30, "categories": ["rent"]})
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    assert api(base, "POST", f"/api/admin/voucher-batches/{batch_id}/state", admin,
               json={"state": "active"}).status_code == 200
    try:
        phone = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                    base_url=base, device_scale_factor=2).new_page()
        demo_login(phone)
        phone.goto(f"/#/voucher-batch?id={batch_id}")
        expect(phone.get_by_test_id("page-voucher-batch")).to_be_visible()
        expect(phone.get_by_text("即将开放", exact=True)).to_be_visible()
        expect(phone.get_by_text("还没到领取时间")).to_be_visible()
        expect(phone.get_by_text("发放中")).to_have_count(0)
        expect(phone.get_by_test_id("toast")).to_have_count(0, timeout=5000)
        shot(phone, "voucher-batch-coming-soon")
        phone.context.close()

        demo_login(page, "admin")
        open_page(page, "admin-batches", "page-admin-batches")
        card = page.get_by_test_id(f"batch-{batch_id}")
        expect(card.get_by_test_id("batch-state")).to_have_text("即将开放")
        expect(card).to_contain_text("2万元")  # 40 × ¥500.00
        open_page(page, f"admin-batches?id={batch_id}", "page-admin-batch-detail")
        expect(page.get_by_test_id("detail-budget")).to_have_text("¥20,000.00（按发放总量 × 面值）")
        snap(shot, page, "admin-batch-detail-coming-soon-phone")
    finally:
        api(base, "POST", f"/api/admin/voucher-batches/{batch_id}/state", admin, json={"state": "ended"})
