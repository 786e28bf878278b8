"""Provider staff in Chromium: 工作台, 扫码核销 (manual input here; the camera path is in
test_qr_scanner.py), a redemption whose first answer is lost on the network and is retried with the
same idempotency key (one receipt, one charge), 核销记录 with 撤销, 结算单 with submit and export,
and registering a new organisation with per-field errors."""
from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from backend.core import codes
from backend.core.codes import Purpose
from tests.factories import fresh_ts, p256_key
from tests.browser.conftest import demo_login, demo_token
from tests.browser.scanning import open_manual

BATCH_NAME = "2026年济宁市创业券（第一批）"
PROVIDER_NAME = "济宁创客孵化器有限公司"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
SHANGHAI = timezone(timedelta(hours=8))


# --- helpers (also used by test_qr_scanner.py) ---------------------------------------------------------

def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ensure_voucher(base_url: str) -> int:
    """The demo entrepreneur holds a voucher of the first batch (claimed once); its id."""
    token = demo_token(base_url, "entrepreneur")
    batches = requests.get(base_url + "/api/voucher-batches", timeout=5).json()
    batch = next(b for b in batches if b["name"] == BATCH_NAME)
    answer = requests.post(f"{base_url}/api/voucher-batches/{batch['id']}/claim", json={}, headers=auth(token), timeout=5)
    if answer.status_code in (200, 201):
        return answer.json()["id"]
    wallet = requests.get(base_url + "/api/me/vouchers", headers=auth(token), timeout=5).json()
    return next(v["id"] for v in wallet if v["batch_id"] == batch["id"])


class PayCodes:
    """The entrepreneur's phone: one registered device key, codes made at the moment they are shown."""

    def __init__(self, base_url: str):
        token = demo_token(base_url, "entrepreneur")
        self.key = p256_key()
        public = base64.urlsafe_b64encode(codes.compress_p256(self.key.public_key())).rstrip(b"=").decode()
        answer = requests.post(base_url + "/api/me/devices", json={"public_key": public, "name": "测试手机"},
                               headers=auth(token), timeout=5)
        assert answer.status_code == 201, answer.text
        self.credential = codes.from_text(answer.json()["credential"])

    def make(self, purpose=Purpose.pay) -> str:
        """A new code; a pay code is single-use, so each is made at a second not used before."""
        return codes.to_text(codes.encode_personal(self.credential, device_key=self.key, purpose=purpose,
                                                   ts=fresh_ts(self)))


def totals(base_url: str, token: str) -> dict:
    day = datetime.now(SHANGHAI).date().isoformat()
    return requests.get(f"{base_url}/api/provider/redemptions/totals?day={day}", headers=auth(token), timeout=5).json()


def snap(shot, page, name: str):
    """A full-page screenshot from the top, without a toast over it."""
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def credit_code(body17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(body17, CREDIT_WEIGHTS))
    return body17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


def fill_bill_and_quote(page, category: str, bill: str, amount: str):
    page.get_by_test_id(f"category-{category}").click()
    page.get_by_test_id("bill-input").fill(bill)
    expect(page.get_by_test_id("quote-amount")).to_have_text(amount)


# --- tests --------------------------------------------------------------------------------------------

@pytest.fixture
def pay_codes(live_server):
    ensure_voucher(live_server.url)
    return PayCodes(live_server.url)


