"""The organiser's side of events in Chromium, on a phone with a (fake) camera: 赵组织 creates an event
with a cover (a non-image refused first) and publishes it; two entrepreneurs sign up through the API;
the event page's live counts show them; the attendance sheet downloads as XLSX and CSV; on the demo
roadshow that needs approval one sign-up is approved and one refused with a reason. At the door the
camera reads the first ticket (签到成功), the same ticket typed again says 已签到; with the network off
the second ticket is let in offline (签到成功（离线）, 1 to upload), a ticket of another event is
refused, the page is reloaded offline and still holds the queue; back online it uploads once. The
server then has the second person checked in once with one ok door scan. Every page is screenshot at
phone width, the figures and the form also at desktop width."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE_VIEWPORT, demo_login, demo_token
from tests.browser.scanning import manual_scan, open_manual
from tests.browser.test_qr_scanner import write_y4m

BEIJING = timezone(timedelta(hours=8))
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
TITLE = "创业沙龙：浏览器测试专场"
ROADSHOW = "科创项目路演（第 3 期）"
SECOND_PHONE = "13700005678"


@pytest.fixture(scope="module")
def video_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(path, None)
    return path


@pytest.fixture(scope="module")
def camera_browser(browser, video_path):
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video_path.resolve()}"])
    yield camera
    camera.close()


@pytest.fixture
def phone(camera_browser, live_server):
    context = camera_browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                         base_url=live_server.url, device_scale_factor=2, accept_downloads=True)
    context.grant_permissions(["camera"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield context, page
    context.close()
    assert not errors, f"JavaScript errors on the organiser's phone: {errors}"


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


# --- helpers --------------------------------------------------------------------------------------

def api(base: str, method: str, path: str, token: str, **kwargs):
    return requests.request(method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs)


def snap(shot, page, name: str):
    """A full-page screenshot without a toast over it, from the top."""
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def local_input(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def cover_png(path: Path) -> Path:
    image = Image.new("RGB", (1280, 720), (7, 193, 96))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1280, 80):
        draw.rectangle([i, 0, i + 39, 720], fill=(6, 174, 86))
    draw.ellipse([490, 210, 790, 510], fill=(255, 255, 255))
    image.save(path, "PNG")
    return path


def second_entrepreneur(live_server) -> str:
    """A new person signs in with a phone code (an entrepreneur) and gives a name."""
    base = live_server.url
    assert requests.post(base + "/api/auth/sms-code", json={"phone": SECOND_PHONE}, timeout=5).ok
    code = live_server.last_sms_code(SECOND_PHONE[:3] + "****" + SECOND_PHONE[-4:])
    login = requests.post(base + "/api/auth/login/phone", json={"phone": SECOND_PHONE, "code": code}, timeout=5)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert api(base, "PATCH", "/api/me", token, json={"name": "陈小新"}).status_code == 200
    return token


def sign_up(base: str, token: str, event_id: int) -> dict:
    answer = api(base, "POST", f"/api/events/{event_id}/registrations", token)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def ticket_of(base: str, token: str, registration_id: int) -> str:
    answer = api(base, "GET", f"/api/me/registrations/{registration_id}", token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ticket"], answer.json()
    return answer.json()["ticket"]["code"]


def event_named(base: str, token: str, title: str) -> dict:
    answer = api(base, "GET", "/api/organiser/events", token, params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    [event] = [e for e in answer.json() if e["title"] == title]
    return event


# --- the flow -------------------------------------------------------------------------------------

def create_and_publish(page, shot, tmp_path, base: str, org: str) -> int:
    page.get_by_test_id("open-organiser-events").click()
    expect(page.get_by_test_id("page-organiser-events")).to_be_visible()
    expect(page.get_by_test_id("event-list")).to_contain_text(ROADSHOW)
    roadshow = event_named(base, org, ROADSHOW)
    expect(page.get_by_test_id(f"event-{roadshow['id']}").get_by_test_id("event-checked-in")).to_have_text("0")
    expect(page.get_by_test_id("event-checked-in").filter(has_text="…")).to_have_count(0)
    snap(shot, page, "organiser-events-phone")

    page.get_by_test_id("event-new").click()
    expect(page.get_by_test_id("event-form")).to_be_visible()
    expect(page.get_by_test_id("field-place_id")).to_contain_text("任城创业陪跑空间")

    # not an image: refused here, in Chinese, nothing uploaded
    page.get_by_test_id("cover-input").set_input_files({"name": "说明.txt", "mimeType": "text/plain", "buffer": "不是图片".encode()})
    expect(page.get_by_test_id("cover-error")).to_have_text("封面只支持 JPG、PNG、WebP 图片")
    # a file that claims to be a PNG but is not: the server says so
    page.get_by_test_id("cover-input").set_input_files({"name": "fake.png", "mimeType": "image/png", "buffer": b"not a png at all"})
    expect(page.get_by_test_id("cover-error")).to_contain_text("图片")
    expect(page.get_by_test_id("cover-preview")).to_have_count(0)

    page.get_by_test_id("cover-input").set_input_files(str(cover_png(tmp_path / "cover.png")))
    expect(page.get_by_test_id("cover-preview")).to_be_visible()
    expect(page.get_by_test_id("cover-progress")).to_have_count(0, timeout=10000)
    expect(page.get_by_test_id("cover-error")).to_have_count(0)

    now = datetime.now(BEIJING)
    page.get_by_test_id("field-title").fill(TITLE)
    page.get_by_test_id("field-kind").select_option("salon")
    page.get_by_test_id("field-description").fill("浏览器测试：开业第一年的店主分享选址、定价和现金流。")
    page.get_by_test_id("field-starts_at").fill(local_input(now + timedelta(hours=1)))
    # the defaults (14:00–16:00, sign-up until 12:00) keep their distance from a moved start
    expect(page.get_by_test_id("field-ends_at")).to_have_value(local_input(now + timedelta(hours=3)))
    expect(page.get_by_test_id("field-signup_closes_at")).to_have_value(local_input(now - timedelta(hours=1)))
    page.get_by_test_id("field-ends_at").fill(local_input(now - timedelta(hours=1)))  # before the start
    page.get_by_test_id("field-signup_opens_at").fill(local_input(now - timedelta(hours=1)))
    page.get_by_test_id("field-signup_closes_at").fill(local_input(now + timedelta(minutes=50)))
    page.get_by_test_id("field-capacity").fill("10")
    page.get_by_test_id("event-publish").click()
    expect(page.get_by_test_id("error-ends_at")).to_have_text("结束时间应晚于开始时间")
    expect(page.get_by_test_id("field-ends_at")).to_be_focused()  # taken to the field, not only a toast
    page.get_by_test_id("field-ends_at").fill(local_input(now + timedelta(hours=3)))
    snap(shot, page, "organiser-event-new-phone")

    page.get_by_test_id("event-publish").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("page-organiser-event")).to_be_visible()
    expect(page.get_by_test_id("event-state")).to_have_text("已发布")
    event = event_named(base, org, TITLE)
    assert event["state"] == "published" and event["cover_card"] and event["capacity"] == 10
    assert event["kind"] == "salon" and event["place"]["name"].endswith("任城创业陪跑空间")
    assert requests.get(base + event["cover_card"], timeout=5).headers["Content-Type"] == "image/jpeg"
    return event["id"]


def approve_and_reject(page, shot, base: str, org: str, ent: str, other: str) -> tuple[int, int]:
    roadshow = event_named(base, org, ROADSHOW)
    mine = sign_up(base, ent, roadshow["id"])
    theirs = sign_up(base, other, roadshow["id"])
    assert mine["state"] == theirs["state"] == "pending"

    page.goto(f"/#/organiser-event?id={roadshow['id']}")
    expect(page.get_by_test_id("count-pending")).to_have_text("2", timeout=10000)
    expect(page.get_by_test_id("filter-pending")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id(f"attendee-{mine['id']}")).to_contain_text("张**")
    snap(shot, page, "organiser-event-pending-phone")

    page.get_by_test_id(f"attendee-{mine['id']}").get_by_test_id("attendee-approve").click()
    expect(page.get_by_test_id(f"attendee-{mine['id']}")).to_have_count(0)  # left the 待审核 filter
    page.get_by_test_id(f"attendee-{theirs['id']}").get_by_test_id("attendee-reject").click()
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id("reason-error")).to_have_text("请填写原因")
    page.get_by_test_id("reason-input").fill("项目与本期路演方向不符，欢迎报名下一期")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id(f"attendee-{theirs['id']}")).to_have_count(0)
    expect(page.get_by_test_id("count-pending")).to_have_text("0", timeout=10000)

    page.get_by_test_id("filter-all").click()
    expect(page.get_by_test_id(f"attendee-{mine['id']}").get_by_test_id("attendee-state")).to_have_text("报名成功")
    expect(page.get_by_test_id(f"attendee-{theirs['id']}").get_by_test_id("attendee-state")).to_have_text("未通过")
    expect(page.get_by_test_id(f"attendee-{theirs['id']}")).to_contain_text("项目与本期路演方向不符")
    snap(shot, page, "organiser-event-decided-phone")

    rows = {r["id"]: r for r in api(base, "GET", f"/api/organiser/events/{roadshow['id']}/registrations", org).json()}
    assert rows[mine["id"]]["state"] == "registered"
    assert rows[theirs["id"]]["state"] == "rejected" and rows[theirs["id"]]["reason"].startswith("项目与本期")
    return roadshow["id"], mine["id"]


def test_organiser_publishes_checks_in_at_the_door_and_works_offline(phone, live_server, shot, tmp_path, video_path):
    context, page = phone
    base = live_server.url
    org, ent = demo_token(base, "organiser"), demo_token(base, "entrepreneur")
    other = second_entrepreneur(live_server)

    demo_login(page, "organiser")
    expect(page.get_by_test_id("open-event-figures")).to_be_visible()
    snap(shot, page, "organiser-workbench-phone")
    event_id = create_and_publish(page, shot, tmp_path, base, org)

    # two people sign up; the event page's live figures follow
    first = sign_up(base, ent, event_id)
    second = sign_up(base, other, event_id)
    assert first["state"] == second["state"] == "registered"
    expect(page.get_by_test_id("count-registered")).to_have_text("2", timeout=10000)
    expect(page.get_by_test_id("count-checked-in")).to_have_text("0")
    expect(page.get_by_test_id("count-seats")).to_have_text("2/10")
    expect(page.get_by_test_id("attendees")).to_contain_text("陈**")
    snap(shot, page, "organiser-event-phone")

    # the attendance sheet
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert "报名编号" in text and len(list(csv.reader(io.StringIO(text)))) == 3

    # approval on the demo roadshow
    roadshow_id, roadshow_registration = approve_and_reject(page, shot, base, org, ent, other)
    other_event_ticket = ticket_of(base, ent, roadshow_registration)

    # --- the door ----------------------------------------------------------------------------
    ticket1, ticket2 = ticket_of(base, ent, first["id"]), ticket_of(base, other, second["id"])
    page.goto(f"/#/organiser-event?id={event_id}")
    write_y4m(video_path, ticket1)  # shown to the camera as it opens
    page.get_by_test_id("open-door").click()
    expect(page.get_by_test_id("page-event-door")).to_be_visible()
    result = page.get_by_test_id("door-result")
    expect(result).to_have_attribute("data-result", "ok", timeout=15000)
    write_y4m(video_path, None)
    expect(page.get_by_test_id("door-result-title")).to_have_text("签到成功")
    expect(page.get_by_test_id("door-result-name")).to_have_text("张**")
    expect(page.get_by_test_id("door-checked-in")).to_have_text("1", timeout=10000)
    expect(page.get_by_test_id("door-registered")).to_have_text("2")
    snap(shot, page, "event-door-ok-phone")

    # the same ticket again (typed, as a scanner gun would): already in, with the time
    manual_scan(page, ticket1)
    expect(result).to_have_attribute("data-result", "duplicate")
    expect(page.get_by_test_id("door-result-title")).to_contain_text("已签到（")
    snap(shot, page, "event-door-duplicate-phone")

    # network off: checked here, queued, nothing lost
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    expect(page.get_by_test_id("door-mode")).to_have_text("离线验票")
    manual_scan(page, ticket2)
    expect(result).to_have_attribute("data-result", "ok")
    expect(result).to_have_attribute("data-offline", "true")
    expect(page.get_by_test_id("door-result-title")).to_have_text("签到成功（离线）")
    expect(page.get_by_test_id("door-pending")).to_have_text("1")
    expect(page.get_by_test_id("door-checked-in")).to_have_text("2")
    manual_scan(page, ticket2)  # this phone remembers it let them in
    expect(result).to_have_attribute("data-result", "duplicate")
    manual_scan(page, other_event_ticket)
    expect(result).to_have_attribute("data-result", "rejected")
    expect(page.get_by_test_id("door-result-title")).to_have_text("这张票不是本场活动的")
    manual_scan(page, ticket1)  # checked in online before: known from the door list
    expect(result).to_have_attribute("data-result", "duplicate")
    expect(page.get_by_test_id("door-pending")).to_have_text("1")
    snap(shot, page, "event-door-offline-phone")

    # reload with the network still off: the queue and the door list are still on the phone
    page.reload()
    expect(page.get_by_test_id("page-event-door")).to_be_visible()
    expect(page.get_by_test_id("door-mode")).to_have_text("离线验票")
    expect(page.get_by_test_id("door-pending")).to_have_text("1")
    queued = page.locator(f"[data-testid=door-scan][data-registration='{second['id']}'][data-state=queued]")
    expect(queued).to_have_count(1)
    snap(shot, page, "event-door-offline-reloaded-phone")

    # back online: it uploads by itself, once
    context.set_offline(False)
    expect(page.get_by_test_id("door-pending")).to_have_text("0", timeout=20000)
    sent = page.locator(f"[data-testid=door-scan][data-registration='{second['id']}'][data-state=sent]")
    expect(sent).to_have_count(1, timeout=10000)
    expect(sent).to_have_attribute("data-result", "ok")
    expect(page.get_by_test_id("door-mode")).to_have_text("在线")
    expect(page.get_by_test_id("door-checked-in")).to_have_text("2", timeout=10000)
    snap(shot, page, "event-door-synced-phone")

    rows = api(base, "GET", f"/api/organiser/events/{event_id}/registrations", org, params={"checked_in": "true"}).json()
    assert sorted(r["id"] for r in rows) == sorted([first["id"], second["id"]])
    scans = api(base, "GET", f"/api/organiser/events/{event_id}/scans", org, params={"page_size": 100}).json()
    of_second = [s for s in scans if s["registration_id"] == second["id"]]
    assert [(s["result"], s["offline"]) for s in of_second] == [("ok", True)]
    of_first = [s for s in scans if s["registration_id"] == first["id"]]
    assert [s["result"] for s in of_first].count("ok") == 1 and "duplicate" in [s["result"] for s in of_first]
    counts = api(base, "GET", f"/api/organiser/events/{event_id}/counts", org).json()
    assert counts["checked_in"] == 2 and counts["registered"] == 2

    # the event page's 签到记录 shows the scans, the offline one marked
    page.get_by_test_id("door-open-event").click()
    expect(page.get_by_test_id("count-checked-in")).to_have_text("2", timeout=10000)
    page.get_by_test_id("filter-scans").click()
    expect(page.locator(f"[data-testid^=scan-][data-registration='{second['id']}'][data-result=ok]")).to_have_count(1)
    snap(shot, page, "organiser-event-scans-phone")

    # a published event: only some fields may change
    page.goto(f"/#/organiser-event-edit?id={event_id}")
    expect(page.get_by_test_id("locked-note")).to_be_visible()
    expect(page.get_by_test_id("field-starts_at")).to_be_disabled()
    expect(page.get_by_test_id("field-place_id")).to_be_disabled()
    expect(page.get_by_test_id("field-title")).to_be_enabled()
    expect(page.get_by_test_id("cover-preview")).to_be_visible()
    snap(shot, page, "organiser-event-edit-published-phone")

    # figures
    page.goto("/#/event-figures")
    expect(page.get_by_test_id("figures-by-kind")).to_be_visible()
    expect(page.get_by_test_id("target-events")).to_contain_text("/ 100")
    snap(shot, page, "event-figures-phone")
    page.get_by_test_id("filter-place").click()
    expect(page.get_by_test_id("figures-by-kind")).to_contain_text("任城创业陪跑空间")

    # cancelling tells everyone who signed up
    page.goto(f"/#/organiser-event?id={event_id}")
    page.get_by_test_id("event-cancel").click()
    page.get_by_test_id("reason-input").fill("场地临时检修，活动取消")
    page.get_by_test_id("reason-ok").click()
    expect(page.get_by_test_id("cancel-told")).to_have_text("活动已取消，已通知 2 位报名人。")
    expect(page.get_by_test_id("event-state")).to_have_text("已取消")
    snap(shot, page, "organiser-event-cancelled-phone")
    assert roadshow_id


def test_figures_and_form_at_desktop_width(desktop, shot, live_server):
    page = desktop
    demo_login(page, "admin")
    expect(page.get_by_test_id("admin-event-figures")).to_be_visible()
    snap(shot, page, "admin-home-events-desktop")
    page.get_by_test_id("admin-event-figures").click()
    expect(page.get_by_test_id("figures-by-month")).to_be_visible()
    expect(page.get_by_test_id("target-mentor_visits")).to_contain_text("/ 20")
    snap(shot, page, "event-figures-desktop")

    page.goto("/#/organiser-events")
    expect(page.get_by_test_id("event-list")).to_contain_text(ROADSHOW)
    expect(page.get_by_test_id("event-checked-in").filter(has_text="…")).to_have_count(0)
    snap(shot, page, "organiser-events-desktop")
    page.get_by_test_id("event-new").click()
    expect(page.get_by_test_id("event-form")).to_be_visible()
    snap(shot, page, "organiser-event-new-desktop")
    roadshow = event_named(live_server.url, demo_token(live_server.url, "admin"), ROADSHOW)
    page.goto(f"/#/organiser-event-edit?id={roadshow['id']}")
    expect(page.get_by_test_id("field-kind")).to_be_disabled()
    snap(shot, page, "organiser-event-edit-desktop")
    page.goto(f"/#/organiser-event?id={roadshow['id']}")
    expect(page.get_by_test_id("count-registered")).not_to_have_text("…", timeout=10000)
    snap(shot, page, "organiser-event-desktop")


def test_scanner_gun_at_the_door(live_server, page, shot):
    """A scanner gun (keyboard wedge) at the door: it types a ticket and presses Enter, then the next one
    straight away, while the first is still being checked. The box clears after each Enter, the two
    tickets never run together, and both people are checked in, in order."""
    base = live_server.url
    org, ent = demo_token(base, "organiser"), demo_token(base, "entrepreneur")
    other = second_entrepreneur(live_server)
    [place, *_] = api(base, "GET", "/api/organiser/places", org).json()
    now = datetime.now(timezone.utc)
    created = api(base, "POST", "/api/organiser/events", org, json={
        "place_id": place["id"], "title": "创业讲堂：扫码枪签到", "kind": "salon", "capacity": 10,
        "starts_at": (now + timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat(),
        "signup_opens_at": (now - timedelta(hours=1)).isoformat(),
        "signup_closes_at": (now + timedelta(minutes=50)).isoformat()})
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    assert api(base, "POST", f"/api/organiser/events/{event_id}/publish", org).status_code == 200
    first, second = sign_up(base, ent, event_id), sign_up(base, other, event_id)
    tickets = [ticket_of(base, ent, first["id"]), ticket_of(base, other, second["id"])]

    demo_login(page, "organiser")
    page.goto(f"/#/event-door?id={event_id}")
    expect(page.get_by_test_id("door-registered")).to_have_text("2", timeout=15000)
    open_manual(page)
    box = page.get_by_test_id("qr-manual-input")
    box.click()
    for ticket in tickets:  # no pause between the two: a gun is faster than the server
        page.keyboard.insert_text(ticket)
        page.keyboard.press("Enter")
        expect(box).to_have_value("")

    rows = page.get_by_test_id("door-scan")
    expect(rows).to_have_count(2, timeout=15000)
    for registration in (first, second):
        expect(page.locator(f"[data-testid=door-scan][data-registration='{registration['id']}'][data-result=ok]")).to_have_count(1)
    expect(rows.first).to_have_attribute("data-registration", str(second["id"]))  # newest first: in order
    expect(page.get_by_test_id("door-result-title")).to_have_text("签到成功")
    expect(page.get_by_test_id("door-checked-in")).to_have_text("2", timeout=10000)
    expect(page.get_by_test_id("door-pending")).to_have_text("0")
    snap(shot, page, "event-door-gun-phone")
    scans = api(base, "GET", f"/api/organiser/events/{event_id}/scans", org).json()
    assert sorted((s["registration_id"], s["result"]) for s in scans) == sorted([(first["id"], "ok"), (second["id"], "ok")])

    # an upload queued by a newer version of the app, 8 days ago: kept (never dropped), counted, and the
    # page says what to do about it
    page.evaluate("""async () => {
      const user = JSON.parse(localStorage.getItem('cyql.user'))
      const db = await new Promise((ok, bad) => { const r = indexedDB.open('cyql'); r.onsuccess = () => ok(r.result); r.onerror = bad })
      await new Promise((ok, bad) => {
        const tx = db.transaction('outbox', 'readwrite')
        tx.objectStore('outbox').add({ nonce: 'f'.repeat(32), user_id: user.id, op: 'from_a_newer_app', payload: { x: 1 },
          client_ts: new Date(Date.now() - 8 * 86400000).toISOString(), attempts: 0, next_try_at: 0, last_error: null })
        tx.oncomplete = ok
        tx.onerror = bad
      })
      db.close()
    }""")
    page.reload()
    notice = page.get_by_test_id("door-notice")
    expect(notice).to_contain_text("1 条离线记录需要更新应用后才能上传")
    expect(notice).to_contain_text("1 条离线记录已超过 7 天未上传")
    expect(page.get_by_test_id("door-pending")).to_have_text("0")  # not this door's: counted in the notice only
    snap(shot, page, "event-door-notice-phone")
    kept = page.evaluate("""async () => {
      const db = await new Promise((ok, bad) => { const r = indexedDB.open('cyql'); r.onsuccess = () => ok(r.result); r.onerror = bad })
      const all = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result) })
      db.close()
      return all.map((item) => [item.op, Boolean(item.unknown)])
    }""")
    assert kept == [["from_a_newer_app", True]]

    # 我的 says the same, so the organiser sees it away from the door too
    page.goto("/#/mine")
    mine_notice = page.get_by_test_id("mine-outbox-notice")
    expect(mine_notice).to_contain_text("1 条离线记录需要更新应用后才能上传")
    expect(mine_notice).to_contain_text("1 条离线记录已超过 7 天未上传")
    expect(page.get_by_test_id("outbox-pending").locator(".weui-cell__ft")).to_have_text("1 条，点击立即同步")
    snap(shot, page, "mine-outbox-notice-phone")
