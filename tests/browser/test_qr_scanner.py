"""The camera path of components/QrScanner.vue, for real: Chromium's fake camera plays a Y4M video
(made here with qrcode + Pillow) showing a real, freshly signed pay code; the redeem page reads it
through getUserMedia + canvas + jsQR and completes a redemption. See /work/shared/recipes/camera-tests.md."""
from __future__ import annotations

import pytest
import qrcode
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import camera_context, demo_login, demo_token
from tests.browser.test_vouchers_provider import PayCodes, ensure_voucher, fill_bill_and_quote, snap, totals

W, H = 640, 480


def write_y4m(path, text: str | None, frames: int = 20):
    """A 10 fps 4:2:0 video of `text` as a QR code on white (or a blank frame when text is None)."""
    canvas = Image.new("RGB", (W, H), "white")
    if text:
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=5, border=4)
        qr.add_data(text)
        qr.make(fit=True)
        image = qr.make_image(fill_color="black", back_color="white").convert("RGB")
        side = min(image.size[0], H - 20)
        image = image.resize((side, side), Image.NEAREST)
        canvas.paste(image, ((W - side) // 2, (H - side) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    cb, cr = cb.resize((W // 2, H // 2)), cr.resize((W // 2, H // 2))
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(frame)
    tmp.replace(path)


@pytest.fixture(scope="module")
def video_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(path, None)
    return path


@pytest.fixture
def camera_page(camera_browser, live_server):
    with camera_context(camera_browser, live_server) as (_, page):
        yield page


def test_redeem_reads_a_real_pay_code_from_the_camera(camera_page, live_server, shot, video_path):
    page = camera_page
    base = live_server.url
    ensure_voucher(base)
    pay = PayCodes(base)
    staff = demo_token(base, "provider_staff")
    before = totals(base, staff)

    demo_login(page, "provider_staff")
    expect(page.get_by_test_id("go-redeem")).to_be_visible()
    # Pay codes live ~50 s: make the video right before the camera opens.
    write_y4m(video_path, pay.make())
    modes = []  # every mode the scanner passes through (it may read the first frame before a poll sees it)
    page.expose_function("reportMode", lambda mode: modes.append(mode))
    page.add_init_script("""new MutationObserver(() => {
        const el = document.querySelector('[data-testid=qr-scanner]');
        if (el && el.dataset.mode !== window.__lastMode) { window.__lastMode = el.dataset.mode; window.reportMode(el.dataset.mode) }
    }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-mode']})""")
    page.reload()
    expect(page.get_by_test_id("go-redeem")).to_be_visible()
    page.get_by_test_id("go-redeem").click()
    # the scanner stops as soon as it reads; the page asks the server who this is
    expect(page.get_by_test_id("holder-name")).to_have_text("张**", timeout=15000)
    assert "scanning" in modes and "manual" not in modes, modes  # read by the camera, not typed
    shot(page, "redeem-camera-read")

    fill_bill_and_quote(page, "coaching", "1000", "¥500.00")
    page.get_by_test_id("confirm-redeem").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("redeem-success")).to_be_visible()
    expect(page.get_by_test_id("receipt")).to_contain_text("创业辅导")
    after = totals(base, staff)
    assert after["count"] == before["count"] + 1
    assert after["redeemed"] == before["redeemed"] + 50000

    # 继续核销 opens the camera again (showing the scanner view, ready for the next code)
    write_y4m(video_path, None)
    page.get_by_test_id("redeem-next").click()
    expect(page.get_by_test_id("qr-scanner")).to_have_attribute("data-mode", "scanning")
    # the screenshot shows the camera's picture: wait until the video plays frames, not for a while
    page.wait_for_function("""() => { const v = document.querySelector('[data-testid=qr-scanner-video]')
        return v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0 }""")
    snap(shot, page, "redeem-camera-scanning")


def test_no_camera_falls_back_to_manual_input(page, live_server, shot):
    """The shared browser has no camera flags: the scanner explains and offers 手动输入."""
    demo_login(page, "provider_staff")
    page.goto("/#/redeem")
    scanner = page.get_by_test_id("qr-scanner")
    expect(scanner).to_have_attribute("data-mode", "manual", timeout=10000)
    expect(page.get_by_test_id("qr-scanner-problem")).to_be_visible()
    expect(page.get_by_test_id("qr-manual-input")).to_be_visible()
    page.get_by_test_id("qr-manual-submit").click()
    expect(page.get_by_text("请输入或粘贴二维码内容")).to_be_visible()
    snap(shot, page, "redeem-scan-no-camera")
