"""Flash claim (issue 16): POST /api/voucher-batches/<id>/claim as production serves it (bench/wrk.py), loaded
by wrk, against its two ceilings in the same run — bare SQL (/bare/claim: guarded batch counter, voucher,
ledger row) and minimum correct (/min/claim: JWT, identity, one per person, guarded counter, voucher,
ledger row) — interleaved rounds, median and spread.

    python bench/claim.py [--cap 3000] [--people 6600] [--seconds 10] [--rounds 3]

Each run (warm-up included) of each variant gets its own batch and a crowd of ``people`` in random
order, one in ten tapping again a moment later with the same idempotency key. The caps are set so that
no run sells its batch out (app 3000, minimum correct 5000, bare SQL 20000 — bare SQL knows no person,
its crowd goes round), so every variant is measured on the same work, claims that succeed; the rate
counts every answered attempt (a repeated tap answers 200, or 409 on minimum correct).

Integrity afterwards, against the database: every answer 2xx or 409; every idempotency key the app
wrote is sent again (wrk, one thread, until every line went) and answers 2xx with nothing written; then
enough of the rest of each crowd is sent to fill the cap and a tenth more, and every batch ends at exactly its cap
(vouchers, counters, ledger), nobody holds two of one batch, and the ledger invariant holds.
"""
from __future__ import annotations

import argparse
import random
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.redeem import measure, replay  # noqa: E402
from bench.wrk import Bench, Target, line, ratios, row, spread, token_header  # noqa: E402

VARIANTS = ("app", "min", "bare")


