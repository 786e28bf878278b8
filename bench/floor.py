"""Where the framework's own ceiling is, in the same run and setup as bench/redeem.py: an endpoint
with no auth and no database (GET /api/meta), an authenticated one doing one small query
(GET /api/me/notifications/unread: JWT, token revocation + user + roles, one COUNT), and the bare
SQL redeem endpoint (bench/bare_app.py). A real redemption cannot be faster than the second.

    .venv/bin/python bench/floor.py [--requests 3000] [--concurrency 32]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import app_context, gunicorn, served_app  # noqa: E402
from bench.loadgen import LoadProcess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    with served_app(workers=args.workers, threads=args.threads) as served:
        with app_context(served):
            from flask_jwt_extended import create_access_token

            from backend.extensions import db
            from backend.vouchers import claims
            from tests.factories import make_batch, make_entrepreneur, make_staff

            staff, _ = make_staff()
            voucher = claims.claim(user=make_entrepreneur(), batch_id=make_batch(face_value=10**9).id)[0]
            db.session.commit()
            auth = {"Authorization": f"Bearer {create_access_token(identity=str(staff.id))}"}
            voucher_id = voucher.id
        with gunicorn("bench.bare_app:create()", served.env, args.workers, args.threads, probe="/") as bare_url, \
                LoadProcess() as load:
            runs = {}
            for name, url, call in [
                ("no auth, no database", served.url, ("GET", "/api/meta", None, {})),
                ("auth + one query", served.url, ("GET", "/api/me/notifications/unread", None, auth)),
                ("bare SQL redeem", bare_url, ("POST", "/bare/redeem", {"voucher_id": voucher_id, "amount": 1}, {})),
            ]:
                load.run(url, [call] * 300, c)
                runs[name] = load.run(url, [call] * n, c)
    ok = all(status in (200, 201) for r in runs.values() for status, _ in r.answers)
    for name, r in runs.items():
        print(f"{name:<22} {r.rate:8,.0f} req/s  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms")
    meta, authed, bare = runs["no auth, no database"], runs["auth + one query"], runs["bare SQL redeem"]
    print(f"floor: no auth {meta.rate:,.0f} req/s, auth + one query {authed.rate:,.0f} req/s "
          f"({authed.rate / bare.rate:.2f}× bare SQL redeem {bare.rate:,.0f} req/s), answers {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
