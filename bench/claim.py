"""Flash claim: 10,000 people claim a batch of 1,000 vouchers at once (POST /api/voucher-batches/<id>/claim)
on PostgreSQL under gunicorn, load from a second process on loopback, and 1,000 of them try again.
In the same run, a bare SQL claim endpoint (guarded counter update, insert voucher, insert ledger,
nothing else) served the same way is the ceiling.

    .venv/bin/python bench/claim.py [--people 10000] [--vouchers 1000] [--concurrency 32]

Afterwards: exactly `vouchers` issued, nobody holds more than one, every refusal is sold_out or
claim_limit_reached, and the ledger invariant holds.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_context, gunicorn, served_app  # noqa: E402
from bench.loadgen import LoadProcess  # noqa: E402


def prepare(served, people: int, vouchers: int) -> dict:
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from tests.factories import make_batch, make_entrepreneur

    started = time.perf_counter()
    with app_context(served):
        batch = make_batch(total_count=vouchers, face_value=200_000, per_person_limit=1)
        bare = make_batch(total_count=vouchers, face_value=200_000, per_person_limit=1)
        users = []
        for n in range(people):
            users.append(make_entrepreneur().id)
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        tokens = {u: {"Authorization": f"Bearer {create_access_token(identity=str(u))}"} for u in users}
        print(f"prepared {people} people in {time.perf_counter() - started:.0f} s", flush=True)
        return {"batch": batch.id, "bare": bare.id, "users": users, "tokens": tokens}


def check(served, world, answers, vouchers) -> list[str]:
    import sqlalchemy as sa

    from backend.extensions import db
    from backend.vouchers import ledger
    from backend.vouchers.models import Voucher

    problems = []
    issued = sum(1 for s, _ in answers if s == 201)
    if issued != vouchers:
        problems.append(f"{issued} claims accepted for {vouchers} vouchers")
    refusals = {b.get("code") for s, b in answers if s != 201}
    if not refusals <= {"sold_out", "claim_limit_reached"}:
        problems.append(f"unexpected refusals {refusals}")
    with app_context(served):
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.batch_id == world["batch"]))
        per_holder = sa.select(sa.func.count().label("n")).where(Voucher.batch_id == world["batch"]) \
            .group_by(Voucher.holder_id).subquery()
        most = db.session.scalar(sa.select(sa.func.max(per_holder.c.n))) or 0
        bare = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.batch_id == world["bare"]))
        if rows != vouchers or bare != vouchers:
            problems.append(f"{rows} vouchers in the batch, {bare} in the bare one, for {vouchers}")
        if most and most > 1:
            problems.append(f"someone holds {most}")
        problems += ledger.check_invariants()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--vouchers", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with served_app(workers=args.workers, threads=args.threads) as served:
        world = prepare(served, args.people, args.vouchers)
        users = list(world["users"])
        random.shuffle(users)
        calls = [("POST", f"/api/voucher-batches/{world['batch']}/claim", {}, world["tokens"][u]) for u in users]
        calls += [("POST", f"/api/voucher-batches/{world['batch']}/claim", {}, world["tokens"][u])
                  for u in users[: args.people // 10]]  # impatient people tap again
        bare_calls = [("POST", "/bare/claim", {"batch_id": world["bare"], "holder_id": u}, {}) for u in users]
        with gunicorn("bench.bare_app:create()", served.env, args.workers, args.threads, probe="/") as bare_url, \
                LoadProcess() as load:
            ours = load.run(served.url, calls, args.concurrency)
            bare = load.run(bare_url, bare_calls, args.concurrency)
        problems = check(served, world, ours.answers, args.vouchers)
    for line in problems:
        print("PROBLEM", line)
    print(f"claims {len(calls)} ({args.people} people, {args.people // 10} twice) for {args.vouchers} vouchers, "
          f"concurrency {args.concurrency}, gunicorn {args.workers} workers x {args.threads} threads")
    print(f"ours {ours.rate:,.0f} req/s p50 {ours.p50_ms:.1f} ms p99 {ours.p99_ms:.1f} ms; "
          f"bare {bare.rate:,.0f} req/s p50 {bare.p50_ms:.1f} ms p99 {bare.p99_ms:.1f} ms")
    issued = sum(1 for s, _ in ours.answers if s == 201)
    print(f"claim: {ours.rate:,.0f} req/s, p99 {ours.p99_ms:.0f} ms, ratio {ours.rate / bare.rate:.2f} to bare SQL, "
          f"{issued}/{args.vouchers} issued, integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
