"""Redemption throughput (issue 16): POST /api/provider/redemptions as production serves it (bench/wrk.py:
gunicorn, PostgreSQL, rate limits in Redis), loaded by wrk, against its two ceilings in the same run —
bare SQL (/bare/redeem: lock, update, ledger row) and minimum correct (/min/redeem: JWT, identity, the
idempotent redemption, guarded balance, ledger row) — interleaved rounds, median and spread.

    python bench/redeem.py [--holders 500] [--seconds 10] [--rounds 3]

Two patterns: many vouchers (each request a random one of ``holders``) and the hot voucher (every
request on one row). Every request is its own cashier scan and its own idempotency key.

Integrity afterwards, against the database: every answer 2xx, one redemption row per 201 (plus at most
one per connection per run: what was in flight when wrk stopped counting); per voucher
face value − balance = Σ unreversed redemptions (the bare ceiling's: Σ its ledger rows); one ledger entry
per redemption and none without one; the ledger invariant (flask vouchers check's); then every
idempotency key the run wrote is sent again (wrk, one thread, until each line went) and must answer 2xx
and write nothing (row counts and balances unchanged).

wrk.py has no single-thread "send every line once" mode; ``replay`` below is that helper.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wrk import (LUA, PRETIX, Bench, Target, line, ratios, row, spread,  # noqa: E402
                       token_header)

BILL = 100  # fen; these vouchers pay 100 % of the bill
PATH = "/api/provider/redemptions"


def prepare(bench: Bench, holders: int, n_many: int, n_hot: int, seed: int) -> dict:
    """Vouchers (app's, minimum correct's, bare's, the hot ones), a staff token, and the prepared lines."""
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from backend.vouchers import claims
    from bench.harness import scan_tokens
    from tests.factories import make_batch, make_entrepreneur, make_staff

    rng = random.Random(seed)
    with bench.app_context():
        staff, provider = make_staff()
        kind = dict(face_value=1_000_000, total_count=holders, co_pay_ratio_bp=10000, min_bill=0, categories=["rent"])
        app_batch, min_batch, bare_batch = make_batch(**kind), make_batch(**kind), make_batch(**kind)
        hot_batch = make_batch(face_value=1_000_000_000, total_count=3, co_pay_ratio_bp=10000, min_bill=0,
                               categories=["rent"])
        app, mins, bare = [], [], []
        for _ in range(holders):
            person = make_entrepreneur()
            app.append(claims.claim(user=person, batch_id=app_batch.id)[0])
            mins.append(claims.claim(user=person, batch_id=min_batch.id)[0])
            bare.append(claims.claim(user=person, batch_id=bare_batch.id)[0])
        hot = [claims.claim(user=make_entrepreneur(), batch_id=hot_batch.id)[0] for _ in range(2)]
        db.session.commit()
        token = create_access_token(identity=str(staff.id))
        app = [(v.id, v.holder_id) for v in app]
        mins = [(v.id, v.holder_id) for v in mins]
        bare = [v.id for v in bare]
        hot_app, hot_bare = (hot[0].id, hot[0].holder_id), hot[1].id
        many_targets = [rng.choice(app) for _ in range(n_many)]
        hot_targets = [hot_app] * n_hot
        scans = scan_tokens(staff_id=staff.id, provider_id=provider.id, targets=many_targets + hot_targets)
        auth = token_header(token)

        def app_lines(targets, tokens):
            return [line("POST", PATH, {"scan_token": t, "voucher_id": v, "bill_amount": BILL, "category": "rent",
                                        "idempotency_key": uuid.uuid4().hex}, auth)
                    for (v, _), t in zip(targets, tokens)]

        min_lines = []
        for _ in range(n_many * 2):
            v, holder = rng.choice(mins)
            min_lines.append(line("POST", "/min/redeem", {"voucher_id": v, "holder_id": holder, "amount": BILL,
                                                          "idempotency_key": uuid.uuid4().hex}, auth))
        return {
            "app_vouchers": [v for v, _ in app] + [hot_app[0]], "min_vouchers": [v for v, _ in mins],
            "bare_vouchers": bare + [hot_bare],
            "many": app_lines(many_targets, scans[:n_many]),
            "hot": app_lines(hot_targets, scans[n_many:]),
            "min": min_lines,
            "bare": [line("POST", "/bare/redeem", {"voucher_id": rng.choice(bare), "amount": BILL})
                     for _ in range(n_many * 3)],
            "hot_bare": [line("POST", "/bare/redeem", {"voucher_id": hot_bare, "amount": BILL})] * (n_hot * 3),
        }


def measure(bench: Bench, targets: dict[str, Target]) -> dict[str, list]:
    """Like Bench.interleave, keeping the warm-up runs too (every request of a run is checked afterwards)."""
    every = {name: [bench.run(target, bench.warmup)] for name, target in targets.items()}
    for round_ in range(bench.rounds):
        for name, target in targets.items():
            result = bench.run(target, bench.seconds)
            target.runs.append(result)
            every[name].append(result)
            print(row(f"{name} #{round_ + 1}", result), flush=True)
    return every


def replay(url: str, lines: list[str], seconds: float = 5, connections: int = 16) -> dict:
    """Send every line at least once (wrk, one thread, so "wrapped" means every line went), again until
    they all did; returns the summed status classes."""
    total = {"requests": 0, "ok": 0, "conflict": 0, "other": 0, "socket_errors": 0}
    rest = list(lines)
    while rest:  # a chunk that did not wrap: its last line per connection may have been unanswered, resend
        with tempfile.NamedTemporaryFile("w", suffix=".tsv") as f:
            f.write("\n".join(rest) + "\n")
            f.flush()
            out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA),
                                  url, "--", f.name, "1"], capture_output=True, text=True, timeout=seconds + 120).stdout
        found = [r for r in out.splitlines() if r.startswith("RESULT ")]
        if not found:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        r = json.loads(found[0][len("RESULT "):])
        for name in total:
            total[name] += r[name]
        rest = [] if r["wrapped"] else rest[max(0, r["furthest"] - connections):]
        seconds *= 2
    return total


