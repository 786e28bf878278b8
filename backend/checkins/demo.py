"""Demo check-ins: 60 days of visits at every demo place by a dozen demo visitors (the history the
figures and the dashboard show), and a forged personal code at the 古槐路 station for the review
queue (签到核查), handed in through the check-in engine as the demo staff would (events/demo.py adds a
forged ticket at the door), so the administrator's list has one of each channel to open. Idempotent:
the nonces are fixed, the engine stores each nonce once, the visits are skipped once there."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.core.db import utcnow
from backend.checkins import station
from backend.checkins.enums import VisitPurpose, VisitSource
from backend.checkins.models import Visit
from backend.core.localtime import LOCAL
from backend.extensions import db
from backend.places.enums import PlaceKind
from backend.places.models import Place

FORGED = "CY:" + "A" * 40  # well-formed enough to reach the engine, signed by no key of ours


VISITORS = [(f"1990000{1001 + i}", name) for i, name in enumerate(
    ["韩小满", "冯晓东", "曹雨欣", "彭建国", "许丽娜", "邓子航", "萧文静", "田志强", "潘美玲", "袁浩然", "蒋佳怡", "蔡明轩"])]
PURPOSES = [VisitPurpose.loan, VisitPurpose.policy, VisitPurpose.guidance, VisitPurpose.loan, VisitPurpose.event,
            VisitPurpose.other, VisitPurpose.loan]


def seed_visits(days: int = 60) -> None:
    """Visits over the last ``days`` days at every demo place (stations busiest), by a dozen demo
    visitors: the visit figures, the dashboard and the export have months to show. Deterministic, and
    skipped when the first of them is already there."""
    people = [accounts.find_by_phone(phone=phone) or accounts.create_user(phone=phone, name=name)
              for phone, name in VISITORS]
    if db.session.scalar(sa.select(Visit.id).where(Visit.user_id == people[0].id).limit(1)) is not None:
        return
    places = db.session.scalars(sa.select(Place).where(Place.is_active.is_(True)).order_by(Place.id)).all()
    staff = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.station_staff][0])
    today = datetime.now(LOCAL).date()
    rows = []
    for back in range(1, days + 1):
        day = today - timedelta(days=back)
        for index, place in enumerate(places):
            busy = 4 if place.kind == PlaceKind.loan_station else 2
            count = (back * 7 + index * 3) % (busy + 1) if day.weekday() < 5 else (back + index) % 2
            for n in range(count):
                person = people[(back + index * 5 + n) % len(people)]
                at = datetime.combine(day, time(9 + (n * 2 + index) % 8, (back * 13) % 60), LOCAL)
                rows.append(Visit(place_id=place.id, user_id=person.id, day=day,
                                  purpose=PURPOSES[(back + n + index) % len(PURPOSES)],
                                  source=VisitSource.staff_scan if n % 2 == 0 else VisitSource.self_scan,
                                  visited_at=at, received_at=at,
                                  staff_id=staff.id if staff is not None and n % 2 == 0 else None))
    db.session.add_all(rows)
    db.session.flush()


def seed(*, history: bool = True) -> None:
    if history:
        seed_visits()
    now = utcnow()
    staff = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.station_staff][0])
    station_place = db.session.scalar(sa.select(Place).where(Place.kind == PlaceKind.loan_station).order_by(Place.id))
    if staff is not None and station_place is not None:
        station.ingest(items=[{"nonce": "demo-review-station-0001", "code": FORGED, "purpose": "loan",
                               "scanned_at": now - timedelta(hours=2), "offline": True, "note": None}],
                       place_id=station_place.id, sent_at=now, staff=staff)