def prepare(bench: Bench, caps: dict, people: int, runs: int, seed: int) -> dict:
    """The crowd (entrepreneurs with complete profiles and tokens) and, for each variant, one batch per run."""
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from tests.factories import make_batch, make_entrepreneur

    rng = random.Random(seed)
    with bench.app_context():
        crowd = []
        for n in range(people):
            crowd.append(make_entrepreneur().id)
            if n % 500 == 499:
                db.session.commit()
        batches = {v: [make_batch(total_count=caps[v], face_value=200_000, per_person_limit=1).id for _ in range(runs)]
                   for v in VARIANTS}
        db.session.commit()
        auth = {u: token_header(create_access_token(identity=str(u))) for u in crowd}
    plans = {v: [] for v in VARIANTS}
    for variant in VARIANTS:
        for batch in batches[variant]:
            order = list(crowd)
            rng.shuffle(order)
            taps = [(u, uuid.uuid4().hex) for u in order]
            for i in sorted(rng.sample(range(len(taps)), len(taps) // 10), reverse=True):  # tap again, later
                taps.insert(min(len(taps), i + rng.randint(16, 400)), taps[i])
            if variant == "app":
                lines = [line("POST", f"/api/voucher-batches/{batch}/claim", {"idempotency_key": key}, auth[u])
                         for u, key in taps]
            elif variant == "min":
                lines = [line("POST", "/min/claim", {"batch_id": batch}, auth[u]) for u, _ in taps]
            else:  # bare SQL knows no person: the crowd goes round until the batch's (larger) cap
                taps = [(order[i % len(order)], None) for i in range(caps["bare"] * 11 // 10 + 50)]
                lines = [line("POST", "/bare/claim", {"batch_id": batch, "holder_id": u}) for u, _ in taps]
            plans[variant].append({"batch": batch, "taps": taps, "lines": lines})
    return {"batches": batches, "plans": plans}


class PerRun(Target):
    """A target whose every run takes the next batch's crowd from the start."""

    def __init__(self, url, plans, pids):
        super().__init__(url, [], pids)
        self.plans, self.next = plans, 0

    def take(self) -> list:
        self.next += 1
        return self.plans[self.next - 1]["lines"]


def check(bench: Bench, world: dict, every: dict, caps: dict, urls: dict) -> list[str]:
    import psycopg

    problems = []
    for name, runs in every.items():
        bad = sum(r.other + r.socket_errors for r in runs)
        if bad:
            problems.append(f"{name}: {bad} answers neither 2xx nor 409, or socket errors")
    url = bench.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        app_batches = world["batches"]["app"]

        def snapshot():  # the app's batches only: a ceiling's last requests may still be finishing
            return conn.execute(
                "SELECT (SELECT count(*) FROM voucher WHERE batch_id = ANY(%(b)s)), (SELECT count(*) FROM voucher_ledger l "
                "JOIN voucher v ON v.id = l.voucher_id WHERE v.batch_id = ANY(%(b)s)), (SELECT sum(count) FROM "
                "batch_holding WHERE batch_id = ANY(%(b)s)), (SELECT sum(issued_count) FROM voucher_batch "
                "WHERE id = ANY(%(b)s))", {"b": app_batches}).fetchone()

        written = {(holder, key) for holder, key in conn.execute(
            "SELECT holder_id, claim_key FROM voucher WHERE claim_key IS NOT NULL")}
        again = [text for plan in world["plans"]["app"] for text, tap in zip(plan["lines"], plan["taps"])
                 if tap in written]
        before = snapshot()
        answers = replay(urls["app"], again)
        if answers["ok"] < len(again) or answers["other"] or answers["conflict"] or answers["socket_errors"]:
            problems.append(f"replay of {len(again)} keys: {answers}")
        after = snapshot()
        print(f"replayed {len(again)} idempotency keys on the app: {answers['ok']} answered 2xx; "
              f"(vouchers, entries, holdings, issued) {tuple(before)} → {tuple(after)}", flush=True)
        if after != before:
            problems.append(f"the replay wrote something: {tuple(before)} → {tuple(after)}")
        # the rest of each crowd (those who hold none of its batch, in their order): enough of them to fill
        # the cap and a tenth more, so the cap is met by more claimants than it has room for
        for variant in VARIANTS:
            cap = caps[variant]
            for plan in world["plans"][variant]:
                issued = conn.execute("SELECT issued_count FROM voucher_batch WHERE id = %s", (plan["batch"],)).fetchone()[0]
                holding = {h for h, in conn.execute("SELECT holder_id FROM voucher WHERE batch_id = %s", (plan["batch"],))}
                seen, rest = set(), []
                for text, (person, _) in zip(plan["lines"], plan["taps"]):
                    if variant == "bare" or (person not in holding and person not in seen):
                        seen.add(person)
                        rest.append(text)
                rest = rest[: (cap - issued) * 11 // 10 + 50]
                answers = replay(urls[variant], rest) if rest else {"ok": 0, "conflict": 0, "other": 0,
                                                                    "socket_errors": 0}
                if answers["other"] or answers["socket_errors"] or answers["conflict"] < min(len(rest), 50):
                    problems.append(f"{variant} batch {plan['batch']}, {len(rest)} more of the crowd: {answers}")
        for variant in VARIANTS:
            for batch in world["batches"][variant]:
                issued, rows, entries, most = conn.execute(
                    "SELECT b.issued_count, count(v.id), (SELECT count(*) FROM voucher_ledger l JOIN voucher w "
                    "ON w.id = l.voucher_id WHERE w.batch_id = b.id AND l.kind = 'issue'), "
                    "(SELECT max(n) FROM (SELECT count(*) n FROM voucher WHERE batch_id = b.id GROUP BY holder_id) h) "
                    "FROM voucher_batch b LEFT JOIN voucher v ON v.batch_id = b.id WHERE b.id = %s "
                    "GROUP BY b.id", (batch,)).fetchone()
                cap = caps[variant]
                if not issued == rows == entries == cap:
                    problems.append(f"{variant} batch {batch}: issued {issued}, vouchers {rows}, issue entries "
                                    f"{entries}, cap {cap}")
                if variant != "bare" and most > 1:
                    problems.append(f"{variant} batch {batch}: someone holds {most}")
    with bench.app_context():
        from backend.vouchers import ledger

        breaches = ledger.check_invariants()
        problems += breaches[:5] + ([f"… {len(breaches) - 5} more"] if len(breaches) > 5 else [])
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=int, default=3000, help="the app's batches")
    parser.add_argument("--min-cap", type=int, default=5000, help="minimum correct's (one per person: < people)")
    parser.add_argument("--bare-cap", type=int, default=20000, help="bare SQL's (knows no person)")
    parser.add_argument("--people", type=int, default=6600)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with Bench("claim", seconds=args.seconds, warmup=args.warmup, rounds=args.rounds) as bench:
        caps = {"app": args.cap, "min": args.min_cap, "bare": args.bare_cap}
        world = prepare(bench, caps, args.people, args.rounds + 1, args.seed)
        ceiling = bench.ceiling("bench.bare_app:create()")
        print(f"prepared {args.people} people; per run a batch of {caps}; gunicorn {bench.workers} workers x "
              f"{bench.threads} threads, wrk {bench.connections} connections, {args.rounds} rounds of "
              f"{args.seconds:g} s after a {args.warmup:g} s warm-up", flush=True)
        urls = {"app": bench.url, "min": ceiling.url, "bare": ceiling.url}
        targets = {v: PerRun(urls[v], world["plans"][v], bench.app_pids if v == "app" else ceiling.pids)
                   for v in VARIANTS}
        every = measure(bench, targets)
        problems = check(bench, world, every, caps, urls)

    for name, target in targets.items():
        rate, low, high = spread([r.rate for r in target.runs])
        cpu = spread([r.cpu_ms() for r in target.runs])[0]
        app_cpu = spread([r.cpu_ms("app") for r in target.runs])[0]
        issued = spread([r.ok for r in target.runs])[0]
        print(f"{name:<5} median {rate:7,.0f} attempts/s ({low:,.0f}–{high:,.0f}), p50 "
              f"{spread([r.p50_ms for r in target.runs])[0]:.1f} ms, p99 {spread([r.p99_ms for r in target.runs])[0]:.1f} ms, "
              f"2xx {issued:.0f} a run, cpu {cpu:.2f} ms/req (gunicorn {app_cpu:.2f}, postgres {cpu - app_cpu:.2f})")
    to_bare, lo_b, hi_b = ratios(targets["app"].runs, targets["bare"].runs)
    to_min, lo_m, hi_m = ratios(targets["app"].runs, targets["min"].runs)
    print(f"ratios per round: to bare SQL {to_bare:.2f} ({lo_b:.2f}–{hi_b:.2f}), to minimum correct {to_min:.2f} "
          f"({lo_m:.2f}–{hi_m:.2f})")
    for text in problems:
        print("PROBLEM", text)
    runs = targets["app"].runs
    rate = spread([r.rate for r in runs])[0]
    exact = sum(1 for p in problems if "batch" in p and "issued" in p) == 0
    n = (args.rounds + 1) * len(VARIANTS)
    print(f"claim: {rate:,.0f} claims/s, p99 {spread([r.p99_ms for r in runs])[0]:.0f} ms, ratio {to_bare:.2f} to bare SQL, "
          f"{to_min:.2f} to minimum correct, cap {args.cap}/{args.cap} exact, every cap exact in {n if exact else 'NOT all'} of {n} batches, "
          f"cpu {spread([r.cpu_ms() for r in runs])[0]:.1f} ms/req, integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
