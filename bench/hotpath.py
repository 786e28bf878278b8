"""Where one request's time goes: redeem or claim run in this process (Flask test client, one
thread) on a fresh PostgreSQL database, timed per request, SQL statements counted, and a cProfile
of the lot.

    .venv/bin/python bench/hotpath.py redeem [--requests 500] [--sort tottime] [--limit 40]
    .venv/bin/python bench/hotpath.py claim           (every claim succeeds)
    .venv/bin/python bench/hotpath.py sold-out        (every claim refused: most of bench/claim.py)
    .venv/bin/python bench/hotpath.py unread          (auth + one query, the floor)
    .venv/bin/python bench/hotpath.py meta            (no auth, no database)
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PG_ADMIN_URL, scan_tokens  # noqa: E402


def _database():
    import psycopg

    name = f"cyql_profile_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _calls(kind: str, n: int) -> list:
    """[(method, path, json, headers)] for n requests of this kind, with the rows they need."""
    from flask_jwt_extended import create_access_token

    from backend.extensions import db
    from backend.vouchers import claims
    from backend.vouchers.models import Voucher
    from tests.factories import make_batch, make_entrepreneur, make_staff

    if kind in ("claim", "sold-out"):
        batch = make_batch(total_count=n if kind == "claim" else 1, face_value=200_000, per_person_limit=1)
        people = [make_entrepreneur() for _ in range(n)]
        db.session.commit()
        return [("POST", f"/api/voucher-batches/{batch.id}/claim", {},
                 {"Authorization": f"Bearer {create_access_token(identity=str(p.id))}"}) for p in people]
    staff, provider = make_staff()
    auth = {"Authorization": f"Bearer {create_access_token(identity=str(staff.id))}"}
    if kind == "meta":
        return [("GET", "/api/meta", None, {})] * n
    if kind == "unread":
        db.session.commit()
        return [("GET", "/api/me/notifications/unread", None, auth)] * n
    batch = make_batch(face_value=1_000_000, total_count=50, co_pay_ratio_bp=10000, min_bill=0, categories=["rent"])
    vouchers = [claims.claim(user=make_entrepreneur(), batch_id=batch.id)[0] for _ in range(50)]
    db.session.commit()
    targets = [(v.id, v.holder_id) for v in (vouchers[i % len(vouchers)] for i in range(n))]
    tokens = scan_tokens(staff_id=staff.id, provider_id=provider.id, targets=targets)  # one scan, one payment
    calls = []
    for (voucher_id, _), token in zip(targets, tokens):
        v = db.session.get(Voucher, voucher_id)
        calls.append(("POST", "/api/provider/redemptions",
                      {"scan_token": token, "voucher_id": v.id, "bill_amount": 100, "category": "rent",
                       "idempotency_key": uuid.uuid4().hex}, auth))
    return calls


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["redeem", "claim", "sold-out", "unread", "meta"])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--dump", help="also write the profile here (pstats format)")
    args = parser.parse_args()

    import os

    import flask_migrate
    import psycopg
    import sqlalchemy as sa

    name, url = _database()
    os.environ["DATABASE_URL"] = url
    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="cyql-hotpath-")
    from backend import create_app
    from backend.extensions import db

    app = create_app({"RATELIMIT_ENABLED": False, "SECRET_KEY": "profile-secret-key-0123456789abcdef",
                      "JWT_SECRET_KEY": "profile-jwt-key-0123456789abcdef0123"})
    try:
        with app.app_context():
            flask_migrate.upgrade()
            calls = _calls(args.kind, args.requests)
            db.session.remove()
        statements = []
        sa.event.listen(_engine(app), "before_cursor_execute",
                        lambda *a: statements.append(a[2]))
        client = app.test_client()
        for method, path, body, headers in calls[:20]:  # warm-up
            client.open(path, method=method, json=body, headers=headers)
        half = 20 + (len(calls) - 20) // 2
        started, cpu = time.perf_counter(), time.process_time()
        for method, path, body, headers in calls[20:half]:  # timed without the profiler
            client.open(path, method=method, json=body, headers=headers)
        plain = (time.perf_counter() - started) / (half - 20)
        cpu = (time.process_time() - cpu) / (half - 20)
        calls = calls[:20] + calls[half:]
        statements.clear()
        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting on the database is not the cost
        started = time.perf_counter()
        statuses = {}
        profiler.enable()
        for method, path, body, headers in calls[20:]:
            status = client.open(path, method=method, json=body, headers=headers).status_code
            statuses[status] = statuses.get(status, 0) + 1
        profiler.disable()
        elapsed = time.perf_counter() - started
        n = len(calls) - 20
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
        if args.dump:
            profiler.dump_stats(args.dump)
        print(f"{args.kind}: {plain * 1000:.2f} ms a request, {cpu * 1000:.2f} ms of it CPU in this process "
              f"({elapsed / n * 1000:.2f} ms under cProfile), "
              f"{len(statements) / n:.1f} statements each, statuses {statuses}")
        for sql in statements[:12]:
            print("  ", " ".join(sql.split())[:160])
    finally:
        with app.app_context():
            db.engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def _engine(app):
    from backend.extensions import db

    with app.app_context():
        return db.engine


if __name__ == "__main__":
    sys.exit(main())
