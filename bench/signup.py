"""Sign-up under load, as a peer would measure it (issue 16): POST /api/events/<id>/registrations by
entrepreneurs, many people × many events, every (person, event) pair once, in random order; half the
events have few seats, so they fill and the waitlist is exercised, the other half never fill.

    .venv/bin/python bench/signup.py [--people 4000] [--events 20] [--seats 60] [--seconds 10] [--rounds 3]

The app runs as production runs it (bench/wrk.py: deploy/serve.py's gunicorn, 2 workers × 4 threads,
PostgreSQL, rate limiting on in Redis), wrk 16 connections, each request a unique prepared line. Beside it,
in the same run and interleaved, the two ceilings of bench/bare_events.py: the bare SQL sign-up and the
minimum correct one (JWT, identity, the event open, the guarded seat and the registration row). Each
variant signs people up for its own events, so each can be checked on its own.

Afterwards, per event: seats_taken = registered rows = min(capacity, sign-ups); everyone else on the
waitlist, which is in arrival order (positions 1..n by id, and id order agrees with the arrival time);
one registration per (person, event); `flask events check` passes; the same requests sent again answer
200 with the earlier registration and write nothing. The summary line is printed last."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wrk import PRETIX, Bench, Target, describe, line, ratios, spread, token_header  # noqa: E402

VARIANTS = ("app", "bare", "minimum")


def clone_users(template_id: int, n: int) -> list[int]:
    """``n`` people like the template (its row and role grants, no phone), in two statements."""
    import sqlalchemy as sa

    from backend.accounts.models import RoleGrant, User
    from backend.extensions import db

    columns = [c.name for c in User.__table__.c if c.name not in ("id", "phone", "phone_hash")]
    quoted = ", ".join(f'"{c}"' for c in columns)
    ids = db.session.execute(sa.text(
        f'INSERT INTO "user" ({quoted}) SELECT {quoted} FROM "user", generate_series(1, :n) WHERE id = :t '
        "RETURNING id"), {"n": n, "t": template_id}).scalars().all()
    grant = [c.name for c in RoleGrant.__table__.c if c.name not in ("id", "user_id")]
    listed = ", ".join(grant)
    db.session.execute(sa.text(
        f"INSERT INTO role_grant (user_id, {listed}) SELECT u, {listed} FROM role_grant, unnest(CAST(:ids AS int[])) "
        "AS u WHERE user_id = :t"), {"ids": ids, "t": template_id})
    return sorted(ids)


def prepare(bench: Bench, people: int, events: int, seats: int) -> dict:
    """People (with tokens) and each variant's events: half with ``seats`` seats, half that never fill."""
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_event, make_space, make_user

    bench.flask("keys", "rotate")  # production makes no signing key by itself; a ticket needs one
    with bench.app_context():
        template = make_entrepreneur()
        db.session.commit()
        users = [template.id] + clone_users(template.id, people - 1)
        place = make_space()
        organiser = make_user("organiser", place=place)
        world = {"users": users, "events": {}}
        for variant in VARIANTS:
            world["events"][variant] = {}
            for n in range(events):
                capacity = seats if n % 2 == 0 else people
                world["events"][variant][make_event(place=place, organiser=organiser, capacity=capacity).id] = capacity
        db.session.commit()
        world["tokens"] = {u: create_access_token(identity=str(u)) for u in users}
    return world


def lines_for(world: dict, variant: str, seed: int) -> list[str]:
    pairs = [(u, e) for e in world["events"][variant] for u in world["users"]]
    random.Random(seed).shuffle(pairs)
    if variant == "bare":
        return [line("POST", "/bare/signup", {"event_id": e, "user_id": u}) for u, e in pairs]
    prefix = "/min/events" if variant == "minimum" else "/api/events"
    return [line("POST", f"{prefix}/{e}/registrations", None, token_header(world["tokens"][u])) for u, e in pairs]


def signed_up(bench: Bench, world: dict, n: int) -> list[str]:
    """Lines for ``n`` sign-ups the app already recorded (to send again)."""
    import sqlalchemy as sa

    from backend.events.models import Registration
    from backend.extensions import db

    with bench.app_context():
        pairs = db.session.execute(sa.select(Registration.user_id, Registration.event_id).where(
            Registration.event_id.in_(list(world["events"]["app"]))).order_by(sa.func.random()).limit(n)).all()
    return [line("POST", f"/api/events/{e}/registrations", None, token_header(world["tokens"][u])) for u, e in pairs]


def replay(url: str, sent: list[str]) -> list[int]:
    """Send lines again (one connection, in order); their statuses."""
    import requests

    statuses = []
    with requests.Session() as session:
        for text in sent:
            method, path, body, *headers = text.split("\t")
            statuses.append(session.request(method, url + path, data=body or None, headers=dict(
                h.split(": ", 1) for h in headers) | ({"Content-Type": "application/json"} if body else {})).status_code)
    return statuses


