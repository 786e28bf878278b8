"""Scanner upload ingest: a day of offline scans handed in through POST /api/checkins/sync on
PostgreSQL under gunicorn, load from a second process on loopback; then every batch sent again
(the retry after a lost answer), which must write nothing.

    .venv/bin/python bench/sync.py [--people 4000] [--places 5] [--batch 500] [--concurrency 4]

Every person is scanned once at every place by that place's scanner device (people × places
scans, each a real signed personal code verified by the server). Afterwards: exactly one visit and
one scan row per item, every answer ok on the first pass and a replay on the second, and the
database unchanged by the replay. Goal: ≥ 5,000 scans/s, replay writes nothing.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_context, served_app  # noqa: E402
from bench.loadgen import LoadProcess  # noqa: E402


def prepare(served, people: int, places: int, batch: int) -> dict:
    from backend.core import codes
    from backend.extensions import db
    from tests.factories import make_device, make_entrepreneur, make_place, make_scanner

    started = time.perf_counter()
    with app_context(served):
        stations = []
        for n in range(places):
            place = make_place(name=f"创贷之家·压测驿站{n + 1}")
            _, token = make_scanner(place)
            stations.append(token)
        db.session.commit()
        phones = []
        for n in range(people):
            phones.append(make_device(make_entrepreneur()))
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        # scanned offline over the last two minutes, each code made a few seconds before its scan
        now = datetime.now(timezone.utc)
        calls = []
        for token in stations:
            items = []
            for n, phone in enumerate(phones):
                scanned = now - timedelta(seconds=120) + timedelta(milliseconds=n * 20)
                code = codes.to_text(codes.encode_personal(codes.from_text(phone.credential), device_key=phone.key,
                                                           purpose=codes.Purpose.identify,
                                                           ts=int(scanned.timestamp()) - 3))
                items.append({"nonce": secrets.token_urlsafe(16), "code": code, "purpose": "loan",
                              "scanned_at": scanned.isoformat(), "offline": True})
            for start in range(0, len(items), batch):
                calls.append(("POST", "/api/checkins/sync", {"items": items[start:start + batch],
                                                             "sent_at": now.isoformat()},
                              {"X-Device-Token": token}))
    print(f"prepared {people} people × {places} places = {people * places} scans in "
          f"{len(calls)} batches in {time.perf_counter() - started:.0f} s", flush=True)
    return {"calls": calls, "scans": people * places}


def counts(served) -> tuple[int, int, int]:
    import sqlalchemy as sa

    from backend.checkins.models import Scan, Visit, VisitNote
    from backend.extensions import db

    with app_context(served):
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Visit, Scan, VisitNote))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=4_000)
    parser.add_argument("--places", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    problems = []
    with served_app(workers=args.workers, threads=args.threads) as served:
        world = prepare(served, args.people, args.places, args.batch)
        before = counts(served)
        with LoadProcess() as load:
            first = load.run(served.url, world["calls"], args.concurrency)
            after_first = counts(served)
            again = load.run(served.url, world["calls"], args.concurrency)
        after_replay = counts(served)
    results = [r for status, body in first.answers for r in (body.get("results") or [])]
    replayed = [r for status, body in again.answers for r in (body.get("results") or [])]
    if {s for s, _ in first.answers + again.answers} != {200}:
        problems.append(f"answers {sorted({s for s, _ in first.answers + again.answers})}: "
                        f"{[b for s, b in first.answers if s != 200][:2]}")
    ok = sum(1 for r in results if r["result"] == "ok")
    if ok != world["scans"]:
        codes = {}
        for r in results:
            codes[(r["result"], r.get("code"))] = codes.get((r["result"], r.get("code")), 0) + 1
        problems.append(f"{ok} ok of {world['scans']} scans: {codes}")
    if len(replayed) != world["scans"] or not all(r["replayed"] and r["result"] == "ok" for r in replayed):
        problems.append("the replay did not answer every item as its first answer")
    made = tuple(a - b for a, b in zip(after_first, before))
    if made[:2] != (world["scans"], world["scans"]):
        problems.append(f"first pass wrote {made[0]} visits and {made[1]} scans for {world['scans']}")
    wrote = sum(a - b for a, b in zip(after_replay, after_first))
    if wrote:
        problems.append(f"the replay wrote {wrote} rows")
    rate = world["scans"] / first.elapsed
    replay_rate = world["scans"] / again.elapsed
    for line in problems:
        print("PROBLEM", line)
    print(f"{world['scans']} scans in {len(world['calls'])} batches of {args.batch}, concurrency {args.concurrency}, "
          f"gunicorn {args.workers} workers x {args.threads} threads")
    print(f"ingest {rate:,.0f} scans/s (batch p50 {first.p50_ms:.0f} ms, p99 {first.p99_ms:.0f} ms); "
          f"replay {replay_rate:,.0f} scans/s (batch p99 {again.p99_ms:.0f} ms)")
    print(f"sync: {rate:,.0f} scans/s, replay wrote {wrote}, integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
