"""Redemption throughput: POST /api/provider/redemptions on PostgreSQL under gunicorn, load from a
second process on loopback, against a bare SQL redeem endpoint (lock row, update, insert ledger,
nothing else) served the same way in the same run as the ceiling.

    .venv/bin/python bench/redeem.py [--requests 4000] [--concurrency 32]

Two patterns: many vouchers (each request a random one of 1,000) and one hot voucher (every
request on the same row). Afterwards: every answer a receipt, one redemption row per receipt,
replaying 300 requests with their keys writes nothing, and the ledger invariant holds.
"""
from __future__ import annotations

import argparse
import random
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_context, gunicorn, scan_tokens, served_app  # noqa: E402
from bench.loadgen import LoadProcess  # noqa: E402

BILL = 100  # fen; vouchers pay 100% of the bill


def prepare(served, holders: int) -> dict:
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from backend.vouchers import claims
    from tests.factories import make_batch, make_entrepreneur, make_staff

    with app_context(served):
        staff, provider = make_staff()
        many = make_batch(face_value=1_000_000, total_count=holders, co_pay_ratio_bp=10000, min_bill=0,
                          categories=["rent"])
        bare_many = make_batch(face_value=1_000_000, total_count=holders, co_pay_ratio_bp=10000, min_bill=0)
        hot = make_batch(face_value=1_000_000_000, total_count=2, co_pay_ratio_bp=10000, min_bill=0,
                         categories=["rent"])
        real, bare = [], []
        for _ in range(holders):
            person = make_entrepreneur()
            real.append(claims.claim(user=person, batch_id=many.id)[0])
            bare.append(claims.claim(user=person, batch_id=bare_many.id)[0])
        hot_holder = make_entrepreneur()
        hot_real = claims.claim(user=hot_holder, batch_id=hot.id)[0]
        hot_bare = claims.claim(user=make_entrepreneur(), batch_id=hot.id)[0]
        db.session.commit()
        return {
            "auth": {"Authorization": f"Bearer {create_access_token(identity=str(staff.id))}"},
            "staff_id": staff.id, "provider_id": provider.id,
            "real": [(v.id, v.holder_id) for v in real], "bare": [v.id for v in bare],
            "hot_real": (hot_real.id, hot_real.holder_id), "hot_bare": hot_bare.id,
        }


def real_calls(served, world, targets, n):
    """n redemptions, each on a random target and on its own scan (a scan authorises one payment)."""
    chosen = [random.choice(targets) for _ in range(n)]
    with app_context(served):
        tokens = scan_tokens(staff_id=world["staff_id"], provider_id=world["provider_id"], targets=chosen)
    calls = []
    for (voucher_id, _), scan_token in zip(chosen, tokens):
        calls.append(("POST", "/api/provider/redemptions",
                      {"scan_token": scan_token, "voucher_id": voucher_id, "bill_amount": BILL, "category": "rent",
                       "idempotency_key": uuid.uuid4().hex}, world["auth"]))
    return calls


def bare_calls(targets, n):
    return [("POST", "/bare/redeem", {"voucher_id": random.choice(targets), "amount": BILL}, {}) for _ in range(n)]


def check(served, all_real_answers, replay_answers) -> list[str]:
    import sqlalchemy as sa

    from backend.extensions import db
    from backend.vouchers import ledger
    from backend.vouchers.models import Redemption

    problems = []
    bad = [a for a in all_real_answers if a[0] != 201]
    if bad:
        problems.append(f"{len(bad)} redemptions not accepted, e.g. {bad[:2]}")
    if any(status != 200 or not body.get("replayed") for status, body in replay_answers):
        problems.append("a replayed request was not answered with its first receipt")
    with app_context(served):
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(Redemption))
        receipts = len({body["id"] for status, body in all_real_answers if status == 201})
        if rows != receipts:
            problems.append(f"{rows} redemption rows for {receipts} receipts")
        problems += ledger.check_invariants()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--holders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    with served_app(workers=args.workers, threads=args.threads) as served:
        world = prepare(served, args.holders)
        with gunicorn("bench.bare_app:create()", served.env, args.workers, args.threads, probe="/") as bare_url, \
                LoadProcess() as load:
            warm = load.run(served.url, real_calls(served, world, world["real"], 300), c)  # warm-up both
            load.run(bare_url, bare_calls(world["bare"], 300), c)
            results = {}
            for name, url, calls in [
                ("many", served.url, real_calls(served, world, world["real"], n)),
                ("many_bare", bare_url, bare_calls(world["bare"], n)),
                ("hot", served.url, real_calls(served, world, [world["hot_real"]], n // 2)),
                ("hot_bare", bare_url, bare_calls([world["hot_bare"]], n // 2)),
            ]:
                results[name] = (load.run(url, calls, c), calls)
            replay = [call for call in results["many"][1][:300]]
            replay_answers = load.run(served.url, replay, c).answers
        answers = warm.answers + [a for key in ("many", "hot") for a in results[key][0].answers]
        problems = check(served, answers, replay_answers)
    for name, (result, _) in results.items():
        print(f"{name:<10} {result.rate:8,.0f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms")
    for line in problems:
        print("PROBLEM", line)
    many, bare = results["many"][0], results["many_bare"][0]
    hot, hot_bare = results["hot"][0], results["hot_bare"][0]
    print(f"requests {n} (hot {n // 2}), concurrency {c}, gunicorn {args.workers} workers x {args.threads} threads, "
          f"{args.holders} vouchers; replay of 300 wrote nothing: {not problems}")
    print(f"redeem: {many.rate:,.0f} req/s, p99 {many.p99_ms:.0f} ms, ratio {many.rate / bare.rate:.2f} to bare SQL; "
          f"hot voucher {hot.rate:,.0f} req/s, p99 {hot.p99_ms:.0f} ms, ratio {hot.rate / hot_bare.rate:.2f}; "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
