"""Check-in at places, in Chromium: the poster's URL opened as WeChat's scanner would (/c/<code>),
signed out first (the place, 登录后签到, back after the login), 贷款咨询 → 签到成功; the same poster again
→ 今天已在这里签到 with the first visit; a bad and a forged code; no network → 签到需要联网, kept, sent
once the network is back; scanning from inside the app; 我的到访记录. The administrator's 到访统计
(by district and place, the export) and 签到核查 (a scan staff had rejected → 核查 with a note); station
staff's 到访统计 of their own place. The poster URL is read from the poster PNG itself (zxing-cpp)."""
from __future__ import annotations

import csv
import io
import re
import secrets
from urllib.parse import urlsplit

import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import demo_login, demo_token

GUHUAI = "创贷之家·古槐路驿站"
QUFU = "创贷之家·曲阜鼓楼驿站"
ZOUCHENG = "创贷之家·邹城平阳驿站"
DESKTOP = {"width": 1280, "height": 900}


def place_id(base: str, name: str) -> int:
    found = requests.get(base + "/api/places", params={"q": name}, timeout=5).json()
    return next(p["id"] for p in found if p["name"] == name)


def poster_url(base: str, name: str) -> str:
    """What a phone reads from the place's printed poster."""
    png = requests.get(f"{base}/api/places/{place_id(base, name)}/poster.png", timeout=60)
    assert png.status_code == 200, png.text
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert codes, "no QR code found on the poster"
    url = codes[0].text
    assert "/c/" in url, url
    return url


def as_wechat_opens(url: str) -> str:
    """The poster's host is PUBLIC_BASE_URL; the test server listens elsewhere: keep the path."""
    return urlsplit(url).path


def forged(url: str) -> str:
    """The same poster URL with one signature character changed."""
    last = url[-2]
    return url[:-2] + ("A" if last != "A" else "B") + url[-1]


def checkin_place(page, name: str):
    expect(page.get_by_test_id("page-checkin")).to_be_visible()
    expect(page.get_by_test_id("checkin-place-name")).to_have_text(name)


def test_entrepreneur_without_visits_sees_how_to_check_in_and_scans_from_the_app(page, live_server, shot):
    base = live_server.url
    demo_login(page, "entrepreneur")
    expect(page.get_by_test_id("open-checkin")).to_be_visible()

    page.get_by_test_id("tab-mine").click()
    page.get_by_test_id("mine-visits").click()
    expect(page.get_by_test_id("page-my-visits")).to_be_visible()
    expect(page.get_by_test_id("empty-state")).to_contain_text("还没有到访记录")
    expect(page.get_by_test_id("empty-state")).to_contain_text("扫门口张贴的")
    shot(page, "my-visits-empty")

    # 扫码签到 from home: no camera here, so the scanner offers 手动输入.
    page.goto("/#/home")
    expect(page.get_by_test_id("open-checkin")).to_contain_text("扫码签到")
    shot(page, "checkin-home-entry")
    page.get_by_test_id("open-checkin").click()
    expect(page.get_by_test_id("page-checkin")).to_be_visible()
    expect(page.get_by_test_id("qr-manual-input")).to_be_visible()
    page.get_by_test_id("qr-manual-input").fill("https://example.com/hello")
    page.get_by_test_id("qr-manual-submit").click()
    expect(page.get_by_test_id("checkin-scan-error")).to_contain_text("无法识别这个二维码")
    shot(page, "checkin-scan-error")

    page.get_by_test_id("qr-manual-input").fill(poster_url(base, ZOUCHENG))
    page.get_by_test_id("qr-manual-submit").click()
    checkin_place(page, ZOUCHENG)
    expect(page.get_by_test_id("checkin-submit")).to_have_text("确认签到")
    # 确认签到 without a purpose asks for one.
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("purpose-error")).to_have_text("请先选择到访目的")
    shot(page, "checkin-form-no-purpose")


