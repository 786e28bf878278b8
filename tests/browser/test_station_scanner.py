"""The station staff's check-in scanner in Chromium, through the real camera path: Chromium's fake camera
plays a Y4M video of a freshly signed personal code (rewritten before each scan), QrScanner reads it with
getUserMedia + canvas + jsQR.

The demo loan station's phone is provisioned with a setup code an admin made (扫码签到 → 去开通 → 开始扫码签到).
Online, the demo entrepreneur is checked in (签到成功 with the server's masked name). With the network off,
three new entrepreneurs are scanned (已核验的创业者 until the server names them, purposes picked, a loan note), the page is reloaded in the
middle (the queue is still there), and while the phone is offline one of them removes the phone that made
the code (→ 离线放行待核查) and another is met first by a second, offline scanner (→ 多设备重复). Back online
the queue goes in one request; the server then holds each visit exactly once, and a fresh re-scan of a person
checked in today says 今日已到访. Every state is screenshot at phone width."""
from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from backend.core import codes
from backend.core.codes import Purpose
from tests.browser.conftest import camera_context, demo_login, demo_token
from tests.browser.scanning import manual_scan
from tests.browser.test_qr_scanner import write_y4m
from tests.factories import p256_key

pytestmark = pytest.mark.both_databases  # the PostgreSQL unnest ingest runs under a browser too

BEIJING = timezone(timedelta(hours=8))
PEOPLE = [("13700001111", "王小明"), ("13700002222", "李春花"), ("13700003333", "赵大山")]


@pytest.fixture(scope="module")
def video_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(path, None)
    return path


@pytest.fixture
def phone(camera_browser, live_server):
    with camera_context(camera_browser, live_server, "station's phone") as (context, page):
        yield context, page


# --- helpers --------------------------------------------------------------------------------------

def api(base: str, method: str, path: str, token: str | None = None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, base + path, headers=headers, timeout=10, **kwargs)


def snap(shot, page, name: str):
    """A full-page screenshot without a toast over it, from the top."""
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


