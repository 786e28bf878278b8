"""The entrepreneur's 活动 pages in Chromium: the events tab (search, kind and district filters, 近期 /
往期), a detail, signing up (a seat, an approval event, the waitlist of a full one), a cancelled event,
我的活动 and the 电子票 — drawn from this phone's copy with the network off, including a ticket that
only 我的活动's prefetch brought in — and cancelling a registration."""
import requests
from playwright.sync_api import expect
from tests.browser.conftest import demo_token

SALON = "创业沙龙：小店开业的第一年"
LECTURE = "创业讲堂：创业担保贷款怎么申请"
ROADSHOW = "科创项目路演（第 3 期）"
MENTOR = "创业导师基层行·嘉祥站"
UPCOMING = [SALON, LECTURE, ROADSHOW, MENTOR]


def api(base, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, base + path, headers=headers, timeout=5, **kwargs)


def event_id(base, title) -> int:
    found = api(base, "GET", "/api/events", params={"q": title}).json()
    return next(e["id"] for e in found if e["title"] == title)


def new_entrepreneur(live_server, phone: str) -> str:
    """Someone else signs in with a phone code (a new account is an entrepreneur)."""
    assert requests.post(live_server.url + "/api/auth/sms-code", json={"phone": phone}, timeout=5).ok
    code = live_server.last_sms_code(phone[:3] + "****" + phone[-4:])
    login = requests.post(live_server.url + "/api/auth/login/phone", json={"phone": phone, "code": code}, timeout=5)
    assert login.status_code == 200, login.text
    return login.json()["access_token"]


def card(page, title):
    return page.get_by_test_id("event-list").get_by_test_id("event-card").filter(has_text=title)


def open_event(page, title):
    page.goto("/#/events")
    card(page, title).click()
    expect(page.get_by_test_id("page-event-detail")).to_be_visible()
    expect(page.get_by_test_id("event-title")).to_have_text(title)


def qr_is_drawn(page):
    qr = page.get_by_test_id("ticket-qr")
    expect(qr).to_be_visible()
    assert len(qr.get_attribute("data-code") or "") > 20
    path = qr.locator("svg.qr-code path")
    expect(path).to_have_count(1)
    assert len(path.get_attribute("d")) > 1000  # thousands of dark modules, not an empty code
    box = qr.locator("svg.qr-code").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200


def test_anonymous_visitor_reads_events_and_is_sent_to_login(page, shot):
    page.goto("/#/events")
    expect(page.get_by_test_id("page-events")).to_be_visible()
    expect(page.get_by_test_id("event-card")).to_have_count(4)
    card(page, SALON).click()
    expect(page.get_by_test_id("page-event-detail")).to_be_visible()
    expect(page.get_by_test_id("signup-login")).to_have_text("登录后报名")
    shot(page, "event-detail-anonymous")
    page.get_by_test_id("signup-login").click()
    expect(page.get_by_test_id("demo-login-entrepreneur")).to_be_visible()


