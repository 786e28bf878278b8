"""The whole life of a voucher on three phones: the administrator funds and publishes a batch
through the form, the entrepreneur claims it and shows the 付款码, the provider's staff scans that
code (read back from the entrepreneur's screen) and redeems, the entrepreneur sees 支付成功 and the
receipt; the batch's figures balance."""
from __future__ import annotations

import io

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE_VIEWPORT, demo_login, demo_token
from tests.browser.test_vouchers_admin import BATCH_NAME, create_batch_through_the_form

pytestmark = pytest.mark.both_databases  # the PostgreSQL redemption statement runs under a browser too


def phone(browser, live_server):
    return browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                               base_url=live_server.url, device_scale_factor=2)


def read_qr(locator) -> str:
    """What a camera would read off the screen: decode a screenshot of the QR element."""
    png = locator.screenshot()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
             if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, found
    return found[0]


def shown_code(qr) -> str:
    """The code the QR carries, read off its pixels. The phone renews it every few seconds, and the
    screenshot is taken between two reads of data-code: the pixels carry the one before or the one after."""
    before = qr.get_attribute("data-code")
    code = read_qr(qr)
    assert code in (before, qr.get_attribute("data-code")), "the QR pixels do not carry the code the page holds"
    return code


def test_admin_funds_entrepreneur_claims_provider_redeems_entrepreneur_sees_the_receipt(browser, live_server, shot):
    admin_ctx, holder_ctx, staff_ctx = (phone(browser, live_server) for _ in range(3))
    try:
        admin, holder, staff = admin_ctx.new_page(), holder_ctx.new_page(), staff_ctx.new_page()

        demo_login(admin, "admin")
        batch_id = create_batch_through_the_form(admin, live_server, shot, demo_token(live_server.url, "admin"))

        demo_login(holder, "entrepreneur")
        holder.get_by_test_id("tab-vouchers").click()
        holder.get_by_test_id(f"claim-{batch_id}").click()
        expect(holder.get_by_test_id("wallet-count")).to_contain_text("1 张可用")
        shot(holder, "e2e-claimed")
        holder.goto("/#/personal-code?purpose=pay")
        expect(holder.get_by_role("alert")).to_have_count(0, timeout=5_000)  # the 领取成功 toast has gone
        qr = holder.get_by_test_id("personal-qr")
        expect(qr).to_have_attribute("data-purpose", "pay")
        code = shown_code(qr)
        shot(holder, "e2e-pay-code")

        demo_login(staff, "provider_staff")
        staff.get_by_test_id("go-redeem").click()
        expect(staff.get_by_test_id("page-redeem")).to_be_visible()
        # no camera on this phone: the scanner says so and offers the manual box (a scanner gun types there)
        expect(staff.get_by_test_id("qr-scanner")).to_have_attribute("data-mode", "manual", timeout=10_000)
        staff.get_by_test_id("qr-manual-input").fill(code)
        staff.get_by_test_id("qr-manual-submit").click()
        expect(staff.get_by_test_id("holder-name")).to_contain_text("张")
        # the code is single-use: the phone learns it was taken and shows a new one
        expect(holder.get_by_test_id("pay-scanned")).to_contain_text("已扫码", timeout=15_000)
        expect(qr).not_to_have_attribute("data-code", code)
        assert shown_code(qr) != code
        shot(holder, "e2e-pay-code-taken")
        voucher = staff.locator("[data-testid^=voucher-]", has_text=BATCH_NAME).first
        voucher.click()
        staff.get_by_test_id("category-rent").click()
        staff.get_by_test_id("bill-input").fill("1000")
        expect(staff.get_by_test_id("quote-amount")).to_have_text("¥500.00")
        staff.get_by_test_id("confirm-redeem").click()
        staff.get_by_test_id("confirm-ok").click()
        expect(staff.get_by_test_id("redeem-success")).to_be_visible()
        expect(staff.get_by_test_id("receipt-amount")).to_contain_text("¥500.00")
        receipt_no = staff.get_by_test_id("receipt-no").inner_text().strip()
        shot(staff, "e2e-redeemed")
        # a screenshot of the used code does not pay again
        staff.get_by_test_id("redeem-next").click()
        staff.get_by_test_id("qr-manual-input").fill(code)
        staff.get_by_test_id("qr-manual-submit").click()
        expect(staff.get_by_test_id("scan-error")).to_contain_text("已使用")
        shot(staff, "e2e-used-code-refused")

        expect(holder.get_by_test_id("pay-success")).to_be_visible(timeout=15_000)
        expect(holder.get_by_test_id("pay-amount")).to_contain_text("¥500.00")
        expect(holder.get_by_test_id("pay-self")).to_contain_text("¥500.00")
        shot(holder, "e2e-pay-success")
        holder.get_by_test_id("pay-receipts").click()
        expect(holder.get_by_test_id("receipt-list")).to_contain_text(receipt_no)
        shot(holder, "e2e-receipts")

        token = demo_token(live_server.url, "admin")
        figures = requests.get(f"{live_server.url}/api/admin/voucher-batches/{batch_id}",
                               headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert (figures["vouchers"], figures["issued"], figures["redeemed"], figures["outstanding"]) == \
            (1, 200_000, 50_000, 150_000)
        assert figures["balanced"] is True
    finally:
        for ctx in (admin_ctx, holder_ctx, staff_ctx):
            ctx.close()
