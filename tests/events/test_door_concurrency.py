"""Two door scanners hand in overlapping batches at once on a real PostgreSQL database (each batch
retried, every batch sent from its own thread): every ticket ends up checked in once, at its
earliest scan whichever upload won the race, and every item is stored once."""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.checkins.models import Scan
from backend.core.db import utcnow
from backend.events import registrations
from backend.events.door import ticket_text
from backend.events.models import Registration
from backend.extensions import db
from tests.factories import make_entrepreneur, make_event, make_scanner
from tests.vouchers.test_concurrency import committed, hammer, pg_app  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres_only


def overlapping(items, size=12, step=8):
    """Batches of ``size`` items starting every ``step``: neighbours share items (a resend after a timeout)."""
    return [items[start:start + size] for start in range(0, len(items), step)]


def test_two_scanners_racing_overlapping_batches_keep_the_earliest_scan(pg_app):
    rng = random.Random(12)

    def build():
        now = utcnow()
        event = make_event(capacity=60, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                           signup_closes_at=now + timedelta(hours=1))
        seats = [registrations.sign_up(user=make_entrepreneur(), event_id=event.id)[0] for _ in range(60)]
        tokens = [make_scanner(event.place, name=f"{n}号门")[1] for n in (1, 2)]
        plans = {token: [] for token in tokens}
        for seat in seats:
            code = ticket_text(seat)
            for token in tokens:  # both doors met everyone, each at its own moment
                when = now - timedelta(seconds=rng.randint(60, 3600))
                plans[token].append({"nonce": secrets.token_urlsafe(16), "code": code, "scanned_at": when.isoformat(),
                                     "offline": True})
        return event.id, plans

    event_id, plans = committed(pg_app, build)
    calls = [("POST", "/api/events/checkins", {"items": batch}, {"X-Device-Token": token})
             for token, items in plans.items() for batch in overlapping(items)]
    rng.shuffle(calls)
    answers = hammer(pg_app, calls * 2)
    assert {status for status, _ in answers} == {200}
    everything = [item for items in plans.values() for item in items]
    earliest = {}
    for item in everything:
        holder = earliest.get(item["code"])
        if holder is None or item["scanned_at"] < holder["scanned_at"]:
            earliest[item["code"]] = item
    with pg_app.app_context():
        scans = db.session.scalars(sa.select(Scan).where(Scan.event_id == event_id)).all()
        seats = db.session.scalars(sa.select(Registration).where(Registration.event_id == event_id)).all()
        assert sorted(s.nonce for s in scans) == sorted(i["nonce"] for i in everything)  # each item stored once
        by_nonce = {s.nonce: s for s in scans}
        makers = {earliest[ticket_text(seat)]["nonce"] for seat in seats}
        assert {seat.checkin_nonce for seat in seats} == makers
        for seat in seats:
            holder = by_nonce[seat.checkin_nonce]
            assert seat.checked_in_at == holder.scanned_at
        assert {s.nonce for s in scans if s.result.value == "ok"} == makers
        others = [s for s in scans if s.nonce not in makers]
        assert len(others) == 60 and {(s.result.value, s.conflict) for s in others} == {("duplicate", True)}
