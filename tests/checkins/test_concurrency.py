"""Uploads racing each other on a real PostgreSQL database, many threads through the whole request
path: the same batch sent by many threads at once, and many offline devices handing in scans of the
same people at once. Afterwards: one visit per person, place and day; one scan row per nonce; every
thread got the same answer for the same nonce."""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.checkins.models import Scan, Visit
from backend.core import codes
from backend.core.db import utcnow
from backend.extensions import db
from tests.factories import make_device, make_entrepreneur, make_place, make_scanner
from tests.vouchers.test_concurrency import committed, hammer, pg_app  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres_only


def code_of(phone, at):
    return codes.to_text(codes.encode_personal(codes.from_text(phone.credential), device_key=phone.key,
                                               purpose=codes.Purpose.identify, ts=int(at.timestamp()) - 2))


def rows(app, place_id):
    with app.app_context():
        visits = db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.place_id == place_id))
        scans = db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(Scan.place_id == place_id))
        people = db.session.scalar(sa.select(sa.func.count(sa.distinct(Visit.user_id))).where(Visit.place_id == place_id))
        return visits, scans, people


def test_the_same_batch_from_many_threads_at_once_is_stored_once(pg_app):
    def build():
        place = make_place()
        _, token = make_scanner(place)
        phones = [make_device(make_entrepreneur()) for _ in range(40)]
        at = utcnow() - timedelta(seconds=30)
        items = [{"nonce": secrets.token_urlsafe(16), "code": code_of(p, at), "purpose": "loan",
                  "scanned_at": at.isoformat(), "offline": True} for p in phones]
        return place.id, token, items

    place_id, token, items = committed(pg_app, build)
    answers = hammer(pg_app, [("POST", "/api/checkins/sync", {"items": items}, {"X-Device-Token": token})] * 24)
    assert {status for status, _ in answers} == {200}
    by_nonce = {}
    for _, body in answers:
        for result in body["results"]:
            by_nonce.setdefault(result["nonce"], set()).add((result["result"], result["visit"]["id"]))
    assert all(len(seen) == 1 for seen in by_nonce.values())  # every thread heard the same answer
    assert {next(iter(seen))[0] for seen in by_nonce.values()} == {"ok"}
    assert rows(pg_app, place_id) == (40, 40, 40)


def test_many_offline_devices_meeting_the_same_people_at_once(pg_app):
    def build():
        place = make_place()
        tokens = [make_scanner(place, name=f"扫码枪{n}")[1] for n in range(8)]
        phones = [make_device(make_entrepreneur()) for _ in range(30)]
        at = utcnow() - timedelta(seconds=30)
        calls = []
        for token in tokens:  # every device scanned every person
            items = [{"nonce": secrets.token_urlsafe(16), "code": code_of(p, at), "purpose": "policy",
                      "scanned_at": at.isoformat(), "offline": True} for p in phones]
            calls.append(("POST", "/api/checkins/sync", {"items": items}, {"X-Device-Token": token}))
        return place.id, calls

    place_id, calls = committed(pg_app, build)
    answers = hammer(pg_app, calls * 2)  # and each upload is retried at the same time
    assert {status for status, _ in answers} == {200}
    results = [r for _, body in answers for r in body["results"]]
    assert sum(1 for r in results if r["result"] == "ok" and not r["replayed"]) <= 30
    assert rows(pg_app, place_id) == (30, 8 * 30, 30)
    with pg_app.app_context():
        first_per_person = db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(
            Scan.place_id == place_id, Scan.result == "ok"))
        flagged = db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(
            Scan.place_id == place_id, Scan.conflict.is_(True)))
    assert first_per_person == 30 and flagged == 7 * 30  # every other device's scan of a person is flagged


def test_two_desks_racing_overlapping_batches_keep_the_earliest_scan(pg_app):
    """Two offline desks met the same 60 people, each at its own moment, and hand in overlapping
    batches (each retried) at once: one visit per person, held by the earliest scan (its time, desk and
    purpose), every item stored once, the other desk's scan the duplicate and the conflict."""
    rng = random.Random(7)

    def build():
        place = make_place()
        desks = [(make_scanner(place, name=f"{n}号桌")[1], purpose) for n, purpose in ((1, "loan"), (2, "policy"))]
        phones = [make_device(make_entrepreneur()) for _ in range(60)]
        now = utcnow()
        plans = {token: [] for token, _ in desks}
        for phone in phones:
            for token, purpose in desks:
                at = now - timedelta(seconds=rng.randint(10, 200))
                plans[token].append({"nonce": secrets.token_urlsafe(16), "code": code_of(phone, at), "purpose": purpose,
                                     "scanned_at": at.isoformat(), "offline": True})
        return place.id, plans

    place_id, plans = committed(pg_app, build)
    calls = [("POST", "/api/checkins/sync", {"items": items[start:start + 12]}, {"X-Device-Token": token})
             for token, items in plans.items() for start in range(0, len(items), 8)]
    rng.shuffle(calls)
    answers = hammer(pg_app, calls * 2)
    assert {status for status, _ in answers} == {200}
    everything = [item for items in plans.values() for item in items]
    pairs = {}
    for token, items in plans.items():
        for index, item in enumerate(items):
            pairs.setdefault(index, []).append(item)
    makers = {min(pair, key=lambda i: i["scanned_at"])["nonce"] for pair in pairs.values()}
    with pg_app.app_context():
        scans = db.session.scalars(sa.select(Scan).where(Scan.place_id == place_id)).all()
        visits = db.session.scalars(sa.select(Visit).where(Visit.place_id == place_id)).all()
        assert sorted(s.nonce for s in scans) == sorted(i["nonce"] for i in everything)
        assert len(visits) == 60 and {v.scan_nonce for v in visits} == makers
        by_nonce = {i["nonce"]: i for i in everything}
        for visit in visits:
            assert visit.visited_at.isoformat() == by_nonce[visit.scan_nonce]["scanned_at"]
            assert visit.purpose.value == by_nonce[visit.scan_nonce]["purpose"]
        assert {s.nonce for s in scans if s.result.value == "ok"} == makers
        assert {(s.result.value, s.conflict) for s in scans if s.nonce not in makers} == {("duplicate", True)}
