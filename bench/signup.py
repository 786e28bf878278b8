"""Sign-up burst: 2,000 people sign up for one event with 100 seats at once
(POST /api/events/<id>/registrations) on PostgreSQL under gunicorn, load from a second process on
loopback; then 200 of them tap again (answered with their existing registration).

    .venv/bin/python bench/signup.py [--people 2000] [--seats 100] [--concurrency 32]

Afterwards: exactly `seats` registered, everyone else waitlisted, one registration per person,
the event's seat counter equal to the registered rows. Goal: ≥ 500 sign-ups/s on one event.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_context, served_app  # noqa: E402
from bench.loadgen import LoadProcess  # noqa: E402


def prepare(served, people: int, seats: int) -> dict:
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_event

    started = time.perf_counter()
    with app_context(served):
        event_id = make_event(capacity=seats).id
        users = []
        for n in range(people):
            users.append(make_entrepreneur().id)
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        tokens = {u: {"Authorization": f"Bearer {create_access_token(identity=str(u))}"} for u in users}
    print(f"prepared {people} people in {time.perf_counter() - started:.0f} s", flush=True)
    return {"event": event_id, "users": users, "tokens": tokens}


def check(served, world, answers, people: int, seats: int) -> list[str]:
    import sqlalchemy as sa

    from backend.events import registrations
    from backend.events.models import Event, Registration
    from backend.extensions import db

    problems = []
    statuses = {s for s, _ in answers}
    if not statuses <= {200, 201}:
        problems.append(f"unexpected answers {sorted(statuses)}: "
                        f"{[b for s, b in answers if s not in (200, 201)][:3]}")
    with app_context(served):
        rows = db.session.execute(sa.select(Registration.user_id, Registration.state)
                                  .where(Registration.event_id == world["event"])).all()
        registered = sum(1 for _, state in rows if state.value == "registered")
        waitlisted = sum(1 for _, state in rows if state.value == "waitlisted")
        if registered != seats or waitlisted != people - seats:
            problems.append(f"{registered} registered and {waitlisted} waitlisted for {seats} seats, {people} people")
        if len({user for user, _ in rows}) != len(rows) or len(rows) != people:
            problems.append(f"{len(rows)} registrations for {people} people")
        if db.session.get(Event, world["event"]).seats_taken != seats:
            problems.append("seat counter differs from the registered rows")
        problems += registrations.check_invariants()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with served_app(workers=args.workers, threads=args.threads) as served:
        world = prepare(served, args.people, args.seats)
        users = list(world["users"])
        random.shuffle(users)
        url = f"/api/events/{world['event']}/registrations"
        burst = [("POST", url, None, world["tokens"][u]) for u in users]
        again = [("POST", url, None, world["tokens"][u]) for u in users[: args.people // 10]]
        with LoadProcess() as load:
            ours = load.run(served.url, burst, args.concurrency)
            retry = load.run(served.url, again, args.concurrency)
        problems = check(served, world, ours.answers + retry.answers, args.people, args.seats)
    registered = sum(1 for s, b in ours.answers if s == 201 and b.get("state") == "registered")
    for line in problems:
        print("PROBLEM", line)
    print(f"{args.people} sign-ups for {args.seats} seats, concurrency {args.concurrency}, "
          f"gunicorn {args.workers} workers x {args.threads} threads")
    print(f"burst {ours.rate:,.0f} req/s p50 {ours.p50_ms:.1f} ms p99 {ours.p99_ms:.1f} ms; "
          f"taps again {retry.rate:,.0f} req/s p99 {retry.p99_ms:.1f} ms")
    print(f"signup: {ours.rate:,.0f} sign-ups/s, p99 {ours.p99_ms:.0f} ms, {registered}/{args.seats} seats, "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