def _keys(lines: list[str]) -> list[str]:
    return [json.loads(text.split("\t")[2])["idempotency_key"] for text in lines]


def check(bench: Bench, world: dict, every: dict[str, list]) -> list[str]:
    import psycopg

    problems = []
    for name, runs in every.items():
        bad = sum(r.other + r.conflict + r.socket_errors for r in runs)
        wraps = sum(r.wrapped for r in runs)
        if bad or wraps:
            problems.append(f"{name}: {bad} answers not 2xx or socket errors, {wraps} wraps (a line sent twice)")
    url = bench.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        def one(sql, *args):
            return conn.execute(sql, args).fetchone()[0]

        # wrk stops counting at the end of a run with up to one request per connection in flight, which
        # the server still completes: rows = 2xx counted + at most `connections` per run (each of those
        # keys is replayed below and must answer with its receipt)
        for label, names, vouchers in [("app", ("many", "hot"), world["app_vouchers"]),
                                       ("minimum correct", ("min",), world["min_vouchers"])]:
            rows = one("SELECT count(*) FROM redemption WHERE voucher_id = ANY(%s)", vouchers)
            runs = [r for name in names for r in every[name]]
            counted = sum(r.ok for r in runs)
            if not counted <= rows <= counted + bench.connections * len(runs):
                problems.append(f"{label}: {rows} redemption rows for {counted} receipts counted in {len(runs)} runs")
        with_receipts = world["app_vouchers"] + world["min_vouchers"]
        off = one("SELECT count(*) FROM voucher v LEFT JOIN (SELECT voucher_id, sum(amount) s FROM redemption "
                  "WHERE reversed_at IS NULL GROUP BY voucher_id) r ON r.voucher_id = v.id "
                  "WHERE v.id = ANY(%s) AND v.face_value - v.balance <> coalesce(r.s, 0)", with_receipts)
        if off:
            problems.append(f"{off} vouchers where face value − balance ≠ Σ unreversed receipts")
        off = one("SELECT count(*) FROM voucher v LEFT JOIN (SELECT voucher_id, sum(amount) s FROM voucher_ledger "
                  "WHERE kind = 'redeem' GROUP BY voucher_id) l ON l.voucher_id = v.id "
                  "WHERE v.id = ANY(%s) AND v.face_value - v.balance <> -coalesce(l.s, 0)", world["bare_vouchers"])
        if off:
            problems.append(f"bare: {off} vouchers where face value − balance ≠ Σ its ledger rows")
        off = one("SELECT count(*) FROM redemption r WHERE (SELECT count(*) FROM voucher_ledger l "
                  "WHERE l.redemption_id = r.id AND l.kind = 'redeem' AND l.amount = -r.amount) <> 1")
        orphans = one("SELECT count(*) FROM voucher_ledger WHERE kind = 'redeem' AND redemption_id IS NULL "
                      "AND voucher_id = ANY(%s)", with_receipts)
        if off or orphans:
            problems.append(f"{off} redemptions without exactly one ledger entry, {orphans} entries without one")
        written = set(r[0] for r in conn.execute("SELECT idempotency_key FROM redemption"))

        replayed = with_receipts

        def snapshot():  # the replayed vouchers only: the bare ceiling's last requests may still be finishing
            return conn.execute(
                "SELECT (SELECT count(*) FROM redemption), (SELECT count(*) FROM voucher_ledger WHERE voucher_id = "
                "ANY(%(v)s)), (SELECT sum(balance) FROM voucher WHERE id = ANY(%(v)s)), (SELECT count(*) FROM "
                "notification)", {"v": replayed}).fetchone()

        before = snapshot()
        conn.commit()
        for name, url_, lines in [("app", bench.url, world["many"] + world["hot"]),
                                  ("minimum correct", world["ceiling"], world["min"])]:
            again = [text for text, key in zip(lines, _keys(lines)) if key in written]
            answers = replay(url_, again)
            if answers["ok"] < len(again) or answers["other"] or answers["conflict"] or answers["socket_errors"]:
                problems.append(f"{name} replay of {len(again)} keys: {answers}")
            print(f"replayed {len(again)} idempotency keys on {name}: {answers['ok']} answered 2xx", flush=True)
        after = snapshot()
        if after != before:
            problems.append(f"the replay wrote something: (redemptions, entries, Σ balance, notifications) "
                            f"{tuple(before)} → {tuple(after)}")
    with bench.app_context():
        from backend.vouchers import ledger

        breaches = ledger.check_invariants()
        problems += breaches[:5] + ([f"… {len(breaches) - 5} more"] if len(breaches) > 5 else [])
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=500)
    parser.add_argument("--lines", type=int, default=40_000, help="prepared app requests, many vouchers")
    parser.add_argument("--hot-lines", type=int, default=25_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with Bench("redeem", seconds=args.seconds, warmup=args.warmup, rounds=args.rounds) as bench:
        world = prepare(bench, args.holders, args.lines, args.hot_lines, args.seed)
        ceiling = bench.ceiling("bench.bare_app:create()")
        world["ceiling"] = ceiling.url
        print(f"prepared {args.holders} vouchers each for the app, minimum correct and bare SQL, one hot voucher; "
              f"gunicorn {bench.workers} workers x {bench.threads} threads, wrk {bench.connections} connections, "
              f"{args.rounds} rounds of {args.seconds:g} s after a {args.warmup:g} s warm-up", flush=True)
        many = {"app": Target(bench.url, world["many"], bench.app_pids),
                "min": Target(ceiling.url, world["min"], ceiling.pids),
                "bare": Target(ceiling.url, world["bare"], ceiling.pids)}
        every = measure(bench, many)
        hot = {"hot": Target(bench.url, world["hot"], bench.app_pids),
               "hot_bare": Target(ceiling.url, world["hot_bare"], ceiling.pids)}
        every.update({"many": every.pop("app"), **measure(bench, hot)})
        problems = check(bench, world, every)

    def median(runs, attr):
        return spread([getattr(r, attr) if attr != "cpu" else r.cpu_ms() for r in runs])

    for name, target in {**many, **hot}.items():
        rate, low, high = median(target.runs, "rate")
        cpu = median(target.runs, "cpu")[0]
        app_cpu = spread([r.cpu_ms("app") for r in target.runs])[0]
        print(f"{name:<9} median {rate:7,.0f} req/s ({low:,.0f}–{high:,.0f}), p50 {median(target.runs, 'p50_ms')[0]:.1f} ms, "
              f"p99 {median(target.runs, 'p99_ms')[0]:.1f} ms, cpu {cpu:.2f} ms/req (gunicorn {app_cpu:.2f}, "
              f"postgres {cpu - app_cpu:.2f})")
    to_bare, lo_b, hi_b = ratios(many["app"].runs, many["bare"].runs)
    to_min, lo_m, hi_m = ratios(many["app"].runs, many["min"].runs)
    hot_ratio, lo_h, hi_h = ratios(hot["hot"].runs, hot["hot_bare"].runs)
    print(f"ratios per round: to bare SQL {to_bare:.2f} ({lo_b:.2f}–{hi_b:.2f}), to minimum correct {to_min:.2f} "
          f"({lo_m:.2f}–{hi_m:.2f}), hot voucher to bare SQL {hot_ratio:.2f} ({lo_h:.2f}–{hi_h:.2f})")
    for text in problems:
        print("PROBLEM", text)
    rate = median(many["app"].runs, "rate")[0]
    p99 = median(many["app"].runs, "p99_ms")[0]
    cpu = median(many["app"].runs, "cpu")[0]
    hot_rate = median(hot["hot"].runs, "rate")[0]
    print(f"redeem: {rate:,.0f} req/s, p99 {p99:.0f} ms, ratio {to_bare:.2f} to bare SQL, {to_min:.2f} to minimum correct, "
          f"{rate / PRETIX['giftcard']:.1f}x pretix gift-card, cpu {cpu:.1f} ms/req; hot voucher {hot_rate:,.0f} req/s, "
          f"p99 {median(hot['hot'].runs, 'p99_ms')[0]:.0f} ms, ratio {hot_ratio:.2f} to bare SQL; "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
