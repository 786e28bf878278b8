"""One app server against two behind nginx, same PostgreSQL, same load, same run.

    .venv/bin/python bench/stack.py [--seconds 10] [--connections 16] [--workers 2] [--threads 4]

The production stack of deploy/serve.py (two gunicorn app servers of --workers × --threads, Redis),
plus a second nginx whose upstream is server 1 alone. wrk (Debian's, with bench/unique.lua: every
request unique) drives each for --seconds: redemptions (POST /api/provider/redemptions, each with its
own scan and idempotency key, over 600 vouchers) and sign-ups (POST /api/events/<id>/registrations,
600 people × 20 events, each pair once). For every run: req/s, p50/p99, and the CPU seconds each
process group used (/proc/<pid>/stat: the app servers' masters and workers, nginx, the PostgreSQL
backends of this database, wrk), per request. Afterwards the ledger and seat invariants are checked.
The summary line is last.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.harness import PG_ADMIN_URL, scan_tokens  # noqa: E402
from bench.wrk import cpu_seconds, pg_backends  # noqa: E402
from deploy.serve import SECRET_NAMES, Stack, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOLDERS, PEOPLE, EVENTS = 600, 600, 20


def app_context(stack):
    shared = {k: v for k, v in stack.base_env().items() if k in SECRET_NAMES or k in stack.extra_env}
    os.environ.update({"DATABASE_URL": stack.database_url, "INSTANCE_PATH": str(stack.run / "cli"), **shared})
    from backend import create_app

    return create_app({"RATELIMIT_ENABLED": False}).app_context()


def prepare(stack, redemptions: int) -> dict:
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from backend.vouchers import claims
    from tests.factories import make_batch, make_entrepreneur, make_event, make_staff

    with app_context(stack):
        staff, provider = make_staff()
        batch = make_batch(face_value=1_000_000_000, total_count=HOLDERS, co_pay_ratio_bp=10000, min_bill=0,
                           categories=["rent"])
        vouchers = []
        for n in range(HOLDERS):
            vouchers.append(claims.claim(user=make_entrepreneur(), batch_id=batch.id)[0])
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        targets = [(v.id, v.holder_id) for v in vouchers]
        chosen = [random.choice(targets) for _ in range(redemptions)]
        tokens = scan_tokens(staff_id=staff.id, provider_id=provider.id, targets=chosen)
        auth = f"Authorization: Bearer {create_access_token(identity=str(staff.id))}"
        redeem = [("POST", "/api/provider/redemptions", auth,
                   json.dumps({"scan_token": token, "voucher_id": voucher_id, "bill_amount": 100, "category": "rent",
                               "idempotency_key": uuid.uuid4().hex}))
                  for (voucher_id, _), token in zip(chosen, tokens)]
        events = [make_event(capacity=PEOPLE).id for _ in range(EVENTS)]
        people = []
        for n in range(PEOPLE):
            people.append(make_entrepreneur().id)
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        signup = [("POST", f"/api/events/{event}/registrations",
                   f"Authorization: Bearer {create_access_token(identity=str(person))}", "")
                  for person in people for event in events]
        random.shuffle(signup)
    return {"redeem": redeem, "signup": signup}


def check(stack) -> list[str]:
    problems = []
    for group in ("vouchers", "events"):
        result = stack.flask(group, "check", check=False)
        if result.returncode:
            problems.append(f"flask {group} check: {result.stdout}{result.stderr}"[-400:])
    return problems


def run_wrk(url: str, lines: list, seconds: int, connections: int, groups: dict) -> dict:
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        # bench/unique.lua's order: METHOD, PATH, BODY, HEADER
        f.write("\n".join("\t".join((method, path, body, header)) for method, path, header, body in lines) + "\n")
    pids = {name: get() for name, get in groups.items()}
    before = {name: cpu_seconds(p) for name, p in pids.items()}
    wrk = subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                            "-s", str(ROOT / "bench" / "unique.lua"), url, "--", f.name, str(threads)],
                           stdout=subprocess.PIPE, text=True)
    out, _ = wrk.communicate(timeout=seconds + 60)
    os.unlink(f.name)
    after = {name: cpu_seconds(p) for name, p in pids.items()}
    line = next(row for row in out.splitlines() if row.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    cpu = {name: sum(after[name].get(pid, 0) - t for pid, t in before[name].items()) for name in groups}
    cpu["wrk"] = _children_cpu_delta()  # wrk's own CPU: the kernel's count for reaped children
    result["cpu"] = cpu
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


_last_children = [0.0]


def _children_cpu_delta() -> float:
    times = os.times()
    total = times.children_user + times.children_system
    delta, _last_children[0] = total - _last_children[0], total
    return delta


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redemptions", type=int, default=24_000)
    args = parser.parse_args()
    name = f"cyql_stack_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    run = Path(tempfile.mkdtemp(prefix="cyql-stack-bench-"))
    if os.geteuid() == 0:
        run.chmod(0o711)
    env = {"RATELIMIT_ENABLED": "false"}
    results, problems = {}, []
    try:
        with Stack(run_dir=run, database_url=database_url, redis_url="redis://127.0.0.1:6379/0", servers=2,
                   workers=args.workers, threads=args.threads, scheduler=False, env=env) as stack:
            world = prepare(stack, args.redemptions)
            single_port = free_port()
            single = stack.start_nginx([stack.ports[0]], run / "nginx-single", single_port)
            try:
                print("PostgreSQL backends of the database:", len(pg_backends(name)), flush=True)
                groups = {
                    "app-1": lambda: stack.servers[0].pids(),
                    "app-2": lambda: stack.servers[1].pids(),
                    "nginx": lambda: stack.nginx.pids() + single.pids(),
                    "postgres": lambda: pg_backends(name),
                }
                _children_cpu_delta()
                urls = {"1 server": f"http://127.0.0.1:{single_port}", "2 servers": stack.url}
                # warm both (imports, pools), then the same load on each, alternating
                for url in urls.values():
                    run_wrk(url, world["redeem"][:400], 2, args.connections, groups)
                cursor = {"redeem": 400, "signup": 0}
                for workload in ("redeem", "signup"):
                    for label, url in urls.items():
                        lines = world[workload][cursor[workload]:]
                        result = run_wrk(url, lines, args.seconds, args.connections, groups)
                        cursor[workload] += result["requests"]
                        results[(workload, label)] = result
                        print(_row(workload, label, result), flush=True)
            finally:
                single.stop()
            problems += check(stack)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for (workload, label), result in results.items():
        if result["non2xx"] or result["socket_errors"] or result["wrapped"]:
            problems.append(f"{workload} {label}: {result['non2xx']} non-2xx, {result['socket_errors']} socket errors, "
                            f"{result['wrapped']} wraps of the prepared requests")
    for line in problems:
        print("PROBLEM", line)
    print(f"cores {os.cpu_count()}, {args.seconds}s per run, wrk 2 threads × {args.connections} connections, "
          f"app servers of {args.workers} workers × {args.threads} threads; CPU ms per request by process group")
    r1, r2 = results[("redeem", "1 server")], results[("redeem", "2 servers")]
    s1, s2 = results[("signup", "1 server")], results[("signup", "2 servers")]
    print(f"stack: redeem {r1['rate']:,.0f} → {r2['rate']:,.0f} req/s (p99 {r1['p99_us'] / 1000:.0f} → "
          f"{r2['p99_us'] / 1000:.0f} ms), sign-up {s1['rate']:,.0f} → {s2['rate']:,.0f} req/s "
          f"(p99 {s1['p99_us'] / 1000:.0f} → {s2['p99_us'] / 1000:.0f} ms), 1 → 2 app servers; "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


def _row(workload: str, label: str, result: dict) -> str:
    per = {name: seconds * 1000 / max(result["requests"], 1) for name, seconds in result["cpu"].items()}
    cpu = " ".join(f"{name} {ms:.2f}" for name, ms in per.items())
    return (f"{workload:<7} {label:<9} {result['rate']:7,.0f} req/s  p50 {result['p50_us'] / 1000:6.1f} ms  "
            f"p99 {result['p99_us'] / 1000:6.1f} ms  n={result['requests']:<6} cpu ms/req: {cpu}  "
            f"(app total {per['app-1'] + per['app-2']:.2f})")


if __name__ == "__main__":
    sys.exit(main())
