"""The event door under load, as pretix's check-in was measured (issue 16): POST /api/events/checkins,
one online scan per request, a different valid ticket each time (the signed ticket code the phone
shows, as the organiser's door page sends it: ``{event_id, items: [{nonce, code, offline: false}]}``),
signed in as the event's organiser.

    .venv/bin/python bench/door.py [--tickets 25000] [--seconds 10] [--rounds 3]

The app runs as production runs it (bench/wrk.py), wrk 16 connections, every request a unique line.
Beside it, in the same run and interleaved, the ceilings of bench/bare_events.py: the bare SQL check-in
(the scan row and the registration's check-in, no auth, no ticket) and the minimum correct one (JWT, the
organiser's grant, the ticket's signature and window, the registration locked, the check-in and its scan
row). Each variant admits the tickets of its own events.

Afterwards, per variant: every scan ok, each ticket admitted once (one scan per checked-in registration,
its check-in naming that scan), no registration checked in without a scan; then scans the app already
took are sent again and must answer ``replayed`` and write nothing. The summary line is printed last."""
from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.signup import clone_users, replay  # noqa: E402
from bench.wrk import PRETIX, Bench, Target, describe, line, ratios, spread, token_header  # noqa: E402

VARIANTS = ("app", "bare", "minimum")
# the ceilings run faster than the app: they need more tickets for the same seconds
SHARE = {"app": 1, "minimum": 2, "bare": 4}


def prepare(bench: Bench, tickets: int, people: int) -> dict:
    """An event on now at a space (per variant, as many as the tickets need), ``people`` registered to
    each, and their signed tickets; the organiser's token."""
    import sqlalchemy as sa
    from flask_jwt_extended import create_access_token

    from backend.core import signing
    from backend.core.codes import CodeType
    from backend.core.db import utcnow
    from backend.events.door import CLOSES_AFTER, OPENS_BEFORE
    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_event, make_space, make_user

    bench.flask("keys", "rotate")  # production makes no signing key by itself
    now = utcnow()
    world = {"events": {}, "tickets": {}}
    with bench.app_context():
        template = make_entrepreneur()
        db.session.commit()
        users = [template.id] + clone_users(template.id, people - 1)
        place = make_space()
        organiser = make_user("organiser", place=place)
        for variant in VARIANTS:
            wanted = tickets * SHARE[variant]
            events = []
            while len(events) * people < wanted:
                event = make_event(place=place, organiser=organiser, capacity=people,
                                   starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=4),
                                   signup_opens_at=now - timedelta(days=1), signup_closes_at=now + timedelta(hours=1))
                events.append(event)
            db.session.flush()
            rows = db.session.execute(sa.text(
                "INSERT INTO registration (event_id, user_id, state, created_at, reason) "
                "SELECT e, u, 'registered', now(), '' FROM unnest(CAST(:events AS int[])) e, "
                "unnest(CAST(:users AS int[])) u LIMIT :n RETURNING id, event_id"),
                {"events": [e.id for e in events], "users": users, "n": wanted}).all()
            db.session.execute(sa.text("UPDATE event SET seats_taken = (SELECT count(*) FROM registration r WHERE "
                                       "r.event_id = event.id AND r.state = 'registered') WHERE id = ANY(:ids)"),
                               {"ids": [e.id for e in events]})
            world["events"][variant] = [e.id for e in events]
            window = {e.id: (int((e.starts_at - OPENS_BEFORE).timestamp()), int((e.ends_at + CLOSES_AFTER).timestamp()))
                      for e in events}
            world["tickets"][variant] = [
                (rid, eid, signing.sign_text(CodeType.ticket, {"event_id": eid, "registration_id": rid},
                                             not_before=window[eid][0], not_after=window[eid][1])
                 if variant != "bare" else "") for rid, eid in rows]
        db.session.commit()
        world["token"] = create_access_token(identity=str(organiser.id))
    return world


def scan_line(variant: str, ticket: tuple, token: str, nonce: str | None = None) -> str:
    rid, eid, code = ticket
    nonce = nonce or uuid.uuid4().hex
    if variant == "bare":
        return line("POST", "/bare/checkin", {"registration_id": rid, "nonce": nonce})
    body = {"event_id": eid, "items": [{"nonce": nonce, "code": code, "offline": False}]}
    return line("POST", "/api/events/checkins" if variant == "app" else "/min/checkins", body, token_header(token))