def test_entrepreneur_signs_up_shows_the_ticket_offline_and_cancels(page, context, live_server, shot):
    base = live_server.url
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    tabs = page.get_by_test_id("tabbar").get_by_role("tab")
    expect(tabs).to_have_text(["首页", "活动", "创业券", "场所", "我的"])

    # Home's shortcut leads to the events tab.
    page.get_by_test_id("shortcut-events").click()
    expect(page.get_by_test_id("page-events")).to_be_visible()
    expect(page.get_by_test_id("tab-events")).to_have_attribute("aria-selected", "true")
    cards = page.get_by_test_id("event-card")
    expect(cards).to_have_count(4)
    expect(cards.get_by_test_id("event-title")).to_have_text(UPCOMING)  # soonest first
    expect(card(page, ROADSHOW).get_by_test_id("event-approval")).to_have_text("需审核")
    expect(card(page, MENTOR).get_by_test_id("event-seats")).to_have_text("剩余 2 个名额")
    expect(card(page, SALON).get_by_test_id("event-time")).to_contain_text(" 周")
    expect(card(page, SALON).get_by_test_id("event-time")).to_contain_text("14:00–16:00")
    shot(page, "events")

    # Filters: a kind, a district with nothing, search, the past.
    page.get_by_test_id("kind-roadshow").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-kind", "roadshow")
    shot(page, "events-kind")
    page.get_by_test_id("kind-all").click()
    expect(cards).to_have_count(4)
    page.get_by_test_id("district-370811").click()
    expect(cards).to_have_count(4)
    page.get_by_test_id("district-370117").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("没有找到符合条件的活动")
    shot(page, "events-empty-filter")
    page.get_by_test_id("empty-state").get_by_role("button", name="清除筛选条件").click()
    expect(cards).to_have_count(4)
    page.get_by_test_id("events-search-label").click()
    page.get_by_test_id("events-search").fill("贷款")
    page.get_by_test_id("events-search").press("Enter")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(LECTURE)
    shot(page, "events-search")
    page.get_by_role("button", name="取消").click()
    expect(cards).to_have_count(4)
    page.get_by_test_id("when-past").click()
    expect(cards).to_have_count(5)
    expect(cards.get_by_test_id("event-my-state")).to_have_text(["已报名"] * 5)
    shot(page, "events-past")
    page.get_by_test_id("when-upcoming").click()
    expect(cards).to_have_count(4)

    # Sign up to the salon: a seat, the result screen, the ticket.
    card(page, SALON).click()
    expect(page.get_by_test_id("page-event-detail")).to_be_visible()
    expect(page.get_by_test_id("event-seats")).to_contain_text("已报 0 / 40 人")
    expect(page.get_by_test_id("event-audience")).to_have_text("所有创业者均可报名")
    expect(page.get_by_test_id("signup")).to_have_text("立即报名")
    shot(page, "event-detail")
    page.get_by_test_id("signup").click()
    result = page.get_by_test_id("signup-result")
    expect(result).to_have_attribute("data-state", "registered")
    expect(page.get_by_test_id("signup-result-title")).to_have_text("报名成功")
    shot(page, "event-signup-registered")
    page.get_by_test_id("result-ticket").click()
    expect(page.get_by_test_id("page-my-ticket")).to_have_attribute("data-view", "ticket")
    qr_is_drawn(page)
    expect(page.get_by_test_id("ticket-title")).to_have_text(SALON)
    shot(page, "my-ticket")

    # The approval roadshow: pending, no ticket.
    open_event(page, ROADSHOW)
    expect(page.get_by_test_id("signup")).to_have_text("提交报名（需审核）")
    shot(page, "event-detail-approval")
    page.get_by_test_id("signup").click()
    expect(page.get_by_test_id("signup-result")).to_have_attribute("data-state", "pending")
    expect(page.get_by_test_id("signup-result-title")).to_have_text("已提交报名，等待审核")
    shot(page, "event-signup-pending")
    page.get_by_test_id("result-back").click()
    expect(page.get_by_test_id("my-state")).to_have_text("待审核")
    expect(page.get_by_test_id("open-ticket")).to_contain_text("待审核")

    # Two others take the mentor visit's two seats: I am on the waitlist, first.
    mentor_id = event_id(base, MENTOR)
    others = [new_entrepreneur(live_server, phone) for phone in ("13800005501", "13800005502")]
    for token in others:
        assert api(base, "POST", f"/api/events/{mentor_id}/registrations", token).status_code == 201
    open_event(page, MENTOR)
    expect(page.get_by_test_id("event-seats")).to_contain_text("已满，可候补")
    expect(page.get_by_test_id("signup")).to_have_text("候补报名")
    shot(page, "event-detail-full")
    page.get_by_test_id("signup").click()
    expect(page.get_by_test_id("signup-result")).to_have_attribute("data-state", "waitlisted")
    expect(page.get_by_test_id("signup-result-title")).to_have_text("已加入候补（第 1 位）")
    shot(page, "event-signup-waitlisted")
    page.get_by_test_id("result-ticket").click()
    expect(page.get_by_test_id("ticket-status-title")).to_have_text("候补中（第 1 位）")
    shot(page, "my-ticket-waitlisted")

    # The organiser cancels the lecture: a clear banner, no button.
    organiser, lecture_id = demo_token(base, "organiser"), event_id(base, LECTURE)
    cancelled = api(base, "POST", f"/api/organiser/events/{lecture_id}/cancel", organiser,
                    json={"reason": "主讲嘉宾临时有事，改期另行通知"})
    assert cancelled.ok, cancelled.text
    page.goto(f"/#/event-detail?id={lecture_id}")
    expect(page.get_by_test_id("event-cancelled")).to_contain_text("主讲嘉宾临时有事")
    expect(page.get_by_test_id("signup")).to_be_disabled()
    shot(page, "event-detail-cancelled")

    # One of the others cancels: I move up from the waitlist while this phone only has the old copy.
    token = page.evaluate("localStorage.getItem('cyql.access_token')")
    mine = {r["event"]["title"]: r for r in api(base, "GET", "/api/me/registrations", token).json()}
    theirs = api(base, "GET", "/api/me/registrations", others[0]).json()[0]["id"]
    assert api(base, "POST", f"/api/me/registrations/{theirs}/cancel", others[0]).ok

    # 我的活动 from 我的: three upcoming; listing them online keeps their tickets on the phone.
    page.goto("/#/mine")
    with page.expect_response(lambda r: r.url.endswith(f"/api/me/registrations/{mine[MENTOR]['id']}")):
        page.get_by_test_id("mine-events").click()
    items = page.get_by_test_id("my-event")
    expect(items).to_have_count(3)
    expect(items.get_by_test_id("my-event-state")).to_have_text(["报名成功", "待审核", "报名成功"])
    shot(page, "my-events")
    page.get_by_test_id("my-when-past").click()
    expect(items).to_have_count(5)
    expect(items.get_by_test_id("my-event-state")).to_have_text(["已签到", "未签到", "已签到", "未签到", "已签到"])
    shot(page, "my-events-past")
    items.first.click()
    expect(page.get_by_test_id("ticket-status-title")).to_have_text("已签到")
    expect(page.get_by_test_id("ticket-checked-in")).to_have_text("14:05 签到入场")
    shot(page, "my-ticket-checked-in")

    # Offline: the salon ticket (seen once) and the mentor ticket (only prefetched) both draw.
    page.goto(f"/#/my-ticket?id={mine[SALON]['id']}")
    qr_is_drawn(page)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_test_id("page-my-ticket")).to_have_attribute("data-view", "ticket")
        qr_is_drawn(page)
        expect(page.get_by_test_id("ticket-offline")).to_be_visible()
        shot(page, "my-ticket-offline")
        page.evaluate(f"location.hash = '#/my-ticket?id={mine[MENTOR]['id']}'")
        expect(page.get_by_test_id("ticket-title")).to_have_text(MENTOR)
        qr_is_drawn(page)
        page.evaluate(f"location.hash = '#/my-ticket?id={mine[ROADSHOW]['id']}'")
        expect(page.get_by_test_id("ticket-status-title")).to_have_text("待审核")
        shot(page, "my-ticket-pending-offline")
    finally:
        context.set_offline(False)

    # Online again: cancel the salon on its ticket, the roadshow on its detail.
    page.goto(f"/#/my-ticket?id={mine[SALON]['id']}")
    qr_is_drawn(page)
    page.get_by_test_id("ticket-cancel").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("电子票随即失效")
    shot(page, "my-ticket-cancel-confirm")
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("ticket-status-title")).to_have_text("报名已取消")
    expect(page.get_by_test_id("ticket-qr")).to_have_count(0)
    expect(page.get_by_test_id("toast")).to_be_hidden()
    shot(page, "my-ticket-cancelled")
    open_event(page, ROADSHOW)
    page.get_by_test_id("cancel-registration").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("signup")).to_have_text("提交报名（需审核）")
    expect(page.get_by_test_id("my-registration")).to_have_count(0)
    open_event(page, SALON)
    expect(page.get_by_test_id("signup")).to_have_text("立即报名")
    assert api(base, "GET", f"/api/me/registrations/{mine[SALON]['id']}", token).json()["state"] == "cancelled"


def test_my_events_empty_state(page, live_server, shot):
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    # signed in (the token is stored) before the next page asks for it
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "entrepreneur")
    page.goto("/#/my-events?when=past")
    expect(page.get_by_test_id("my-event")).to_have_count(5)
    # A brand-new entrepreneur has nothing yet: the empty state says where to go.
    token = new_entrepreneur(live_server, "13800005503")
    me = api(live_server.url, "GET", "/api/me", token).json()
    page.evaluate("""([token, me]) => {
        localStorage.clear()
        localStorage.setItem('cyql.access_token', token)
        localStorage.setItem('cyql.user', JSON.stringify(me))
        localStorage.setItem('cyql.role', 'entrepreneur')
    }""", [token, me])
    page.goto("/#/my-events")
    page.reload()
    expect(page.get_by_test_id("empty-state")).to_contain_text("还没有报名即将举办的活动")
    shot(page, "my-events-empty")
    page.get_by_test_id("empty-state").get_by_role("button", name="去看看活动").click()
    expect(page.get_by_test_id("page-events")).to_be_visible()
