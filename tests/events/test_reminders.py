"""The day-before reminder: in-app for everyone holding a seat, a WeChat subscription message (sent
to the local fake of WeChat's API) for those who signed in through the mini-program and agreed."""
from datetime import datetime, time, timedelta

import pytest

from backend.accounts.enums import WechatApp
from backend.accounts.models import WechatIdentity
from backend.events import registrations, reminders
from backend.extensions import db
from backend.notifications.models import Notification
from backend.core.localtime import LOCAL
from tests.factories import make_entrepreneur, make_event

TEMPLATE = "tmpl-event-reminder-0001"


@pytest.fixture
def reminder_setup(app, session, wechat_fake, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_EVENT_REMINDER_TEMPLATE", TEMPLATE)
    wechat_fake.templates[TEMPLATE] = ["thing1", "time2", "thing3"]
    wechat_fake.sent.clear()
    today = datetime.now(LOCAL).date()
    tomorrow_2pm = datetime.combine(today + timedelta(days=1), time(14), LOCAL)
    event = make_event(title="明天下午的创业沙龙：一个标题很长很长很长很长的活动", starts_at=tomorrow_2pm,
                       ends_at=tomorrow_2pm + timedelta(hours=2), signup_closes_at=tomorrow_2pm, capacity=2)
    later = make_event(starts_at=tomorrow_2pm + timedelta(days=2), ends_at=tomorrow_2pm + timedelta(days=2, hours=1))
    return event, later, today


def wechat_user(wechat_fake, *, subscribed: bool):
    person = make_entrepreneur()
    openid = f"o-test-{person.id}"
    db.session.add(WechatIdentity(user_id=person.id, app=WechatApp.mini, appid=wechat_fake.MINI_APPID, openid=openid))
    db.session.flush()
    if subscribed:
        wechat_fake.subscribed.add((openid, TEMPLATE))
    return person, openid


def test_reminds_seat_holders_once_in_app_and_on_wechat(reminder_setup, wechat_fake):
    event, later, today = reminder_setup
    agreed, openid = wechat_user(wechat_fake, subscribed=True)
    refused, _ = wechat_user(wechat_fake, subscribed=False)
    waiting = make_entrepreneur()
    plain = make_entrepreneur()
    for person in (agreed, refused, waiting):
        registrations.sign_up(user=person, event_id=event.id)
    registrations.sign_up(user=plain, event_id=later.id)

    counts = reminders.remind(today=today)
    assert counts == {"notified": 2, "sent": 1, "refused": 1, "failed": 0, "skipped": 0}
    reminded = {n.user_id for n in db.session.query(Notification).filter_by(kind="event_reminder")}
    assert reminded == {agreed.id, refused.id}  # the waitlisted person and the later event's people are not
    [message] = wechat_fake.sent
    assert message["touser"] == openid and message["template_id"] == TEMPLATE
    assert len(message["data"]["thing1"]["value"]) <= 20 and message["data"]["time2"]["value"].endswith("14:00")
    assert message["page"].startswith("pages/my-ticket/index?id=")

    again = reminders.remind(today=today)
    assert again["notified"] == 0 and again["skipped"] == 2 and len(wechat_fake.sent) == 1


def test_an_expired_access_token_is_renewed_once(reminder_setup, wechat_fake):
    event, _, today = reminder_setup
    person, _ = wechat_user(wechat_fake, subscribed=True)
    registrations.sign_up(user=person, event_id=event.id)
    wechat_fake.expire_tokens()  # the cached token is no longer accepted: 40001, then a fresh one
    assert reminders.remind(today=today)["sent"] == 1


def test_without_a_template_only_in_app(reminder_setup, wechat_fake, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_EVENT_REMINDER_TEMPLATE", "")
    event, _, today = reminder_setup
    person, _ = wechat_user(wechat_fake, subscribed=True)
    registrations.sign_up(user=person, event_id=event.id)
    assert reminders.remind(today=today) == {"notified": 1, "sent": 0, "refused": 0, "failed": 0, "skipped": 0}
    assert wechat_fake.sent == []