def test_poster_opened_like_wechat_checks_in_once_a_day(page, context, live_server, shot):
    base = live_server.url
    url = poster_url(base, GUHUAI)
    assert re.match(r"^https?://[^/]+/c/[A-Za-z0-9_-]+$", url), url

    # Signed out: the app opened at /c/<code> shows the place and asks to log in first.
    page.goto(as_wechat_opens(url))
    checkin_place(page, GUHUAI)
    assert urlsplit(page.url).path == "/"  # the address is clean: '/#/checkin?code=…'
    assert "#/checkin?code=" in page.url
    expect(page.get_by_test_id("checkin-purposes").get_by_role("radio")).to_have_count(5)
    page.get_by_test_id("purpose-loan").click()
    expect(page.get_by_test_id("purpose-loan")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("checkin-submit")).to_have_text("登录后签到")
    shot(page, "checkin-signed-out")
    page.get_by_test_id("checkin-submit").click()
    page.get_by_test_id("demo-login-entrepreneur").click()

    # Back on the check-in, the purpose still chosen.
    checkin_place(page, GUHUAI)
    expect(page.get_by_test_id("purpose-loan")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("checkin-submit")).to_have_text("确认签到")
    expect(page.get_by_test_id("toast")).to_be_hidden()  # 登录成功
    shot(page, "checkin-form")
    page.get_by_test_id("checkin-submit").click()
    result = page.get_by_test_id("checkin-result")
    expect(result).to_have_attribute("data-created", "true")
    expect(page.get_by_test_id("checkin-result-title")).to_have_text("签到成功")
    expect(page.get_by_test_id("checkin-visit-place")).to_have_text(GUHUAI)
    expect(page.get_by_test_id("checkin-visit-purpose")).to_have_text("贷款咨询")
    expect(page.get_by_test_id("checkin-visit-time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    first_time = page.get_by_test_id("checkin-visit-time").inner_text()
    shot(page, "checkin-success")

    # The same poster again today: the visit that counts, not a second one, not an error.
    page.goto(as_wechat_opens(url))
    checkin_place(page, GUHUAI)
    page.get_by_test_id("purpose-policy").click()
    page.get_by_test_id("checkin-submit").click()
    expect(result).to_have_attribute("data-created", "false")
    expect(page.get_by_test_id("checkin-result-title")).to_have_text(
        re.compile(r"^今天已在这里签到（\d{2}:\d{2}）$"))
    assert first_time.endswith(page.get_by_test_id("checkin-result-title").inner_text()[-6:-1])
    expect(page.get_by_test_id("checkin-visit-purpose")).to_have_text("贷款咨询")
    shot(page, "checkin-already")

    # 我的到访记录: one visit.
    page.get_by_test_id("checkin-open-visits").click()
    expect(page.get_by_test_id("page-my-visits")).to_be_visible()
    visits = page.get_by_test_id("my-visit")
    expect(visits).to_have_count(1)
    expect(visits.first.get_by_test_id("my-visit-place")).to_have_text(GUHUAI)
    expect(visits.first.get_by_test_id("my-visit-purpose")).to_have_text("贷款咨询")
    shot(page, "my-visits")

    # A code that is not a code, and a forged one (the server checks the signature).
    page.goto("/c/AAAA")
    expect(page.get_by_test_id("checkin-error-title")).to_have_text("无法识别这个二维码")
    shot(page, "checkin-bad-code")
    page.goto(as_wechat_opens(forged(url)))
    checkin_place(page, GUHUAI)  # the place id reads fine; only the server can tell
    page.get_by_test_id("purpose-guidance").click()
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("checkin-error-title")).to_have_text("签到码无效")
    shot(page, "checkin-forged")

    # No network: said plainly, kept, and sent once the network is back — once.
    qufu = poster_url(base, QUFU)
    page.goto(as_wechat_opens(qufu))
    checkin_place(page, QUFU)
    page.get_by_test_id("purpose-guidance").click()
    context.set_offline(True)
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("checkin-offline")).to_contain_text("签到需要联网")
    expect(page.get_by_test_id("checkin-submit")).to_have_text("重新提交")
    shot(page, "checkin-offline")
    context.set_offline(False)
    try:
        expect(result).to_be_visible(timeout=3000)  # the 'online' event sends it
    except AssertionError:
        page.get_by_test_id("checkin-submit").click()
    expect(result).to_have_attribute("data-created", "true")
    expect(page.get_by_test_id("checkin-visit-place")).to_have_text(QUFU)
    token = page.evaluate("localStorage.getItem('cyql.access_token')")
    mine = requests.get(base + "/api/me/visits", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    assert sorted(v["place"]["name"] for v in mine) == sorted([GUHUAI, QUFU])


def test_admin_reads_figures_exports_and_reviews_a_rejected_scan(page, live_server, shot):
    base = live_server.url
    # The demo data holds one scan of each channel for the queue (backend/checkins/demo.py): an
    # administrator has already looked at them, so what follows is what is new.
    admin = {"Authorization": f"Bearer {demo_token(base, 'admin')}"}
    seeded = requests.get(base + "/api/admin/checkin-scans", headers=admin, timeout=5,
                          params={"kind": "rejected", "reviewed": "false"}).json()
    assert sorted(s["channel"] for s in seeded) == ["door", "place"], seeded
    for demo_scan in seeded:
        done = requests.post(base + f"/api/admin/checkin-scans/{demo_scan['id']}/review", headers=admin, timeout=5,
                             json={"note": "演示数据，已核查"})
        assert done.status_code == 200, done.text
    # Station staff 王驿站 scanned something that is not a personal code at 古槐路驿站.
    staff = demo_token(base, "station_staff")
    sync = requests.post(base + "/api/checkins/sync", headers={"Authorization": f"Bearer {staff}"}, timeout=5, json={
        "items": [{"nonce": secrets.token_hex(16), "code": "CY:THIS-IS-NOT-A-CODE", "purpose": "loan"}]})
    assert sync.status_code == 200, sync.text
    assert sync.json()["results"][0]["result"] == "rejected"

    demo_login(page, "admin")
    expect(page.get_by_test_id("admin-checkin-review-count")).to_have_text("1 待核查")
    expect(page.get_by_test_id("toast")).to_be_hidden()
    shot(page, "admin-home-checkin")

    page.get_by_test_id("admin-visits").click()
    expect(page.get_by_test_id("page-admin-visits")).to_be_visible()
    expect(page.get_by_test_id("range-month")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("visits-total")).to_have_text("2")
    expect(page.get_by_test_id("total-loan")).to_contain_text("1")
    expect(page.get_by_test_id("visits-by-purpose")).to_contain_text("任城区")
    expect(page.get_by_test_id("visit-row")).to_have_count(2)
    shot(page, "admin-visits")

    page.get_by_test_id("filter-place").click()
    guhuai = place_id(base, GUHUAI)
    row = page.get_by_test_id(f"visits-row-{guhuai}")
    expect(row).to_contain_text(GUHUAI)
    page.get_by_test_id("filter-day").click()
    expect(page.get_by_test_id("filter-day")).to_have_attribute("aria-selected", "true")
    page.get_by_test_id(f"visits-row-{guhuai}").click()
    expect(page.get_by_test_id("visits-only")).to_contain_text(GUHUAI)
    expect(page.get_by_test_id("visit-row")).to_have_count(1)
    expect(page.get_by_test_id("visit-row").get_by_test_id("visit-purpose")).to_have_text("贷款咨询")
    shot(page, "admin-visits-by-place")
    page.set_viewport_size(DESKTOP)
    shot(page, "admin-visits-desktop")

    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    xlsx = download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as f:
        assert f.read(2) == b"PK"
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    with open(download.value.path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["到访编号", "日期", "时间", "场所"]
    assert sorted(r[3] for r in rows[1:]) == sorted([GUHUAI, QUFU])

    # 签到核查, one queue for places and doors: meanwhile an organiser's phone, offline at an event's
    # door, let in something that is not a ticket.
    organiser = demo_token(base, "organiser")
    door = requests.post(base + "/api/events/checkins", headers={"Authorization": f"Bearer {organiser}"}, timeout=5,
                         json={"items": [{"nonce": secrets.token_hex(16), "code": "CY:NOT-A-TICKET-EITHER",
                                          "offline": True}]})
    assert door.status_code == 200 and door.json()["results"][0]["result"] == "rejected", door.text
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/#/admin")
    page.get_by_test_id("admin-checkin-review").click()
    expect(page.get_by_test_id("page-admin-checkin-review")).to_be_visible()
    scan = page.get_by_test_id("review-scan")
    expect(scan).to_have_count(2)
    expect(page.get_by_test_id("review-channel")).to_have_text(["活动签到", "场所签到"])
    # the station's rejected scan, in Chinese, then reviewed with a note
    page.get_by_test_id("review-channel-place").click()
    expect(page.get_by_test_id("review-channel-place")).to_have_attribute("aria-selected", "true")
    expect(scan).to_have_count(1)
    expect(scan.get_by_test_id("review-reason")).to_contain_text("二维码无法识别")
    expect(scan.get_by_test_id("review-result")).to_have_text("被拒绝")
    expect(scan.get_by_test_id("review-place")).to_have_text(GUHUAI)
    expect(scan.get_by_test_id("review-device")).to_contain_text("工作人员")
    shot(page, "admin-checkin-review")
    page.set_viewport_size(DESKTOP)
    shot(page, "admin-checkin-review-desktop")
    page.set_viewport_size({"width": 390, "height": 844})

    scan.get_by_test_id("review-open").click()
    page.get_by_test_id("reason-input").fill("好")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id("reason-error")).to_contain_text("至少 2 个字")
    page.get_by_test_id("reason-input").fill("已联系驿站，确认是误扫了宣传单上的二维码")
    expect(page.get_by_test_id("reason-error")).to_be_hidden()
    shot(page, "admin-checkin-review-dialog")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("没有待核查的失败扫码")
    shot(page, "admin-checkin-review-empty")
    page.get_by_test_id("review-done").click()
    expect(page.get_by_test_id("review-note").filter(has_text="已联系驿站")).to_have_count(1)
    shot(page, "admin-checkin-review-done")
    page.get_by_test_id("filter-forced").click()
    expect(page.get_by_test_id("review-pending")).to_have_attribute("aria-selected", "false")
    page.get_by_test_id("review-pending").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("没有待核查的离线放行")
    shot(page, "admin-checkin-review-forced-empty")
    # the door's rejected scan waits in 活动签到
    page.get_by_test_id("filter-rejected").click()
    page.get_by_test_id("review-channel-door").click()
    expect(scan).to_have_count(1)
    expect(scan.get_by_test_id("review-channel")).to_have_text("活动签到")
    expect(scan.get_by_test_id("review-reason")).to_contain_text("二维码无法识别")
    expect(scan.get_by_test_id("review-device")).to_contain_text("工作人员")
    expect(scan.get_by_test_id("review-device")).to_contain_text("的手机")
    shot(page, "admin-checkin-review-door")


def test_station_staff_sees_their_own_place(page, live_server, shot):
    demo_login(page, "station_staff")
    page.get_by_test_id("open-visit-figures").click()
    expect(page.get_by_test_id("page-admin-visits")).to_be_visible()
    expect(page.get_by_test_id("visits-scope")).to_be_visible()
    expect(page.get_by_test_id(f"visits-row-{place_id(live_server.url, GUHUAI)}")).to_contain_text(GUHUAI)  # by place
    expect(page.get_by_test_id("visits-total")).to_have_text("1")  # 古槐路驿站 only, not 曲阜
    expect(page.get_by_test_id("visit-row")).to_have_count(1)
    expect(page.get_by_test_id("visit-row").get_by_test_id("visit-place")).to_contain_text(GUHUAI)
    shot(page, "station-visits")