def check(bench: Bench, world: dict, targets: dict) -> tuple[list[str], dict]:
    """The invariants of every variant's events; figures for the summary."""
    import sqlalchemy as sa

    from backend.events import registrations
    from backend.events.models import Event, Registration
    from backend.extensions import db

    problems, figures = [], {"registered": 0, "waitlisted": 0, "full": 0, "inversions": 0}
    with bench.app_context():
        for variant in targets:
            for event_id, capacity in world["events"][variant].items():
                rows = db.session.execute(sa.select(Registration.id, Registration.user_id, Registration.state,
                                                    Registration.created_at)
                                          .where(Registration.event_id == event_id).order_by(Registration.id)).all()
                signed = len(rows)  # every (person, event) pair is sent once: a row per sign-up
                registered = [r for r in rows if r.state.value == "registered"]
                waiting = [r for r in rows if r.state.value == "waitlisted"]
                taken = db.session.scalar(sa.select(Event.seats_taken).where(Event.id == event_id))
                if len({r.user_id for r in rows}) != len(rows):
                    problems.append(f"{variant} event {event_id}: a person registered twice")
                if len(registered) != min(capacity, signed) or taken != len(registered):
                    problems.append(f"{variant} event {event_id}: {len(registered)} registered, seats_taken {taken}, "
                                    f"capacity {capacity}, {signed} sign-ups")
                if len(waiting) != max(signed - capacity, 0):
                    problems.append(f"{variant} event {event_id}: {len(waiting)} waiting, expected "
                                    f"{max(signed - capacity, 0)}")
                if variant == "app" and waiting:
                    figures["full"] += 1
                    # the waitlist is in arrival order: positions 1..n follow the ids, and the ids follow
                    # the arrival times (two requests in the same moment may swap within a few ms)
                    probe = db.session.scalars(sa.select(Registration).where(
                        Registration.id.in_([r.id for r in waiting]))).all()
                    positions = {r.id: r.waitlist_position for r in registrations.with_positions(page=probe)}
                    if [positions[r.id] for r in waiting] != list(range(1, len(waiting) + 1)):
                        problems.append(f"event {event_id}: waitlist positions out of order")
                    late = [(a.created_at - b.created_at).total_seconds() for a, b in zip(waiting, waiting[1:])]
                    figures["inversions"] += sum(1 for gap in late if gap > 0)
                    if late and max(late) > 0.5:
                        problems.append(f"event {event_id}: a waiting person arrived {max(late):.2f} s after the "
                                        "next one in the queue")
                if variant == "app":
                    figures["registered"] += len(registered)
                    figures["waitlisted"] += len(waiting)
        problems += registrations.check_invariants()
    return problems, figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=4_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--seats", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with Bench("signup", seconds=args.seconds, rounds=args.rounds) as bench:
        world = prepare(bench, args.people, args.events, args.seats)
        ceiling = bench.ceiling("bench.bare_events:create()")
        targets = {"app": Target(bench.url, lines_for(world, "app", 1), bench.app_pids),
                   "bare": Target(ceiling.url, lines_for(world, "bare", 2), ceiling.pids),
                   "minimum": Target(ceiling.url, lines_for(world, "minimum", 3), ceiling.pids)}
        print(f"signup: {args.people} people × {args.events} events per variant (half with {args.seats} seats), "
              f"gunicorn {bench.workers} workers × {bench.threads} threads, wrk 16 connections, "
              f"{args.rounds} rounds of {args.seconds:g} s", flush=True)
        rounds = bench.interleave(targets)
        again = signed_up(bench, world, 500)
        statuses = replay(bench.url, again)
        problems, figures = check(bench, world, targets)
        if set(statuses) != {200}:
            problems.append(f"replayed sign-ups answered {sorted(set(statuses))}, not 200")
        checked = bench.flask("events", "check", check=False)
        if checked.returncode != 0:
            problems.append("flask events check: " + (checked.stdout + checked.stderr).strip()[-300:])
    app = rounds["app"]
    for name in VARIANTS:
        print(describe(name, rounds[name]))
    bad = sum(r.other + r.socket_errors for r in app)
    if bad:
        problems.append(f"{bad} answers neither 2xx nor 409, or socket errors")
    if any(r.wrapped for runs in rounds.values() for r in runs):
        problems.append("wrk ran out of prepared lines (a wrap re-sent sign-ups)")
    for text in problems:
        print("PROBLEM", text)
    rate, low, high = spread([r.rate for r in app])
    to_bare, to_min = ratios(app, rounds["bare"])[0], ratios(app, rounds["minimum"])[0]
    print(f"app: {figures['registered']} registered, {figures['waitlisted']} waitlisted on {figures['full']} full "
          f"events; {len(again)} sign-ups sent again answered 200; waitlist arrival-order swaps within 0.5 s: "
          f"{figures['inversions']}; rate spread {low:,.0f}–{high:,.0f}")
    print(f"signup: {rate:,.0f} sign-ups/s, p99 {statistics.median(r.p99_ms for r in app):.0f} ms, "
          f"ratio {to_bare:.2f} to bare SQL, {to_min:.2f} to minimum correct, {rate / PRETIX['order']:.0f}x pretix order, "
          f"cpu {statistics.median(r.cpu_ms() for r in app):.1f} ms/req, seats {'exact' if not problems else 'CHECK'}, "
          f"waitlist {'ordered' if not problems else 'CHECK'}, integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