class Person:
    """An entrepreneur with a registered phone that shows personal codes (made here, as lib/device.js does)."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.id = api(base, "GET", "/api/me", token).json()["id"]
        self.key = p256_key()
        public = base64.urlsafe_b64encode(codes.compress_p256(self.key.public_key())).rstrip(b"=").decode()
        answer = api(base, "POST", "/api/me/devices", token, json={"public_key": public, "name": "测试手机"})
        assert answer.status_code == 201, answer.text
        self.device_id = answer.json()["device"]["id"]
        self.credential = codes.from_text(answer.json()["credential"])

    def code(self, at: float | None = None) -> str:
        """A personal code made now (they live 30 s ± 20 s: make it right before it is shown), or at ``at``."""
        return codes.to_text(codes.encode_personal(self.credential, device_key=self.key, purpose=Purpose.identify,
                                                   ts=int(time.time() if at is None else at)))


def new_entrepreneur(live_server, phone_number: str, name: str) -> Person:
    base = live_server.url
    assert requests.post(base + "/api/auth/sms-code", json={"phone": phone_number}, timeout=5).ok
    sms = live_server.last_sms_code(phone_number[:3] + "****" + phone_number[-4:])
    login = requests.post(base + "/api/auth/login/phone", json={"phone": phone_number, "code": sms}, timeout=5)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert api(base, "PATCH", "/api/me", token, json={"name": name}).status_code == 200
    return Person(base, token)


def show_to_camera(page, video_path, code: str | None):
    """Hold a code up to the camera: the video is rewritten and the camera opened again on it."""
    write_y4m(video_path, code)
    page.get_by_test_id("qr-use-manual").click()
    page.get_by_test_id("qr-use-camera").click()


def scanned_by_camera(page, user_id: int):
    """The confirm step opened for this person, from a code the camera read."""
    confirm = page.get_by_test_id("visit-confirm")
    expect(confirm).to_be_visible(timeout=20_000)
    expect(confirm).to_have_attribute("data-source", "camera")
    expect(confirm).to_have_attribute("data-user", str(user_id))
    return confirm


def scan_row(page, user_id: int):
    return page.locator(f"[data-testid=visit-scan][data-user='{user_id}']")


# --- the flow -------------------------------------------------------------------------------------

def test_station_scanner_camera_offline_queue_and_one_sync(phone, live_server, shot, video_path):
    context, page = phone
    base = live_server.url
    admin = demo_token(base, "admin")
    staff = demo_token(base, "station_staff")
    place_id = api(base, "GET", "/api/me", staff).json()["place_id"]
    place = api(base, "GET", f"/api/places/{place_id}").json()
    assert place["kind"] == "loan_station"

    demo = Person(base, demo_token(base, "entrepreneur"))
    people = [new_entrepreneur(live_server, number, name) for number, name in PEOPLE]
    wang, li, zhao = people

    sync_posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/api/checkins/sync") and sync_posts.append(r.url))

    # --- 工作台 → 扫码签到: not a scanner yet → 去开通 with the admin's setup code ----------------------
    demo_login(page, "station_staff", scanner=False)
    expect(page.get_by_test_id("open-station-scanner")).to_contain_text("扫码签到")
    snap(shot, page, "station-workbench-phone")
    page.get_by_test_id("open-station-scanner").click()
    expect(page.get_by_test_id("station-not-provisioned")).to_contain_text("本机还不是扫码设备")
    snap(shot, page, "station-scanner-not-provisioned-phone")
    page.get_by_test_id("go-provision").click()
    setup = api(base, "POST", f"/api/places/{place_id}/scanner-setups", admin)
    assert setup.status_code == 201, setup.text
    page.get_by_test_id("setup-code-input").fill(setup.json()["setup_code"])
    page.get_by_test_id("device-name-input").fill("古槐路驿站前台手机")
    page.get_by_test_id("provision-submit").click()
    expect(page.get_by_test_id("scanner-status")).to_be_visible()
    expect(page.get_by_test_id("bundle-updated")).not_to_have_text("尚未下载", timeout=10_000)
    expect(page.get_by_test_id("start-checkin")).to_have_text("开始扫码签到")
    snap(shot, page, "scanner-status-start-phone")

    # --- online: the demo entrepreneur, read by the camera -------------------------------------------
    write_y4m(video_path, demo.code())
    page.get_by_test_id("start-checkin").click()
    expect(page.get_by_test_id("page-station-scanner")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("station-place")).to_have_text(place["name"])
    expect(page.get_by_test_id("station-online")).to_have_text("在线")
    confirm = scanned_by_camera(page, demo.id)
    write_y4m(video_path, None)
    expect(page.get_by_test_id("visit-person")).to_have_text("已核验的创业者")
    expect(page.get_by_test_id("purpose-policy")).to_have_attribute("aria-checked", "true")  # the default
    page.get_by_test_id("purpose-guidance").click()
    expect(page.get_by_test_id("purpose-guidance")).to_have_attribute("aria-checked", "true")
    page.get_by_test_id("note-text").fill("咨询创业培训报名")
    snap(shot, page, "station-confirm-online-phone")
    page.get_by_test_id("confirm-visit").click()
    result = page.get_by_test_id("visit-result")
    expect(result).to_have_attribute("data-result", "ok")
    expect(result).to_have_attribute("data-offline", "false")
    expect(page.get_by_test_id("visit-result-title")).to_have_text("签到成功")
    expect(page.get_by_test_id("visit-result-name")).to_have_text("张**")  # the server's masked name
    expect(page.get_by_test_id("today-total")).to_have_text("1", timeout=10_000)
    expect(page.get_by_test_id("today-guidance")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("station-synced")).to_contain_text("同步")
    expect(scan_row(page, demo.id)).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("qr-scanner")).to_have_attribute("data-mode", "scanning", timeout=10_000)
    snap(shot, page, "station-online-ok-phone")
    assert len(sync_posts) == 1

    # --- offline: three people, the camera still reads, each accepted here and queued -----------------
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    expect(page.get_by_test_id("station-online")).to_have_text("离线")
    expect(page.get_by_test_id("station-offline")).to_be_visible()

    show_to_camera(page, video_path, wang.code())
    scanned_by_camera(page, wang.id)
    expect(page.get_by_test_id("visit-person")).to_have_text("已核验的创业者")  # no name offline
    expect(page.get_by_test_id("purpose-guidance")).to_have_attribute("aria-checked", "true")  # last used
    page.get_by_test_id("purpose-policy").click()
    write_y4m(video_path, None)  # 王 has gone: the camera, open again, sees nobody
    page.get_by_test_id("confirm-visit").click()
    expect(result).to_have_attribute("data-result", "ok")
    expect(result).to_have_attribute("data-offline", "true")
    expect(page.get_by_test_id("visit-result-title")).to_have_text("已记录（离线）")
    expect(page.get_by_test_id("station-pending")).to_have_text("1")
    expect(scan_row(page, wang.id)).to_have_attribute("data-state", "queued")
    snap(shot, page, "station-offline-first-phone")

    li_seen = time.time()
    show_to_camera(page, video_path, li.code())
    scanned_by_camera(page, li.id)
    page.get_by_test_id("purpose-loan").click()
    page.get_by_test_id("note-amount").fill("20万")
    page.get_by_test_id("note-business").fill("餐饮")
    page.get_by_test_id("note-bank").fill("济宁银行任城支行")
    page.get_by_test_id("confirm-visit").click()
    expect(page.get_by_test_id("note-error")).to_contain_text("拟贷金额请填写数字")
    page.get_by_test_id("note-amount").fill("200000")
    page.get_by_test_id("note-text").fill("开小吃店，想申请创业担保贷款")
    snap(shot, page, "station-confirm-offline-loan-phone")
    write_y4m(video_path, None)
    page.get_by_test_id("confirm-visit").click()
    expect(page.get_by_test_id("visit-result-title")).to_have_text("已记录（离线）")
    expect(page.get_by_test_id("station-pending")).to_have_text("2")
    expect(page.get_by_test_id("today-total")).to_have_text("3")  # 1 from the server + 2 waiting
    expect(page.get_by_test_id("today-loan")).to_have_attribute("data-count", "1")
    snap(shot, page, "station-offline-queued-phone")

    # reload mid-way, still offline: the queue and the log are on the phone
    write_y4m(video_path, zhao.code())  # what the camera sees when the page opens again
    page.reload()
    expect(page.get_by_test_id("page-station-scanner")).to_have_attribute("data-state", "ready", timeout=15_000)
    expect(page.get_by_test_id("station-online")).to_have_text("离线")
    expect(page.get_by_test_id("station-pending")).to_have_text("2")
    expect(scan_row(page, wang.id)).to_have_attribute("data-state", "queued")
    expect(scan_row(page, li.id)).to_have_attribute("data-state", "queued")

    scanned_by_camera(page, zhao.id)  # the camera opened after the reload on 赵's code
    expect(page.get_by_test_id("purpose-loan")).to_have_attribute("aria-checked", "true")  # remembered
    page.get_by_test_id("purpose-event").click()
    write_y4m(video_path, None)
    page.get_by_test_id("confirm-visit").click()
    expect(page.get_by_test_id("visit-result-title")).to_have_text("已记录（离线）")
    expect(page.get_by_test_id("station-pending")).to_have_text("3")
    snap(shot, page, "station-offline-reloaded-phone")
    assert len(sync_posts) == 1  # nothing left the phone while offline

    # While the phone is offline: 赵 removes the phone that made his code, and 李 had been met half a
    # minute earlier by another scanner, itself offline (here: staff signed in, no device), which uploads
    # before us. The earliest scan holds the visit, whichever upload comes first.
    gone = api(base, "DELETE", f"/api/me/devices/{zhao.device_id}", zhao.token)
    assert gone.status_code == 204, gone.text
    now = datetime.now(timezone.utc).isoformat()
    earlier = datetime.fromtimestamp(li_seen - 30, timezone.utc).isoformat()
    other = api(base, "POST", "/api/checkins/sync", staff, json={
        "items": [{"nonce": "other-device-li-0001", "code": li.code(at=li_seen - 30), "purpose": "other",
                   "scanned_at": earlier, "offline": True}], "sent_at": now})
    assert other.status_code == 200 and other.json()["results"][0]["result"] == "ok", other.text

    # --- back online: the queue goes by itself, in one request -----------------------------------------
    context.set_offline(False)
    expect(page.get_by_test_id("station-pending")).to_have_text("0", timeout=20_000)
    expect(page.get_by_test_id("station-online")).to_have_text("在线")
    expect(scan_row(page, wang.id)).to_have_attribute("data-state", "sent")
    expect(scan_row(page, wang.id)).to_have_attribute("data-result", "ok")
    expect(scan_row(page, wang.id)).to_contain_text("王**")  # the server's masked name, now known
    expect(scan_row(page, li.id)).to_have_attribute("data-result", "duplicate")
    expect(scan_row(page, li.id)).to_have_attribute("data-conflict", "true")
    expect(scan_row(page, li.id).get_by_test_id("flag-conflict")).to_have_text("多设备重复")
    expect(scan_row(page, zhao.id)).to_have_attribute("data-result", "forced")
    expect(scan_row(page, zhao.id).get_by_test_id("visit-scan-status")).to_have_text("离线放行待核查")
    expect(page.get_by_test_id("today-total")).to_have_text("4", timeout=10_000)
    expect(page.get_by_test_id("visit-result-title")).to_have_text("离线放行待核查")  # 赵's card, answered
    snap(shot, page, "station-synced-phone")
    assert len(sync_posts) == 2, sync_posts  # the online scan, then one batch for the whole queue

    # --- the server holds each visit once ------------------------------------------------------------
    visits = api(base, "GET", "/api/checkins/visits", admin, params={"place_id": place_id, "page_size": 100}).json()
    today = datetime.now(BEIJING).date().isoformat()
    names = sorted(v["name"] for v in visits if v["day"] == today)
    assert names == sorted(["张**", "王**", "李**", "赵**"]), visits
    mine = {v["name"]: v for v in visits if v["day"] == today}
    assert mine["王**"]["purpose"] == "policy" and mine["王**"]["offline"] is True
    assert mine["李**"]["purpose"] == "other"  # the other scanner's earlier scan holds the visit
    assert mine["赵**"]["purpose"] == "event" and mine["赵**"]["forced_reason"] == "revoked"
    assert mine["张**"]["purpose"] == "guidance" and mine["张**"]["offline"] is False
    figures = api(base, "GET", "/api/checkins/today", staff).json()
    assert figures["total"] == 4 and figures["by_purpose"]["event"] == 1
    conflicts = api(base, "GET", "/api/admin/checkin-scans", admin, params={"kind": "conflict"}).json()
    assert [s["user_id"] for s in conflicts] == [li.id]
    forced = api(base, "GET", "/api/admin/checkin-scans", admin, params={"kind": "forced"}).json()
    assert [s["user_id"] for s in forced] == [zhao.id]

    # --- the same person again today, with a fresh code: 今日已到访 ----------------------------------
    show_to_camera(page, video_path, wang.code())
    scanned_by_camera(page, wang.id)
    expect(page.get_by_test_id("visit-person")).to_have_text("王**")  # known from the server's answer
    expect(page.get_by_test_id("visit-seen")).to_contain_text("已在本机签到过")
    write_y4m(video_path, None)
    page.get_by_test_id("confirm-visit").click()
    expect(result).to_have_attribute("data-result", "duplicate")
    expect(page.get_by_test_id("visit-result-title")).to_have_text("今日已到访")
    expect(page.get_by_test_id("visit-result-detail")).to_contain_text("不重复计数")
    expect(page.get_by_test_id("today-total")).to_have_text("4")
    snap(shot, page, "station-duplicate-phone")
    visits = api(base, "GET", "/api/checkins/visits", admin, params={"place_id": place_id, "page_size": 100}).json()
    assert sorted(v["name"] for v in visits if v["day"] == today) == names


def test_a_code_that_is_not_a_personal_code_is_refused_here(phone, live_server, shot):
    """Typed in (a scanner gun), with no network: refused on the phone with the reason, nothing queued."""
    context, page = phone
    base = live_server.url
    place_id = api(base, "GET", "/api/me", demo_token(base, "station_staff")).json()["place_id"]
    setup = api(base, "POST", f"/api/places/{place_id}/scanner-setups", demo_token(base, "admin")).json()
    demo_login(page, "station_staff", scanner=False)
    page.goto("/#/scanner")
    page.get_by_test_id("setup-code-input").fill(setup["setup_code"])
    page.get_by_test_id("provision-submit").click()
    expect(page.get_by_test_id("bundle-updated")).not_to_have_text("尚未下载", timeout=10_000)
    page.get_by_test_id("start-checkin").click()
    expect(page.get_by_test_id("page-station-scanner")).to_have_attribute("data-state", "ready")
    context.set_offline(True)
    expect(page.get_by_test_id("station-online")).to_have_text("离线")
    manual_scan(page, setup["setup_code"])
    result = page.get_by_test_id("visit-result")
    expect(result).to_have_attribute("data-result", "rejected")
    expect(page.get_by_test_id("visit-result-title")).to_contain_text("这不是个人码")
    expect(page.get_by_test_id("station-pending")).to_have_text("0")
    expect(page.locator("[data-testid=visit-scan]").first.get_by_test_id("visit-scan-status")).to_have_text("未通过（本机）")
    snap(shot, page, "station-refused-phone")
