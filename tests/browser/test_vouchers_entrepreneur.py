"""The entrepreneur's 创业券 pages in Chromium: the voucher centre, claiming a first-come voucher,
the wallet and the ledger, applying with an uploaded image, paying with the pay code (a provider
redeems through the API, the phone shows 支付成功), receipts, messages, and the wallet offline."""
import io
import re
import uuid

import requests
from PIL import Image
from playwright.sync_api import expect
from tests.browser.conftest import demo_login, demo_token

CLAIM_BATCH = "2026年济宁市创业券（第一批）"
APPLY_BATCH = "科创企业检验检测券（申请制）"


def png_bytes() -> bytes:
    image = Image.new("RGB", (320, 240), (255, 255, 255))
    for x in range(40, 280):
        for y in range(100, 140):
            image.putpixel((x, y), (7, 193, 96))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def batch_card(page, name):
    return page.get_by_test_id("batch-list").locator("[data-testid^=batch-]", has_text=name).first


def test_entrepreneur_claims_applies_pays_and_reads_the_wallet_offline(page, context, live_server, shot):
    demo_login(page)
    page.get_by_test_id("tab-vouchers").click()
    expect(page.get_by_test_id("page-vouchers")).to_be_visible()
    expect(page.get_by_test_id("batch-list").locator("article")).to_have_count(2)  # the two demo batches
    expect(page.get_by_test_id("wallet-count")).to_contain_text("还没有可用的创业券")
    claim_card = batch_card(page, CLAIM_BATCH)
    expect(claim_card).to_have_attribute("data-mode", "claim")
    expect(claim_card).to_contain_text("每次可抵扣账单的 50%")
    expect(claim_card).to_contain_text("¥100.00")
    expect(batch_card(page, APPLY_BATCH).get_by_role("button", name="去申请")).to_be_visible()
    shot(page, "vouchers")

    # Batch detail: the rules in plain Chinese, then claim → WeUI result.
    claim_card.locator(".batch__name").click()
    expect(page.get_by_test_id("page-voucher-batch")).to_be_visible()
    rules = page.get_by_test_id("batch-rules")
    expect(rules).to_contain_text("¥2,000.00")
    expect(rules).to_contain_text("房租抵扣")
    expect(rules).to_contain_text("成立不满 5 年")
    expect(rules).to_contain_text("领取后 180 天内有效")
    shot(page, "voucher-batch")
    page.get_by_test_id("batch-claim").click()
    expect(page.get_by_test_id("claim-result")).to_be_visible()
    expect(page.get_by_test_id("claim-result-amount")).to_have_text("¥2,000.00")
    shot(page, "voucher-batch-claimed")

    # The wallet has it; the voucher's ledger starts with 领取.
    page.get_by_test_id("result-wallet").click()
    expect(page.get_by_test_id("page-wallet")).to_be_visible()
    item = page.get_by_test_id("wallet-list").locator("[data-testid^=voucher-]").first
    expect(item.get_by_test_id("voucher-balance")).to_have_text("¥2,000.00")
    expect(item.get_by_test_id("voucher-state")).to_have_text("可使用")
    shot(page, "wallet")
    item.click()
    expect(page.get_by_test_id("page-voucher-detail")).to_be_visible()
    expect(page.get_by_test_id("voucher-balance")).to_have_text("¥2,000.00")
    entries = page.get_by_test_id("ledger-entry")
    expect(entries).to_have_count(1)
    expect(entries.first).to_have_attribute("data-kind", "issue")
    expect(entries.first).to_contain_text("领取")
    expect(entries.first).to_contain_text("+¥2,000.00")
    shot(page, "voucher-detail")

    # The centre now says it is held and shows the wallet total.
    page.goto("/#/vouchers")
    expect(page.get_by_test_id("wallet-total")).to_have_text("¥2,000.00")
    expect(batch_card(page, CLAIM_BATCH)).to_contain_text("已领取 1 张")

    # Apply for the approval batch with a PNG.
    batch_card(page, APPLY_BATCH).get_by_role("button", name="去申请").click()
    expect(page.get_by_test_id("page-voucher-apply")).to_be_visible()
    expect(page.get_by_test_id("apply-batch-name")).to_have_text(APPLY_BATCH)
    page.get_by_test_id("apply-statement").fill("测试")
    page.get_by_test_id("apply-submit").click()
    expect(page.get_by_test_id("error-statement")).to_contain_text("至少 5 个字")
    page.get_by_test_id("apply-statement").fill("我们是一家成立一年的智能硬件初创企业，需要对样机做电磁兼容检测，并申请两项实用新型专利。")
    page.get_by_test_id("apply-file-input").set_input_files(
        files=[{"name": "营业执照.png", "mimeType": "image/png", "buffer": png_bytes()}])
    expect(page.get_by_test_id("apply-file-done")).to_have_count(1)
    expect(page.get_by_test_id("apply-file-done").locator("img")).to_be_visible()
    expect(page.get_by_test_id("error-statement")).to_have_count(0)
    shot(page, "voucher-apply")
    page.get_by_test_id("apply-submit").click()
    expect(page.get_by_test_id("apply-result")).to_be_visible()
    shot(page, "voucher-apply-done")
    page.get_by_test_id("result-applications").click()
    expect(page.get_by_test_id("page-voucher-applications")).to_be_visible()
    application = page.get_by_test_id("application-list").locator("article").first
    expect(application.get_by_test_id("application-state")).to_have_text("审核中")
    expect(application).to_contain_text("材料 1 份")
    expect(application.get_by_test_id("application-withdraw")).to_be_visible()
    shot(page, "voucher-applications")

    # The application was sent with the uploaded file.
    token = page.evaluate("localStorage.getItem('cyql.access_token')")
    mine = requests.get(live_server.url + "/api/me/voucher-applications",
                        headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    assert mine[0]["batch_name"] == APPLY_BATCH and len(mine[0]["upload_ids"]) == 1

    # An administrator turns it down with a reason: a message arrives and the reason shows.
    admin = demo_token(live_server.url, "admin")
    decided = requests.post(f"{live_server.url}/api/admin/voucher-applications/{mine[0]['id']}/decision",
                            json={"approve": False, "reason": "请补充检测机构出具的报价单"},
                            headers={"Authorization": f"Bearer {admin}"}, timeout=5)
    assert decided.ok, decided.text
    page.goto("/#/mine")
    expect(page.get_by_test_id("mine-unread")).to_have_text("1")
    shot(page, "mine-vouchers")
    page.get_by_test_id("mine-notifications").click()
    expect(page.get_by_test_id("page-notifications")).to_be_visible()
    note = page.get_by_test_id("notification-list").locator("a").first
    expect(note).to_have_attribute("data-read", "false")
    shot(page, "notifications")
    note.click()
    expect(page.get_by_test_id("page-voucher-applications")).to_be_visible()
    expect(page.get_by_test_id("application-state").first).to_have_text("未通过")
    expect(page.get_by_test_id("application-reason").first).to_contain_text("报价单")
    shot(page, "voucher-applications-rejected")

    # 付款码: a provider redeems ¥1,000 of rent; the phone shows 支付成功 on its own.
    page.goto("/#/vouchers")
    page.get_by_test_id("show-pay-code").click()
    qr = page.get_by_test_id("personal-qr")
    expect(qr).to_have_attribute("data-code", re.compile(r"^CY:"))
    staff = {"Authorization": f"Bearer {demo_token(live_server.url, 'provider_staff')}"}
    scan = requests.post(live_server.url + "/api/provider/scan", json={"code": qr.get_attribute("data-code")},
                         headers=staff, timeout=5)
    assert scan.ok, scan.text
    scanned = scan.json()
    voucher_id = next(o["voucher"]["id"] for o in scanned["vouchers"] if o["usable"])
    redeemed = requests.post(live_server.url + "/api/provider/redemptions", headers=staff, timeout=5, json={
        "scan_token": scanned["scan_token"], "voucher_id": voucher_id, "bill_amount": 100_000,
        "category": "rent", "idempotency_key": uuid.uuid4().hex})
    assert redeemed.status_code == 201, redeemed.text
    expect(page.get_by_test_id("pay-success")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("pay-amount")).to_have_text("¥500.00")
    expect(page.get_by_test_id("pay-self")).to_have_text("¥500.00")
    shot(page, "personal-code-paid")
    page.get_by_test_id("pay-receipts").click()
    expect(page.get_by_test_id("page-receipts")).to_be_visible()
    receipt = page.get_by_test_id("receipt-list").locator("article").first
    expect(receipt).to_have_attribute("data-reversed", "false")
    expect(receipt.get_by_test_id("receipt-amount")).to_have_text("¥500.00")
    shot(page, "receipts")

    # Offline: the wallet comes from what this phone stored.
    page.goto("/#/wallet")
    expect(page.get_by_test_id("voucher-balance").first).to_have_text("¥1,500.00")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_test_id("page-wallet")).to_be_visible()
        expect(page.get_by_test_id("voucher-balance").first).to_have_text("¥1,500.00")
        expect(page.get_by_test_id("offline-banner")).to_be_visible()
        shot(page, "wallet-offline")
    finally:
        context.set_offline(False)


def test_empty_states_of_a_new_entrepreneur(page, shot):
    # The demo entrepreneur of the other test has data; an empty receipts/messages list is a
    # fresh account's view: use the organiser, who has no vouchers and no messages.
    demo_login(page, "organiser")
    page.goto("/#/notifications")
    expect(page.get_by_test_id("page-notifications")).to_be_visible()
    expect(page.get_by_test_id("empty-state")).to_contain_text("暂时没有消息")
    # the words are the organiser's, not an entrepreneur's 创业券 applications
    expect(page.get_by_test_id("empty-state")).to_contain_text("与您组织的活动有关的提醒会发到这里")
    shot(page, "notifications-empty")