def test_home_manual_scan_errors_and_redeem_with_lost_answer(page, live_server, shot, pay_codes):
    base = live_server.url
    staff = demo_token(base, "provider_staff")
    before = totals(base, staff)

    demo_login(page, "provider_staff")
    home = page.get_by_test_id("page-provider-home")
    expect(home).to_have_attribute("data-status", "listed")
    expect(page.get_by_test_id("provider-name")).to_have_text(PROVIDER_NAME)
    expect(page.get_by_test_id("provider-status")).to_have_text("已入库")
    expect(page.get_by_test_id("today-count")).to_have_text(str(before["count"]))
    snap(shot, page, "provider-home")

    page.get_by_test_id("go-redeem").click()
    open_manual(page)

    # a check-in code is not a pay code
    page.get_by_test_id("qr-manual-input").fill(pay_codes.make(Purpose.identify))
    page.get_by_test_id("qr-manual-submit").click()
    expect(page.get_by_test_id("scan-error")).to_contain_text("付款码")
    snap(shot, page, "redeem-scan-manual-error")

    page.get_by_test_id("qr-manual-input").fill(pay_codes.make())
    page.get_by_test_id("qr-manual-submit").click()
    expect(page.get_by_test_id("holder-name")).to_have_text("张**")
    usable = page.locator('[data-usable="true"]')
    expect(usable).to_have_count(1)

    # below the minimum bill: the server's reason, no confirm
    page.get_by_test_id("category-rent").click()
    page.get_by_test_id("bill-input").fill("50")
    expect(page.get_by_test_id("quote-error")).to_contain_text("100")
    expect(page.get_by_test_id("confirm-redeem")).to_be_disabled()
    page.get_by_test_id("bill-input").fill("12.3.4")
    expect(page.get_by_test_id("bill-error")).to_be_visible()

    fill_bill_and_quote(page, "training", "300", "¥150.00")
    expect(page.get_by_test_id("quote-self-pay")).to_have_text("¥150.00")
    expect(page.get_by_test_id("quote-explanation")).to_contain_text("补贴比例 50%")
    snap(shot, page, "redeem-quote")

    # The first POST reaches the server, but its answer is lost; the page must retry with the same key.
    posts, answers = [], []

    def lose_first_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.post_data_json)
        response = route.fetch()
        answers.append((response.status, response.json()))
        if len(posts) == 1:
            return route.abort("connectionreset")
        return route.fulfill(response=response)

    page.route("**/api/provider/redemptions", lose_first_answer)
    page.get_by_test_id("confirm-redeem").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("创业券抵扣 ¥150.00")
    snap(shot, page, "redeem-confirm")
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("redeem-pending")).to_contain_text("核销结果确认中")
    shot(page, "redeem-pending")
    success = page.get_by_test_id("redeem-success")
    expect(success).to_be_visible(timeout=15000)
    page.unroute("**/api/provider/redemptions")

    assert len(posts) == 2, posts
    assert posts[0]["idempotency_key"] == posts[1]["idempotency_key"]
    assert [status for status, _ in answers] == [201, 200]
    assert answers[1][1]["replayed"] is True
    receipt_no = answers[0][1]["receipt_no"]
    expect(page.get_by_test_id("receipt-no")).to_have_text(receipt_no)
    expect(page.get_by_test_id("receipt-amount")).to_have_text("¥150.00")
    expect(page.get_by_test_id("receipt")).to_have_count(1)
    snap(shot, page, "redeem-success")

    after = totals(base, staff)
    assert after["count"] == before["count"] + 1
    assert after["redeemed"] == before["redeemed"] + 15000

    # 继续核销 → back to the scanner; 工作台 shows today's figures
    page.get_by_test_id("redeem-next").click()
    expect(page.get_by_test_id("qr-scanner")).to_be_visible()
    page.goto("/#/provider-home")
    expect(page.get_by_test_id("today-redeemed")).to_have_text(f"¥{after['redeemed'] // 100:,}.00")


def test_definite_refusal_shows_failure_page(page, live_server, shot, pay_codes):
    demo_login(page, "provider_staff")
    page.goto("/#/redeem")
    open_manual(page)
    page.get_by_test_id("qr-manual-input").fill(pay_codes.make())
    page.get_by_test_id("qr-manual-submit").click()
    fill_bill_and_quote(page, "rent", "200", "¥100.00")

    def refuse(route):
        if route.request.method != "POST":
            return route.continue_()
        route.fulfill(status=422, content_type="application/json",
                      body=json.dumps({"code": "insufficient_balance", "message": "该券余额不足", "details": {}}))

    page.route("**/api/provider/redemptions", refuse)
    page.get_by_test_id("confirm-redeem").click()
    page.get_by_test_id("confirm-ok").click()
    failure = page.get_by_test_id("redeem-failure")
    expect(failure).to_have_attribute("data-code", "insufficient_balance")
    expect(page.get_by_test_id("failure-message")).to_have_text("该券余额不足")
    snap(shot, page, "redeem-failure")
    page.unroute("**/api/provider/redemptions")


