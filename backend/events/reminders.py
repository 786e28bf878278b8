"""The day-before reminder (``flask events remind``, run daily): an in-app notification for each
person holding a seat in an event tomorrow, and a WeChat subscription message where they signed
in through the mini-program and a template is configured. Running it twice sends nothing twice."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from backend.accounts import wechat
from backend.accounts.enums import WechatApp
from backend.accounts.models import WechatIdentity
from backend.events.enums import EventState, RegistrationState
from backend.events.models import Event, Registration
from backend.extensions import db
from backend.notifications import service as notifications
from backend.core.localtime import LOCAL


def remind(*, today: date | None = None) -> dict:
    today = today or datetime.now(LOCAL).date()
    day = today + timedelta(days=1)
    start, end = datetime.combine(day, time.min, LOCAL), datetime.combine(day + timedelta(days=1), time.min, LOCAL)
    rows = db.session.execute(
        sa.select(Registration.id, Registration.user_id, Event).join(Event, Event.id == Registration.event_id)
        .where(Event.state == EventState.published, Event.starts_at >= start, Event.starts_at < end,
               Registration.state == RegistrationState.registered).order_by(Registration.id)).all()
    template = current_app.config["WECHAT_EVENT_REMINDER_TEMPLATE"]
    counts = {"notified": 0, "sent": 0, "refused": 0, "failed": 0, "skipped": 0}
    for registration_id, user_id, event in rows:
        when = event.starts_at.astimezone(LOCAL)
        new = notifications.notify(user_id=user_id, kind="event_reminder", title="活动提醒",
                                   body=f"您报名的“{event.title}”明天 {when:%H:%M} 开始，地点：{event.place.name}",
                                   link=f"/pages/my-ticket/index?id={registration_id}",
                                   dedupe=f"event-remind:{registration_id}")
        if not new:
            counts["skipped"] += 1
            continue
        counts["notified"] += 1
        openid = db.session.scalar(sa.select(WechatIdentity.openid).where(
            WechatIdentity.user_id == user_id, WechatIdentity.app == WechatApp.mini))
        if template and openid:
            outcome = wechat.send_subscription(
                openid=openid, template_id=template, page=f"pages/my-ticket/index?id={registration_id}",
                data={"thing1": event.title[:20], "time2": f"{when:%Y-%m-%d %H:%M}", "thing3": event.place.name[:20]})
            counts[outcome] += 1
    db.session.commit()
    return counts
