"""Scanner devices in Chromium, two phones: the admin generates a setup code for the demo station
(扫码设备管理), the station's phone pastes it (开通扫码设备), downloads the offline bundle and
verifies an entrepreneur's personal code with the network off; the entrepreneur removes that
device, the scanner refreshes and refuses the same code offline; the admin stops the scanner and
the scanner's next refresh says so. A phone with a (fake) camera provisions itself by scanning the
setup QR the admin's screen shows (扫码开通), and the admin renames it. The demo station staff's phone
is its station's scanner right after the demo login."""
from __future__ import annotations

import base64
import re
import time

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from backend.core import codes
from backend.core.codes import Purpose
from tests.browser.conftest import PHONE_VIEWPORT, SHOTS, camera_context, demo_login, demo_token
from tests.factories import p256_key

W, H = 640, 480

STOPPED = "该设备已停用，请联系管理员重新开通"


def personal_code(base_url: str, token: str) -> tuple[int, str]:
    """Register a phone for the entrepreneur (as lib/device.js does) and show a code made now."""
    key = p256_key()
    public = base64.urlsafe_b64encode(codes.compress_p256(key.public_key())).rstrip(b"=").decode()
    answer = requests.post(base_url + "/api/me/devices", json={"public_key": public, "name": "测试手机"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["credential"]
    text = codes.to_text(codes.encode_personal(codes.from_text(credential), device_key=key,
                                               purpose=Purpose.identify, ts=int(time.time())))
    return answer.json()["device"]["id"], text


def decode_qr(path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path)) if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture
def second_phone(browser, live_server):
    """Another phone: a context of its own (its own localStorage, IndexedDB, service worker)."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield context, page
    context.close()
    assert not errors, f"JavaScript errors on the scanner phone: {errors}"


def snap(shot, page, name: str):
    """A full-page screenshot without a toast over it, from the top (the nav bar is sticky)."""
    expect(page.get_by_test_id("toast")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def verify_manually(scanner, text: str, expected: str):
    scanner.get_by_test_id("manual-code-input").fill(text)
    scanner.get_by_test_id("manual-verify").click()
    expect(scanner.get_by_test_id("verify-result")).to_have_attribute("data-result", expected)


def test_provision_scan_offline_revoke_and_stop(page, live_server, shot, second_phone):
    base = live_server.url
    staff_me = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {demo_token(base, 'station_staff')}"},
                            timeout=5).json()
    place_id = staff_me["place_id"]
    place = requests.get(f"{base}/api/places/{place_id}", timeout=5).json()
    assert place["kind"] == "loan_station"

    # --- the admin: 场所 → the station → 扫码设备管理 → 生成开通二维码 ---------------------------
    admin = page
    demo_login(admin, "admin")
    admin.get_by_test_id("tab-places").click()
    admin.get_by_test_id(f"place-{place_id}").click()
    expect(admin.get_by_test_id("place-name")).to_have_text(place["name"])
    admin.get_by_test_id("open-scanner-admin").click()
    expect(admin.get_by_test_id("scanner-admin-place")).to_have_text(place["name"])
    expect(admin.get_by_test_id("scanner-empty")).to_contain_text("还没有扫码设备")
    admin.get_by_test_id("generate-setup").click()
    qr = admin.get_by_test_id("setup-qr")
    expect(qr).to_have_attribute("data-code", re.compile(r"^CY:"))
    setup_code = qr.get_attribute("data-code")
    expect(admin.get_by_test_id("setup-code-text")).to_have_text(setup_code)
    expect(admin.get_by_test_id("setup-countdown")).to_contain_text(re.compile(r"(09:[0-5]\d|10:00) 后失效"))
    expect(admin.get_by_text("一次有效")).to_be_visible()
    snap(shot, admin, "scanner-admin-qr")
    assert decode_qr(SHOTS / "scanner-admin-qr.png") == [setup_code], "the QR pixels do not carry the setup code"

    # --- the station's phone: 工作台 → 开通扫码设备, paste, provision -------------------------------
    context, scanner = second_phone
    demo_login(scanner, "station_staff", scanner=False)
    expect(scanner.get_by_test_id("open-scanner")).to_contain_text("本机还不是扫码设备")
    scanner.get_by_test_id("open-scanner").click()
    expect(scanner.get_by_test_id("provision-submit")).to_be_visible()
    expect(scanner.locator(".nav-bar__title")).to_have_text("开通扫码设备")
    expect(scanner.get_by_test_id("device-name-input")).to_have_value(re.compile(r"^前台扫码手机"))
    snap(shot, scanner, "scanner-provision-form")
    scanner.get_by_test_id("setup-code-input").fill(setup_code)
    scanner.get_by_test_id("device-name-input").fill("古槐路驿站前台手机")
    scanner.get_by_test_id("provision-submit").click()

    status = scanner.get_by_test_id("scanner-status")
    expect(status).to_be_visible()
    expect(scanner.locator(".nav-bar__title")).to_have_text("本机扫码设置")
    expect(scanner.get_by_test_id("scanner-place")).to_have_text(place["name"])
    expect(scanner.get_by_test_id("scanner-device-name")).to_have_text("古槐路驿站前台手机")
    expect(status).to_have_attribute("data-keys", re.compile(r"^[1-9]\d*$"))
    expect(scanner.get_by_test_id("bundle-updated")).to_have_text(re.compile(r"^\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"))
    expect(scanner.get_by_test_id("online-state")).to_have_text("在线")
    scanner_id = status.get_attribute("data-device-id")
    revoked_before = int(scanner.get_by_test_id("bundle-revoked-credentials").inner_text())
    snap(shot, scanner, "scanner-status")

    # A setup code works once.
    again = requests.post(base + "/api/scanner/provision", json={"setup_code": setup_code, "name": "另一台"}, timeout=5)
    assert again.status_code == 409 and again.json()["code"] == "setup_used"

    # The admin's page notices the new scanner by itself (the code is used: the QR goes away).
    row = admin.get_by_test_id(f"scanner-{scanner_id}")
    expect(row).to_contain_text("古槐路驿站前台手机", timeout=15_000)
    expect(row).to_contain_text("使用中")
    expect(admin.get_by_test_id("setup-qr")).to_have_count(0)
    snap(shot, admin, "scanner-admin-list")

    # --- an entrepreneur's personal code, verified on the scanner with no network ------------------
    entrepreneur = demo_token(base, "entrepreneur")
    entrepreneur_id = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {entrepreneur}"}, timeout=5).json()["id"]
    device_id, text = personal_code(base, entrepreneur)
    context.set_offline(True)
    expect(scanner.get_by_test_id("online-state")).to_have_text("离线")
    expect(scanner.get_by_test_id("online-state")).to_have_attribute("data-online", "false")
    verify_manually(scanner, text, "ok")
    result = scanner.get_by_test_id("verify-result")
    expect(result).to_contain_text("验证通过")
    expect(scanner.get_by_test_id("verify-user")).to_have_text("***" + str(entrepreneur_id)[-2:])
    expect(result).to_contain_text("个人码")
    snap(shot, scanner, "scanner-verify-ok")

    # The entrepreneur removes that phone; the scanner, online again, refreshes and learns of it.
    gone = requests.delete(f"{base}/api/me/devices/{device_id}", headers={"Authorization": f"Bearer {entrepreneur}"},
                           timeout=5)
    assert gone.status_code == 204, gone.text
    context.set_offline(False)
    expect(scanner.get_by_test_id("online-state")).to_have_text("在线")
    scanner.get_by_test_id("bundle-refresh").click()
    expect(scanner.get_by_test_id("bundle-revoked-credentials")).to_have_text(str(revoked_before + 1))
    expect(scanner.get_by_test_id("bundle-refresh")).to_have_text("刷新")  # no refresh left in flight

    # The same code, offline again: refused.
    context.set_offline(True)
    expect(scanner.get_by_test_id("online-state")).to_have_text("离线")
    verify_manually(scanner, text, "revoked")
    expect(scanner.get_by_test_id("verify-message")).to_contain_text("已作废")
    snap(shot, scanner, "scanner-verify-revoked")
    # … and a code that is not a personal code at all is refused with its own reason.
    verify_manually(scanner, setup_code, "wrong_type")
    verify_manually(scanner, "https://example.com/", "malformed")
    context.set_offline(False)
    expect(scanner.get_by_test_id("online-state")).to_have_text("在线")

    # --- the admin stops the scanner; its next refresh says so and forgets the device ------------
    admin.get_by_test_id(f"revoke-{scanner_id}").click()
    expect(admin.get_by_test_id("confirm-dialog")).to_contain_text("古槐路驿站前台手机")
    admin.get_by_test_id("confirm-ok").click()
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row).to_contain_text("已停用")
    expect(admin.get_by_test_id(f"revoke-{scanner_id}")).to_have_count(0)
    snap(shot, admin, "scanner-admin-revoked")

    scanner.get_by_test_id("bundle-refresh").click()
    expect(scanner.get_by_test_id("device-stopped")).to_have_text(STOPPED)
    expect(scanner.get_by_test_id("provision-submit")).to_be_visible()
    expect(scanner.get_by_test_id("scanner-status")).to_have_count(0)
    snap(shot, scanner, "scanner-device-stopped")
    scanner.reload()  # nothing of the stopped device is left on the phone
    expect(scanner.get_by_test_id("setup-code-input")).to_be_visible()
    expect(scanner.get_by_test_id("scanner-status")).to_have_count(0)


def test_scanner_admin_is_for_managers_only(page, live_server, shot):
    """A station's staff sees no 扫码设备管理 button, and the page is not theirs: the shell shows the
    plain no-permission page instead."""
    base = live_server.url
    place_id = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {demo_token(base, 'station_staff')}"},
                            timeout=5).json()["place_id"]
    demo_login(page, "station_staff", scanner=False)
    page.goto(f"/#/place-detail?id={place_id}")
    expect(page.get_by_test_id("place-name")).to_be_visible()
    expect(page.get_by_test_id("open-scanner-admin")).to_have_count(0)
    page.goto(f"/#/scanner-admin?place={place_id}")
    expect(page.get_by_test_id("page-no-permission")).to_contain_text("您没有权限查看此页面")
    expect(page.get_by_test_id("generate-setup")).to_have_count(0)


def test_a_wrong_setup_code_is_explained(page, shot):
    demo_login(page, "station_staff", scanner=False)
    page.get_by_test_id("open-scanner").click()
    page.get_by_test_id("provision-submit").click()
    expect(page.get_by_test_id("provision-error")).to_have_text("请粘贴管理员生成的开通码")
    page.get_by_test_id("setup-code-input").fill("CY:NOTACODE")
    page.get_by_test_id("provision-submit").click()
    expect(page.get_by_test_id("provision-error")).to_contain_text("开通码无效")
    expect(page.get_by_role("alert")).to_contain_text(page.get_by_test_id("provision-error").inner_text())
    snap(shot, page, "scanner-provision-error")


def test_admin_picks_the_place_from_the_admin_page(page, live_server, shot):
    place = requests.get(live_server.url + "/api/places?kind=space", timeout=5).json()[0]
    demo_login(page, "admin")
    expect(page.get_by_test_id("admin-scanners")).to_contain_text("扫码设备管理")
    snap(shot, page, "admin-scanner-entry")
    page.get_by_test_id("admin-scanners").click()
    expect(page.get_by_test_id(f"pick-place-{place['id']}")).to_contain_text(place["name"])
    snap(shot, page, "scanner-admin-pick")
    page.get_by_test_id(f"pick-place-{place['id']}").click()
    expect(page.get_by_test_id("scanner-admin-place")).to_have_text(place["name"])
    expect(page.get_by_test_id("generate-setup")).to_be_visible()


def test_workbench_entries(page, shot):
    """One entry per purpose, each named for what it does: 扫码签到 (scan people in), 本机扫码设置 (this
    phone as a scanner), 扫码设备管理 (every scanner of the place; organisers only)."""
    demo_login(page, "organiser")
    entries = page.locator(".workbench__tools").nth(1).locator(".weui-cell")
    expect(entries).to_have_count(3)
    titles = [t.strip() for t in entries.locator(".weui-cell__bd > p:first-child").all_inner_texts()]
    assert titles == ["扫码签到", "本机扫码设置", "扫码设备管理"]
    descs = entries.locator(".link-cell__desc").all_inner_texts()
    assert len(set(descs)) == 3
    expect(page.get_by_test_id("open-scanner")).to_contain_text("本机还不是扫码设备")
    snap(shot, page, "workbench-organiser-scanner")
    page.get_by_test_id("open-scanner-admin").click()
    expect(page.get_by_test_id("generate-setup")).to_be_visible()  # the organiser's own space


# --- the camera: 扫码开通 -------------------------------------------------------------------------

def write_y4m_image(path, image: Image.Image, frames: int = 20):
    """A 10 fps 4:2:0 video of ``image`` (what the admin's screen shows) centred on white."""
    canvas = Image.new("RGB", (W, H), "white")
    image = image.convert("RGB")
    side = H - 40
    image = image.resize((round(image.width * side / image.height), side), Image.BILINEAR)
    canvas.paste(image, ((W - image.width) // 2, (H - side) // 2))
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
    write_y4m_image(path, Image.new("RGB", (10, 10), "white"))
    return path


@pytest.fixture
def camera_phone(camera_browser, live_server):
    with camera_context(camera_browser, live_server, "camera phone") as (context, page):
        yield context, page


def test_the_phone_scans_the_setup_qr_and_the_admin_renames_it(page, live_server, shot, camera_phone, video_path,
                                                                tmp_path):
    base = live_server.url
    place_id = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {demo_token(base, 'station_staff')}"},
                            timeout=5).json()["place_id"]
    place = requests.get(f"{base}/api/places/{place_id}", timeout=5).json()

    # The admin's screen: a fresh setup QR, large.
    admin = page
    demo_login(admin, "admin")
    admin.goto(f"/#/scanner-admin?place={place_id}")
    admin.get_by_test_id("generate-setup").click()
    qr = admin.get_by_test_id("setup-qr")
    expect(qr).to_have_attribute("data-code", re.compile(r"^CY:"))
    setup_code = qr.get_attribute("data-code")
    assert qr.bounding_box()["width"] >= 280  # large enough to scan from another phone
    screen = tmp_path / "setup-qr.png"
    qr.screenshot(path=str(screen))
    write_y4m_image(video_path, Image.open(screen))  # the phone's camera now sees that screen

    # The station's phone: 工作台 → 本机扫码设置 → 扫码开通; the camera reads the code, the phone is provisioned.
    context, phone = camera_phone
    demo_login(phone, "station_staff", scanner=False)
    phone.get_by_test_id("open-scanner").click()
    expect(phone.get_by_test_id("setup-scan")).to_be_visible()
    phone.get_by_test_id("device-name-input").fill("古槐路驿站二号机")
    snap(shot, phone, "scanner-setup-scan-button")
    phone.get_by_test_id("setup-scan").click()
    status = phone.get_by_test_id("scanner-status")
    expect(status).to_be_visible(timeout=20_000)
    expect(phone.get_by_test_id("scanner-place")).to_have_text(place["name"])
    expect(phone.get_by_test_id("scanner-device-name")).to_have_text("古槐路驿站二号机")
    expect(phone.get_by_test_id("setup-code-input")).to_have_count(0)  # nothing was pasted
    snap(shot, phone, "scanner-provisioned-by-camera")
    scanner_id = status.get_attribute("data-device-id")
    again = requests.post(base + "/api/scanner/provision", json={"setup_code": setup_code, "name": "另一台"}, timeout=5)
    assert again.status_code == 409 and again.json()["code"] == "setup_used"  # the camera used this very code

    # The admin sees it by name, renames it; the phone learns the new name at its next refresh.
    row = admin.get_by_test_id(f"scanner-{scanner_id}")
    expect(row).to_contain_text("古槐路驿站二号机", timeout=15_000)
    expect(row).not_to_contain_text("#")
    admin.get_by_test_id(f"rename-{scanner_id}").click()
    admin.get_by_test_id("rename-input").fill("")
    admin.get_by_test_id("rename-ok").click()
    expect(admin.get_by_test_id("rename-error")).to_have_text("请填写设备名称（1 到 64 个字）")
    admin.get_by_test_id("rename-input").fill("古槐路驿站前台二号")
    snap(shot, admin, "scanner-admin-rename")
    admin.get_by_test_id("rename-ok").click()
    expect(row).to_contain_text("古槐路驿站前台二号")
    expect(admin.get_by_test_id("rename-dialog")).to_have_count(0)
    phone.get_by_test_id("bundle-refresh").click()
    expect(phone.get_by_test_id("scanner-device-name")).to_have_text("古槐路驿站前台二号")


def test_a_code_that_is_not_a_setup_code_is_explained_and_read_again(camera_phone, video_path, shot):
    write_y4m_image(video_path, qr_picture("https://example.com/not-a-setup-code"))
    context, phone = camera_phone
    demo_login(phone, "station_staff", scanner=False)
    phone.goto("/#/scanner")
    phone.get_by_test_id("setup-scan").click()
    expect(phone.get_by_test_id("provision-error")).to_contain_text("这不是开通二维码", timeout=20_000)
    expect(phone.get_by_test_id("qr-scanner")).to_be_visible()  # still scanning for the right one
    expect(phone.get_by_test_id("scanner-status")).to_have_count(0)


def qr_picture(text: str) -> Image.Image:
    import qrcode

    return qrcode.make(text, border=4).convert("RGB")


def test_the_demo_station_phone_is_a_scanner_right_after_the_demo_login(page, live_server, shot):
    """./dev.sh run → 演示登录 as the station staff → 扫码签到 works at once: no setup code, no admin."""
    base = live_server.url
    place_id = requests.get(base + "/api/me", headers={"Authorization": f"Bearer {demo_token(base, 'station_staff')}"},
                            timeout=5).json()["place_id"]
    place = requests.get(f"{base}/api/places/{place_id}", timeout=5).json()
    demo_login(page, "station_staff")
    expect(page.get_by_test_id("open-scanner")).to_contain_text(f"本机已开通：演示驿站前台手机 · {place['name']}")
    snap(shot, page, "workbench-station-demo")
    page.get_by_test_id("open-station-scanner").click()
    expect(page.get_by_test_id("page-station-scanner")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("station-place")).to_have_text(place["name"])
    expect(page.get_by_test_id("qr-scanner")).to_be_visible()
    snap(shot, page, "station-scanner-demo-ready")
    listed = requests.get(f"{base}/api/places/{place_id}/scanners",
                          headers={"Authorization": f"Bearer {demo_token(base, 'admin')}"}, timeout=5).json()
    assert any(s["name"] == "演示驿站前台手机" and s["place_name"] == place["name"] and not s["revoked_at"]
               for s in listed)