def test_records_reverse_and_statements(page, live_server, shot, pay_codes):
    base = live_server.url
    staff = demo_token(base, "provider_staff")
    voucher_id = ensure_voucher(base)
    # two redemptions through the API (the page flow is tested above)
    made = []
    for bill in (20000, 40000):
        scan = requests.post(base + "/api/provider/scan", json={"code": pay_codes.make()}, headers=auth(staff), timeout=5).json()
        answer = requests.post(base + "/api/provider/redemptions", headers=auth(staff), timeout=5, json={
            "scan_token": scan["scan_token"], "voucher_id": voucher_id, "bill_amount": bill, "category": "rent",
            "idempotency_key": f"test-{bill}-{time.time_ns()}"})
        assert answer.status_code == 201, answer.text
        made.append(answer.json())
    before = totals(base, staff)

    demo_login(page, "provider_staff")
    page.get_by_test_id("go-redemptions").click()
    expect(page.get_by_test_id("totals-count")).to_have_text(str(before["count"]))
    target = made[-1]
    row = page.get_by_test_id(f"redemption-{target['id']}")
    expect(row).to_contain_text("¥200.00")
    snap(shot, page, "provider-redemptions")

    page.get_by_test_id(f"reverse-{target['id']}").click()
    expect(page.get_by_test_id("action-sheet")).to_contain_text("撤销 ¥200.00")
    page.get_by_test_id("sheet-option-other").click()
    page.get_by_test_id("reverse-confirm").click()
    expect(page.get_by_test_id("reverse-dialog")).to_contain_text("请填写撤销原因")
    page.get_by_test_id("reverse-reason").fill("客户要求取消本次服务")
    snap(shot, page, "provider-redemptions-reverse")
    page.get_by_test_id("reverse-confirm").click()
    expect(row).to_have_attribute("data-reversed", "true")
    expect(row.get_by_test_id("reversed-tag")).to_have_text("已撤销")
    expect(page.get_by_test_id("totals-reversed")).to_have_text(f"¥{(before['reversed'] + 20000) // 100:,}.00")
    assert totals(base, staff)["reversed"] == before["reversed"] + 20000
    snap(shot, page, "provider-redemptions-reversed")

    page.get_by_test_id("mode-month").click()
    expect(page.get_by_test_id("pick-month")).to_be_visible()
    expect(page.get_by_test_id("totals-count")).not_to_have_text("—")

    # 结算单: nothing last month yet → the server's reason
    page.goto("/#/provider-statements")
    expect(page.get_by_test_id("empty-state")).to_contain_text("还没有结算单")
    now = datetime.now(SHANGHAI)
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    expect(page.get_by_test_id("statement-month")).to_have_value(last_month)
    page.get_by_test_id("statement-submit").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("statement-error")).to_contain_text("没有可结算的核销记录")
    snap(shot, page, "provider-statements-empty")

    # move the first redemption into last month (as if made then), submit, export
    db_path = live_server.env["DATABASE_URL"].removeprefix("sqlite:///")
    when = (now.replace(day=1) - timedelta(days=3)).astimezone(timezone.utc).replace(tzinfo=None)
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE redemption SET created_at = ? WHERE id = ?", (when.isoformat(sep=" "), made[0]["id"]))
    page.get_by_test_id("statement-submit").click()
    page.get_by_test_id("confirm-ok").click()
    card = page.locator('[data-testid^="statement-"][data-state]').first
    expect(card).to_have_attribute("data-state", "submitted")
    expect(card.get_by_test_id("statement-state")).to_have_text("待审核")
    expect(card.get_by_test_id("statement-net")).to_have_text("¥100.00")
    snap(shot, page, "provider-statements")

    statement_id = card.get_attribute("data-testid").removeprefix("statement-")
    with page.expect_download() as info:
        page.get_by_test_id(f"export-csv-{statement_id}").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    assert "房租抵扣,200.0,100.0,否" in open(download.path(), encoding="utf-8-sig").read()  # made[0], now last month
    with page.expect_download() as info:
        page.get_by_test_id(f"export-xlsx-{statement_id}").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    assert open(info.value.path(), "rb").read(2) == b"PK"


def test_register_a_provider(page, live_server, shot):
    base = live_server.url
    phone = "13912345678"
    assert requests.post(base + "/api/auth/sms-code", json={"phone": phone}, timeout=5).ok
    login = requests.post(base + "/api/auth/login/phone", json={"phone": phone, "code": live_server.last_sms_code("139****5678")},
                          timeout=5).json()
    page.goto("/")
    page.evaluate("""(login) => {
        localStorage.setItem('cyql.access_token', login.access_token)
        localStorage.setItem('cyql.refresh_token', login.refresh_token)
        localStorage.setItem('cyql.user', JSON.stringify(login.user))
    }""", login)
    page.reload()  # the session is read at start-up
    page.goto("/#/mine")
    page.get_by_test_id("mine-provider").click()
    expect(page.get_by_test_id("page-provider-home")).to_have_attribute("data-status", "none")
    snap(shot, page, "provider-home-none")
    page.get_by_test_id("go-register").click()

    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-name")).to_be_visible()
    expect(page.get_by_test_id("error-categories")).to_have_text("至少选择一种服务类别")
    page.get_by_test_id("field-name").fill("济宁明德财税咨询有限公司")
    page.get_by_test_id("field-credit_code").fill("91370811MA3DEM0012")
    page.get_by_test_id("category-tax").click()
    page.get_by_test_id("category-consulting").click()
    page.get_by_test_id("field-district").select_option("370811")
    page.get_by_test_id("field-address").fill("路")  # too short: only the server says so
    page.get_by_test_id("field-contact_name").fill("孙明德")
    page.get_by_test_id("field-contact_phone").fill("13912345678")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-credit_code")).to_contain_text("校验位")
    page.get_by_test_id("field-credit_code").fill(credit_code("91370811MA3DEM777"))
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-address")).to_have_text("地址为 2 到 256 个字")
    snap(shot, page, "provider-register-errors")

    page.get_by_test_id("field-address").fill("济宁市任城区共青团路 8 号")
    page.get_by_test_id("register-submit").click()
    home = page.get_by_test_id("page-provider-home")
    expect(home).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("next-step")).to_contain_text("审核")
    expect(page.get_by_test_id("go-redeem")).to_have_count(0)
    # no staff role before approval: the desk's endpoints stay closed, the phone stays an entrepreneur's
    assert page.evaluate("localStorage.getItem('cyql.role')") != "provider_staff"
    me = requests.get(base + "/api/me", headers=auth(login["access_token"]), timeout=5).json()
    assert "provider_staff" not in me["roles"]
    desk = requests.get(base + "/api/provider/statements", headers=auth(login["access_token"]), timeout=5)
    assert (desk.status_code, desk.json()["code"]) == (403, "forbidden")
    snap(shot, page, "provider-home-pending")
