"""What an authenticated request costs before and after issue 16's identity work, measured as a peer
would: GET /api/me/notifications/unread (the token checked, the identity read, one light query) under
wrk, the app as production runs it (bench/wrk.py), two variants side by side in the same run:

- ``after``: the settings as shipped — identity from the per-process cache (IDENTITY_CACHE_SECONDS=5),
  a verified token not decoded again, no pool_pre_ping (the pooled connection checked by its BEGIN);
- ``before``: IDENTITY_CACHE_SECONDS=0, pool_pre_ping on, every token decoded in full (as before).

Both under the same gunicorn (2 workers × 4 threads, production environment, rate limits in Redis) on
one database, interleaved 3 rounds; 400 people, each request a different person's token in turn and a
unique X-Request-ID. Integrity afterwards: every request answered 200, nothing written (no row of
notification or revoked_token), and the bound held: an account blocked with plain SQL (as another server
would) is refused by the cached variant within IDENTITY_CACHE_SECONDS (polled, with a deadline).

    .venv/bin/python bench/auth.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PEOPLE = 400
LINES = 60_000
BOUND = 5.0


def variant(kind: str):
    """The WSGI app of one variant (gunicorn 'bench.auth:variant("before")'), production settings."""
    import os

    if kind == "before":
        os.environ["IDENTITY_CACHE_SECONDS"] = "0"
    from backend import create_app

    app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}} if kind == "before" else None)
    if kind == "before":
        app.extensions["verified_tokens"] = None  # every token decoded in full, as before
    return app


def main() -> int:
    import psycopg
    import requests
    from flask_jwt_extended import create_access_token

    from bench.wrk import Bench, Target, describe, line, ratios, spread, token_header

    with Bench("auth") as bench:
        with bench.app_context():
            from backend.extensions import db
            from tests.factories import make_user

            people = [make_user() for _ in range(PEOPLE)]
            db.session.commit()
            tokens = [create_access_token(identity=str(p.id)) for p in people]
            blocked_id, blocked_token = people[0].id, tokens[0]
        path = "/api/me/notifications/unread"

        def lines(tag: str) -> list:
            return [line("GET", path, None, token_header(tokens[i % PEOPLE]), f"X-Request-ID: auth-{tag}-{i:09d}")
                    for i in range(LINES)]

        after = bench.ceiling("bench.auth:variant('after')", probe="/healthz")
        before = bench.ceiling("bench.auth:variant('before')", probe="/healthz")
        rounds = bench.interleave({"after": Target(after.url, lines("a"), after.pids),
                                   "before": Target(before.url, lines("b"), before.pids)})

        # integrity: every answer 200, nothing written, and the bound held on the cached variant
        answered = all(r.ok == r.requests and r.other == 0 and r.socket_errors == 0
                       for runs in rounds.values() for r in runs)
        with psycopg.connect(bench.database_url.replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as conn:
            written = conn.execute("SELECT (SELECT count(*) FROM notification) + (SELECT count(*) FROM revoked_token)"
                                   ).fetchone()[0]
            headers = {"Authorization": f"Bearer {blocked_token}"}
            warm = [requests.get(after.url + "/api/me", headers=headers, timeout=10).status_code for _ in range(8)]
            conn.execute('UPDATE "user" SET is_active = false WHERE id = %s', (blocked_id,))
            blocked_at = time.monotonic()
            refused_after = None
            while time.monotonic() - blocked_at < BOUND + 5:
                # every worker and thread must refuse it: several requests in a row, all 401
                if all(requests.get(after.url + "/api/me", headers=headers, timeout=10).status_code == 401
                       for _ in range(8)):
                    refused_after = time.monotonic() - blocked_at
                    break
                time.sleep(0.05)  # a benchmark polling a live server, not a test
        bound_ok = warm == [200] * 8 and refused_after is not None and refused_after <= BOUND + 0.5

        print(describe("after (identity cached)", rounds["after"]))
        print(describe("before (read every request)", rounds["before"]))
        ratio, low, high = ratios(rounds["after"], rounds["before"])
        cpu_a = spread([r.cpu_ms() for r in rounds["after"]])
        cpu_b = spread([r.cpu_ms() for r in rounds["before"]])
        app_a = spread([r.cpu_ms("app") for r in rounds["after"]])[0]
        app_b = spread([r.cpu_ms("app") for r in rounds["before"]])[0]
        pg_a = spread([r.cpu_ms("postgres") for r in rounds["after"]])[0]
        pg_b = spread([r.cpu_ms("postgres") for r in rounds["before"]])[0]
        print(f"server cpu ms/req: after {cpu_a[0]:.2f} ({cpu_a[1]:.2f}–{cpu_a[2]:.2f}; gunicorn {app_a:.2f}, "
              f"postgres {pg_a:.2f}), before {cpu_b[0]:.2f} ({cpu_b[1]:.2f}–{cpu_b[2]:.2f}; gunicorn {app_b:.2f}, "
              f"postgres {pg_b:.2f})")
        print(f"bound: blocked with plain SQL, refused everywhere after "
              f"{'never' if refused_after is None else f'{refused_after:.2f} s'} (bound {BOUND:.0f} s)")
        integrity = answered and written == 0 and bound_ok
        p99 = spread([r.p99_ms for r in rounds["after"]])[0]
        rate_a = spread([r.rate for r in rounds["after"]])[0]
        rate_b = spread([r.rate for r in rounds["before"]])[0]
        print(f"auth: {rate_a:,.0f} req/s vs {rate_b:,.0f} before, ratio {ratio:.2f} ({low:.2f}–{high:.2f}), "
              f"p99 {p99:.0f} ms, cpu {cpu_a[0]:.2f} vs {cpu_b[0]:.2f} ms/req, "
              f"{'integrity ok' if integrity else 'INTEGRITY FAILED'}")
        return 0 if integrity else 1


if __name__ == "__main__":
    sys.exit(main())
