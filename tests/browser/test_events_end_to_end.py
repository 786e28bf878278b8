"""The whole life of an event in Chromium, two phones: the organiser (赵组织) publishes an event in the
form; the entrepreneur (张创业) finds it in the 活动 tab, signs up and opens the 电子票, which still
shows with the phone offline; at the door the organiser's phone, offline too, reads that ticket
(签到成功（离线）, 1 to upload); back online it uploads once, and the server holds exactly one check-in
and one door scan for it — a second upload of the same item changes nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE_VIEWPORT, demo_token
from tests.browser.test_events_entrepreneur import qr_is_drawn
from tests.browser.scanning import manual_scan
from tests.browser.test_events_organiser import BEIJING, api, event_named, local_input

pytestmark = pytest.mark.both_databases  # the door's writes run on PostgreSQL under a browser too

TITLE = "创业沙龙：两部手机的端到端测试"


def phone_context(browser, live_server):
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def publish(page, shot) -> None:
    page.goto("/")
    page.get_by_test_id("demo-login-organiser").click()
    page.get_by_test_id("open-organiser-events").click()
    page.get_by_test_id("event-new").click()
    expect(page.get_by_test_id("event-form")).to_be_visible()
    now = datetime.now(BEIJING)
    page.get_by_test_id("field-title").fill(TITLE)
    page.get_by_test_id("field-kind").select_option("salon")
    page.get_by_test_id("field-description").fill("一部手机报名，另一部手机在门口签到。")
    page.get_by_test_id("field-starts_at").fill(local_input(now + timedelta(hours=1)))
    page.get_by_test_id("field-ends_at").fill(local_input(now + timedelta(hours=3)))
    page.get_by_test_id("field-signup_opens_at").fill(local_input(now - timedelta(hours=1)))
    page.get_by_test_id("field-signup_closes_at").fill(local_input(now + timedelta(minutes=50)))
    page.get_by_test_id("field-capacity").fill("20")
    page.get_by_test_id("event-publish").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("event-state")).to_have_text("已发布")
    shot(page, "e2e-organiser-published")


def sign_up_and_keep_ticket(page, context, shot) -> int:
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    page.get_by_test_id("tab-events").click()
    page.get_by_test_id("event-card").filter(has_text=TITLE).click()
    expect(page.get_by_test_id("signup")).to_have_text("立即报名")
    page.get_by_test_id("signup").click()
    expect(page.get_by_test_id("signup-result")).to_have_attribute("data-state", "registered")
    page.get_by_test_id("result-ticket").click()
    qr_is_drawn(page)
    registration_id = int(page.url.split("id=")[1].split("&")[0])
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)
    context.set_offline(True)
    page.reload()
    qr_is_drawn(page)
    expect(page.get_by_test_id("ticket-title")).to_have_text(TITLE)
    shot(page, "e2e-ticket-offline")
    return registration_id


def test_publish_sign_up_ticket_offline_door_offline_sync_once(browser, live_server, shot):
    base = live_server.url
    org_context, org_page, org_errors = phone_context(browser, live_server)
    ent_context, ent_page, ent_errors = phone_context(browser, live_server)
    try:
        publish(org_page, shot)
        registration_id = sign_up_and_keep_ticket(ent_page, ent_context, shot)
        # the ticket's text, as the door camera would read it off the entrepreneur's screen
        entrepreneur = demo_token(base, "entrepreneur")
        code = api(base, "GET", f"/api/me/registrations/{registration_id}", entrepreneur).json()["ticket"]["code"]

        organiser = demo_token(base, "organiser")
        event = event_named(base, organiser, TITLE)
        org_page.goto(f"/#/event-door?id={event['id']}")
        expect(org_page.get_by_test_id("page-event-door")).to_be_visible()
        expect(org_page.get_by_test_id("door-registered")).to_have_text("1", timeout=15000)
        org_page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                                   timeout=15000)
        org_context.set_offline(True)
        expect(org_page.get_by_test_id("door-mode")).to_have_text("离线验票")
        manual_scan(org_page, code)
        expect(org_page.get_by_test_id("door-result-title")).to_have_text("签到成功（离线）")
        expect(org_page.get_by_test_id("door-pending")).to_have_text("1")
        shot(org_page, "e2e-door-offline")
        assert api(base, "GET", f"/api/organiser/events/{event['id']}/counts", organiser).json()["checked_in"] == 0

        org_context.set_offline(False)
        expect(org_page.get_by_test_id("door-pending")).to_have_text("0", timeout=20000)
        shot(org_page, "e2e-door-synced")

        counts = api(base, "GET", f"/api/organiser/events/{event['id']}/counts", organiser).json()
        assert counts["checked_in"] == 1 and counts["registered"] == 1
        scans = api(base, "GET", f"/api/organiser/events/{event['id']}/scans", organiser).json()
        assert [(s["registration_id"], s["result"], s["offline"]) for s in scans] == [(registration_id, "ok", True)]
        # the same upload again (a retry after a lost answer) changes nothing
        replay = requests.post(base + "/api/events/checkins", timeout=10, headers={"Authorization": f"Bearer {organiser}"},
                               json={"event_id": event["id"], "items": [{"nonce": scans[0]["nonce"], "code": code,
                                                                          "offline": True}]}).json()
        assert replay["results"][0]["result"] == "ok" and replay["results"][0]["replayed"] is True
        assert len(api(base, "GET", f"/api/organiser/events/{event['id']}/scans", organiser).json()) == 1

        ent_context.set_offline(False)
        ent_page.reload()
        expect(ent_page.get_by_test_id("ticket-status-title")).to_have_text("已签到", timeout=15000)
        shot(ent_page, "e2e-ticket-checked-in")
    finally:
        org_context.close()
        ent_context.close()
    assert not org_errors and not ent_errors, (org_errors, ent_errors)
