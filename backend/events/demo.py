"""Demo events at the Rencheng 喵小创 space: a few upcoming (one needing approval, one nearly full)
and some held earlier this year, so the figures page has numbers. Idempotent by title."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.checkins.demo import FORGED
from backend.core.db import utcnow
from backend.events import door
from backend.events.enums import EventKind, EventState, RegistrationState
from backend.events.models import Event, Registration
from backend.extensions import db
from backend.places.enums import PlaceKind
from backend.places.models import Place
from backend.core.localtime import LOCAL

UPCOMING = [
    ("创业沙龙：小店开业的第一年", EventKind.salon, 3, 40, False, "邀请三位开店满一年的店主，聊选址、定价、雇人和现金流。"),
    ("创业讲堂：创业担保贷款怎么申请", EventKind.lecture, 5, 60, False, "人社部门与合作银行讲解创业担保贷款的条件、额度、贴息和材料。"),
    ("科创项目路演（第 3 期）", EventKind.roadshow, 9, 12, True, "报名需审核：请在报名后补充项目简介，入选项目现场向投资机构路演。"),
    ("创业导师基层行·嘉祥站", EventKind.mentor_visit, 12, 2, False, "导师一对一诊断，名额很少，满员后可候补。"),
]
HELD = [("政策宣讲：2026 年创业扶持政策", EventKind.policy_briefing), ("创业集市：周末市集", EventKind.market),
        ("训练营：从想法到第一单", EventKind.bootcamp), ("创业沙龙：跨境电商入门", EventKind.salon),
        ("创业导师基层行·任城站", EventKind.mentor_visit)]


def _at(day_offset: int, hour: int) -> datetime:
    day = datetime.now(LOCAL).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), LOCAL)


def seed() -> None:
    space = db.session.scalar(sa.select(Place).where(Place.kind == PlaceKind.space).order_by(Place.id))
    organiser = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.organiser][0])
    entrepreneur = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.entrepreneur][0])
    if space is None or organiser is None:
        return
    now = utcnow()
    for title, kind, days, capacity, approval, description in UPCOMING:
        if db.session.scalar(sa.select(Event.id).where(Event.title == title)) is None:
            db.session.add(Event(place_id=space.id, organiser_id=organiser.id, title=title, kind=kind,
                                 description=description, starts_at=_at(days, 14), ends_at=_at(days, 16),
                                 signup_opens_at=now - timedelta(days=1), signup_closes_at=_at(days, 12),
                                 capacity=capacity, waitlist=True, approval_required=approval,
                                 audience={"subject_types": [], "districts": []}, state=EventState.published,
                                 published_at=now))
    for index, (title, kind) in enumerate(HELD):
        if db.session.scalar(sa.select(Event.id).where(Event.title == title)) is None:
            starts = _at(-20 - 25 * index, 14)
            event = Event(place_id=space.id, organiser_id=organiser.id, title=title, kind=kind, description="已举办的活动",
                          starts_at=starts, ends_at=starts + timedelta(hours=2),
                          signup_opens_at=starts - timedelta(days=10), signup_closes_at=starts,
                          capacity=30, waitlist=True, approval_required=False,
                          audience={"subject_types": [], "districts": []}, state=EventState.published,
                          published_at=starts - timedelta(days=10), seats_taken=1 if entrepreneur else 0)
            db.session.add(event)
            db.session.flush()
            if entrepreneur is not None:
                db.session.add(Registration(event_id=event.id, user_id=entrepreneur.id, state=RegistrationState.registered,
                                            created_at=starts - timedelta(days=3),
                                            checked_in_at=starts + timedelta(minutes=5) if index % 2 == 0 else None))
    db.session.flush()
    # 签到核查 has a door item to open: a forged ticket let in by the organiser's offline phone
    first = db.session.scalar(sa.select(Event).where(Event.state == EventState.published, Event.starts_at > utcnow())
                              .order_by(Event.starts_at))
    if first is not None:
        door.check_in(items=[{"nonce": "demo-review-door-000001", "code": FORGED,
                              "scanned_at": utcnow() - timedelta(hours=1), "offline": True}],
                      event_id=first.id, sent_at=utcnow(), staff=organiser)