def state(bench: Bench, world: dict, variant: str) -> dict:
    """What the door wrote for a variant's events: scans by result, and the checked-in registrations."""
    import sqlalchemy as sa

    from backend.checkins.models import Scan
    from backend.events.models import Registration
    from backend.extensions import db

    events = world["events"][variant]
    with bench.app_context():
        scans = db.session.execute(sa.select(Scan.nonce, Scan.result, Scan.registration_id, Scan.reason)
                                   .where(Scan.event_id.in_(events))).all()
        checked = db.session.execute(sa.select(Registration.id, Registration.checkin_nonce, Registration.checked_in_at)
                                     .where(Registration.event_id.in_(events),
                                            Registration.checked_in_at.is_not(None))).all()
    return {"scans": scans, "checked": checked}


def check(found: dict, variant: str) -> list[str]:
    problems = []
    scans, checked = found["scans"], found["checked"]
    results: dict[str, int] = {}
    for scan in scans:
        key = scan.result.value + (f" {scan.reason}" if scan.reason else "")
        results[key] = results.get(key, 0) + 1
    if set(results) - {"ok"}:
        problems.append(f"{variant}: scans {results} (every scan should be ok)")
    per_registration: dict[int, int] = {}
    for scan in scans:
        per_registration[scan.registration_id] = per_registration.get(scan.registration_id, 0) + 1
    if any(n > 1 for n in per_registration.values()):
        problems.append(f"{variant}: a ticket was scanned more than once")
    holder = {scan.registration_id: scan.nonce for scan in scans if scan.result.value == "ok"}
    if len(checked) != len(holder) or any(holder.get(r.id) != r.checkin_nonce for r in checked):
        problems.append(f"{variant}: {len(checked)} registrations checked in, {len(holder)} ok scans, or a check-in "
                        "not naming its scan")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=25_000, help="tickets for the app (the ceilings get more)")
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Bench("door", seconds=args.seconds, rounds=args.rounds) as bench:
        world = prepare(bench, args.tickets, args.people)
        ceiling = bench.ceiling("bench.bare_events:create()")
        targets = {variant: Target(bench.url if variant == "app" else ceiling.url,
                                   [scan_line(variant, t, world["token"]) for t in world["tickets"][variant]],
                                   bench.app_pids if variant == "app" else ceiling.pids) for variant in VARIANTS}
        print(f"door: one online scan per request, a new ticket each, {len(world['tickets']['app'])} tickets for the "
              f"app; gunicorn {bench.workers} workers × {bench.threads} threads, wrk 16 connections, "
              f"{args.rounds} rounds of {args.seconds} s", flush=True)
        rounds = bench.interleave(targets)
        problems = []
        found = {variant: state(bench, world, variant) for variant in VARIANTS}
        for variant in VARIANTS:
            problems += check(found[variant], variant)
        # the same scans again (same nonce, same ticket): answered from what is stored, nothing written
        codes = {rid: t for t in world["tickets"]["app"] for rid in [t[0]]}
        taken = found["app"]["scans"][:300]
        again = [scan_line("app", codes[scan.registration_id], world["token"], nonce=scan.nonce) for scan in taken]
        statuses = replay(bench.url, again)
        after = state(bench, world, "app")
        if set(statuses) != {200}:
            problems.append(f"replayed scans answered {sorted(set(statuses))}")
        if sorted(after["scans"]) != sorted(found["app"]["scans"]) or \
                sorted(after["checked"]) != sorted(found["app"]["checked"]):
            problems.append("a replayed scan wrote something")
    app = rounds["app"]
    for name in VARIANTS:
        print(describe(name, rounds[name]))
    bad = sum(r.other + r.socket_errors + r.conflict for r in app)
    if bad:
        problems.append(f"{bad} answers not 2xx, or socket errors")
    if any(r.wrapped for runs in rounds.values() for r in runs):
        problems.append("wrk ran out of prepared lines (a wrap re-sent scans)")
    for text in problems:
        print("PROBLEM", text)
    rate, low, high = spread([r.rate for r in app])
    to_bare, to_min = ratios(app, rounds["bare"])[0], ratios(app, rounds["minimum"])[0]
    print(f"app: {len(found['app']['checked'])} tickets admitted once each; {len(again)} scans sent again "
          f"wrote nothing; rate spread {low:,.0f}–{high:,.0f}")
    print(f"door: {rate:,.0f} check-ins/s, p99 {statistics.median(r.p99_ms for r in app):.0f} ms, "
          f"ratio {to_bare:.2f} to bare SQL, {to_min:.2f} to minimum correct, "
          f"{rate / PRETIX['checkin']:.1f}x pretix check-in, cpu {statistics.median(r.cpu_ms() for r in app):.1f} ms/req, "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
