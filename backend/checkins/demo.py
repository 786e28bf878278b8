"""Demo scans for the review queue (签到核查): a forged personal code at the 古槐路 station, handed in
through the check-in engine as the demo staff would (events/demo.py adds a forged ticket at the door),
so the administrator's list has one of each channel to open. Idempotent: the nonces are fixed, and the
engine stores each nonce once."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.core.db import utcnow
from backend.checkins import station
from backend.extensions import db
from backend.places.enums import PlaceKind
from backend.places.models import Place

FORGED = "CY:" + "A" * 40  # well-formed enough to reach the engine, signed by no key of ours


def seed() -> None:
    now = utcnow()
    staff = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.station_staff][0])
    station_place = db.session.scalar(sa.select(Place).where(Place.kind == PlaceKind.loan_station).order_by(Place.id))
    if staff is not None and station_place is not None:
        station.ingest(items=[{"nonce": "demo-review-station-0001", "code": FORGED, "purpose": "loan",
                               "scanned_at": now - timedelta(hours=2), "offline": True, "note": None}],
                       place_id=station_place.id, sent_at=now, staff=staff)
