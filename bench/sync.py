"""Scanner upload ingest (issue 16): offline scans handed in through POST /api/checkins/sync, measured as
a peer would, on bench/wrk.py: the app as production runs it (gunicorn 2 workers × 4 threads, PostgreSQL,
rate limits in Redis), wrk with 16 connections, every request one batch of ``--batch`` scans from a place's
scanner device, each scan a real personal code (the phone's ECDSA signature over a server-signed
credential) the server verifies. scans/s = items/s.

    python bench/sync.py [--people 1500] [--batch 500] [--seconds 10] [--rounds 3]

Compared in the same run, interleaved: the two ceilings of bench/bare_sync.py on the same database under
the same gunicorn shape — bare SQL (the same rows inserted, nothing verified) and minimum correct (the
device token, every signature verified, revoked phones and blocked people left out, the idempotent
inserts). Each variant has its own places, and every (person, place, day) is met once, so every scan of
the measured runs makes a visit.

Afterwards, against the database: every batch a run delivered is stored whole (one scan row per item,
one visit per scan, the visit naming its scan) and nothing else was written; a mix sent twice — a
duplicate, another device's offline scan of the same person (a conflict), a forged phone signature and a
forged credential of people whose credentials are cached, a revoked phone, a blocked person, an
unreadable code — answers as the engine's rules say and its replay writes nothing; then every delivered
batch is sent again through wrk (the retry after a lost answer) and the row counts must not move.
The last line is the summary.

Credentials are signed with a 400-day window (the app's own key, as ``devices.issue_credential`` signs
them, longer than CREDENTIAL_DAYS) so that scans can be spread over past days."""
from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PG_ADMIN_URL  # noqa: E402
from bench.wrk import Bench, Target, _listening_group, line, ratios, row, spread  # noqa: E402

PATH = "/api/checkins/sync"


def client_backends(database: str) -> list[int]:
    """The database's PostgreSQL backends serving clients. bench.wrk.pg_backends also counts the
    autovacuum workers of the database, whose CPU lands on whichever variant runs when they wake (an
    app round measured 63 to 296 ms of PostgreSQL CPU a batch for that reason alone); here they are
    left out, for every variant alike."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                               "AND backend_type = 'client backend'", (database,))]


def pids_of(bench: Bench, url: str | None = None):
    """CPU groups of the app (url None) or of the ceiling at ``url``, with client backends only."""
    if url is None:
        return lambda: {"app": bench._stack.servers[0].pids(), "postgres": client_backends(bench.database)}
    port = int(url.rsplit(":", 1)[1])
    return lambda: {"app": _listening_group(port), "postgres": client_backends(bench.database)}


def prepare(bench: Bench, people: int, places: int) -> dict:
    """Places and scanners for each variant, people with phones, and long-window credentials."""
    from backend.core import codes, signing
    from backend.core.keys import keyring
    from backend.devices import service as devices
    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_place, make_scanner, p256_key

    started = time.perf_counter()
    with bench.app_context():
        keyring().rotate()  # production waits for `flask keys rotate`
        db.session.commit()
        world = {"places": {}, "phones": []}
        for variant in ("app", "min", "bare", "mix"):
            world["places"][variant] = []
            for n in range(places if variant != "mix" else 1):
                place = make_place(name=f"创贷之家·压测{variant}{n + 1}")
                scanner, token = make_scanner(place)
                second = make_scanner(place, name="第二台扫码枪")[1] if variant == "mix" else None
                world["places"][variant].append({"id": place.id, "device": scanner.id, "token": token,
                                                 "second": second})
        db.session.commit()
        now = int(time.time())
        for n in range(people):
            user = make_entrepreneur()
            key = p256_key()
            device, _ = devices.register_personal(user=user, public_key=codes.compress_p256(key.public_key()),
                                                  name="压测手机")
            credential = signing.sign(codes.CodeType.credential, {"user_id": user.id, "device_id": device.id,
                                                                  "device_key": device.public_key},
                                      not_before=now - 400 * 86400, not_after=now + 30 * 86400)
            world["phones"].append({"user_id": user.id, "device_id": device.id, "key": key, "credential": credential})
            if n % 250 == 249:
                db.session.commit()
        db.session.commit()
    print(f"prepared {people} people with phones, {places} places with a scanner per variant in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return world


def code(phone: dict, at: datetime) -> str:
    from backend.core import codes

    return codes.to_text(codes.encode_personal(phone["credential"], device_key=phone["key"],
                                               purpose=codes.Purpose.identify, ts=int(at.timestamp()) - 3))


def batches(world: dict, variant: str, count: int, batch: int, first_day: int, base: datetime,
            sign: bool = True, reuse: dict | None = None) -> tuple[list[str], int]:
    """``count`` request lines for ``variant``: each a batch of ``batch`` people at one of its places on
    one day (days counted back from ``base``, starting at ``first_day``), so no (person, place, day) repeats.
    ``sign``: a fresh personal code per scan; otherwise codes are taken from ``reuse`` (the bare ceiling
    reads only whose code it is)."""
    phones, places = world["phones"], world["places"][variant]
    per_day = len(phones) // batch  # whole batches of distinct people per place and day
    lines, day = [], first_day
    while len(lines) < count:
        for place in places:
            for part in range(per_day):
                at = base - timedelta(days=day)
                items = []
                for k, phone in enumerate(phones[part * batch:(part + 1) * batch]):
                    scanned = at + timedelta(milliseconds=k * 40)
                    text = code(phone, scanned) if sign else reuse[phone["user_id"]]
                    items.append({"nonce": secrets.token_urlsafe(16), "code": text, "purpose": "loan",
                                  "scanned_at": scanned.isoformat(), "offline": True})
                headers = [f"X-Device-Token: {place['token']}"] if variant != "bare" else \
                    [f"X-Place-Id: {place['id']}", f"X-Device-Id: {place['device']}"]
                path = {"app": PATH, "min": "/min/sync", "bare": "/bare/sync"}[variant]
                # no sent_at: a prepared line is sent minutes after it was made, and the engine would move
                # every scan by that much (the device's clock error), out of its code's window
                lines.append(line("POST", path, {"items": items}, *headers))
                if len(lines) == count:
                    return lines, day + 1
        day += 1
    return lines, day


def codes_by_user(lines: list[str], people: int, batch: int) -> dict:
    """{user_id: a code of theirs} from the app's first lines, for the bare ceiling's lines."""
    from bench.bare_sync import _user_of

    found = {}
    for text in lines[:people // batch]:
        found.update({_user_of(item["code"]): item["code"] for item in json.loads(text.split("\t")[2])["items"]})
    return found


def delivered(bench: Bench, target: Target, world: dict, variant: str) -> tuple[list[str], list[str]]:
    """The target's lines a run delivered (their first nonce is stored; a batch is one transaction), and
    the problems found: a delivered batch not stored whole, rows not made by a delivered batch."""
    import sqlalchemy as sa

    from backend.checkins.models import Scan, Visit
    from backend.extensions import db

    sent = target.lines[:target.cursor]
    place_ids = [p["id"] for p in world["places"][variant]]
    problems = []
    with bench.app_context():
        stored = set(db.session.scalars(sa.select(Scan.nonce).where(Scan.place_id.in_(place_ids))))
        results = dict(db.session.execute(sa.select(Scan.result, sa.func.count()).where(
            Scan.place_id.in_(place_ids)).group_by(Scan.result)).all())
        visits = db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.place_id.in_(place_ids)))
        held = db.session.scalar(sa.select(sa.func.count()).select_from(Visit).join(
            Scan, Scan.nonce == Visit.scan_nonce).where(Visit.place_id.in_(place_ids), Scan.visit_id == Visit.id))
    out, items = [], 0
    for text in sent:
        nonces = [item["nonce"] for item in json.loads(text.split("\t")[2])["items"]]
        found = sum(1 for nonce in nonces if nonce in stored)
        if found == len(nonces):
            out.append(text)
            items += found
        elif found:
            problems.append(f"{variant}: a batch stored in part ({found} of {len(nonces)})")
    if len(stored) != items:
        problems.append(f"{variant}: {len(stored)} scans stored, {items} in the delivered batches")
    if {str(getattr(k, "value", k)) for k in results} - {"ok"}:
        problems.append(f"{variant}: scan results {results} (every scan should have made its visit)")
    if visits != items or held != items:
        problems.append(f"{variant}: {visits} visits ({held} naming their scan) for {items} scans")
    return out, problems


def counts(bench: Bench) -> tuple[int, int, int]:
    import sqlalchemy as sa

    from backend.checkins.models import Scan, Visit, VisitNote
    from backend.extensions import db

    with bench.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Visit, Scan, VisitNote))


def mix(bench: Bench, world: dict) -> list[str]:
    """Duplicates, a cross-device conflict, forged signatures, a revoked phone, a blocked person and an
    unreadable code, at the mix place, sent twice; the answers and the database checked."""
    import requests
    import sqlalchemy as sa

    from backend.accounts.models import User
    from backend.checkins.models import Scan, Visit
    from backend.core import codes
    from backend.devices import service as devices
    from backend.devices.models import PersonalDevice
    from backend.extensions import db

    phones = world["phones"]
    fresh, forged_phone, forged_credential, revoked, blocked = phones[0], phones[1], phones[2], phones[3], phones[4]
    with bench.app_context():
        device = db.session.get(PersonalDevice, revoked["device_id"])
        devices.revoke_personal(user=db.session.get(User, revoked["user_id"]), id=device.id)
        user = db.session.get(User, blocked["user_id"])
        user.is_active = False
        devices.block_user(user=user, blocked=True)
        db.session.commit()
    place = world["places"]["mix"][0]
    now = datetime.now(timezone.utc)
    at = (now - timedelta(minutes=5)).isoformat()

    def item(text, offline=True):
        return {"nonce": secrets.token_urlsafe(16), "code": text, "purpose": "loan", "scanned_at": at,
                "offline": offline}

    good = code(fresh, now - timedelta(minutes=5))
    tampered = bytearray(codes.from_text(code(forged_phone, now - timedelta(minutes=5))))
    tampered[-1] ^= 1  # the phone's signature
    bad_credential = bytearray(codes.from_text(code(forged_credential, now - timedelta(minutes=5))))
    body_end = len(bad_credential) - codes.SIG_LEN
    bad_credential[body_end - 1] ^= 1  # the server's signature of the credential (inside the signed body)
    first = [item(good), item(good, offline=False), item(codes.to_text(bytes(tampered))),
             item(codes.to_text(bytes(bad_credential))), item(code(revoked, now - timedelta(minutes=5))),
             item(code(revoked, now - timedelta(minutes=5)), offline=False),
             item(code(blocked, now - timedelta(minutes=5))), item("CY:NOT-A-CODE-AT-ALL")]
    second = [item(good)]  # the same person, the same day, another scanner, offline: a conflict
    expected = [("ok", None, False), ("duplicate", None, False), ("rejected", "bad_signature", False),
                ("rejected", "bad_signature", False), ("forced", "revoked", False), ("rejected", "revoked", False),
                ("forced", "user_blocked", False), ("rejected", "malformed", False)]
    problems = []

    def send(token, items):
        answer = requests.post(bench.url + PATH, json={"items": items, "sent_at": now.isoformat()},
                               headers={"X-Device-Token": token}, timeout=30)
        if answer.status_code != 200:
            problems.append(f"mix: answered {answer.status_code} {answer.text[:200]}")
            return []
        return answer.json()["results"]

    before = counts(bench)
    got = send(place["token"], first) + send(place["second"], second)
    seen = [(a["result"], a["code"], a["conflict"]) for a in got]
    if seen[:len(expected)] != expected or got[-1]["result"] != "duplicate" or not got[-1]["conflict"]:
        problems.append(f"mix: answers {seen}")
    written = tuple(b - a for a, b in zip(before, counts(bench)))
    if written[:2] != (3, len(first) + len(second)):  # visits: the fresh person's; the revoked phone's and the
        # blocked person's, let in offline (forced, counted with their reason)
        problems.append(f"mix: wrote {written} (visits, scans, notes)")
    with bench.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.place_id == place["id"], Visit.user_id == fresh["user_id"]))
        if visit is None or visit.scan_nonce != first[0]["nonce"]:
            problems.append("mix: the visit does not name the first scan")
    before = counts(bench)
    again = send(place["token"], first) + send(place["second"], second)
    if [(a["result"], a["code"], a["conflict"]) for a in again] != seen or not all(a["replayed"] for a in again):
        problems.append(f"mix: the replay answered {[(a['result'], a['code'], a['replayed']) for a in again]}")
    if counts(bench) != before:
        problems.append(f"mix: the replay wrote {tuple(b - a for a, b in zip(before, counts(bench)))}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--places", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app-batches", type=int, default=480, help="lines prepared for the app")
    parser.add_argument("--min-batches", type=int, default=1200, help="lines prepared for the minimum correct ceiling")
    parser.add_argument("--bare-batches", type=int, default=3000)
    args = parser.parse_args()
    if args.people < args.batch:
        raise SystemExit("--people must be at least --batch")
    problems = []
    with Bench("sync", seconds=args.seconds, warmup=args.warmup, rounds=args.rounds) as bench:
        world = prepare(bench, args.people, args.places)
        started = time.perf_counter()
        base = datetime.now(timezone.utc).replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=1)
        app_lines, day = batches(world, "app", args.app_batches, args.batch, 0, base)
        min_lines, day = batches(world, "min", args.min_batches, args.batch, day, base)
        bare_lines, _ = batches(world, "bare", args.bare_batches, args.batch, day, base, sign=False,
                                reuse=codes_by_user(app_lines, args.people, args.batch))
        print(f"prepared {len(app_lines) + len(min_lines)} batches of {args.batch} signed scans and "
              f"{len(bare_lines)} bare batches in {time.perf_counter() - started:.0f} s", flush=True)
        ceiling = bench.ceiling("bench.bare_sync:create()")
        targets = {"app": Target(bench.url, app_lines, pids_of(bench)),
                   "min": Target(ceiling.url, min_lines, pids_of(bench, ceiling.url)),
                   "bare": Target(ceiling.url, bare_lines, pids_of(bench, ceiling.url))}
        rounds = bench.interleave(targets)
        for name, runs in rounds.items():
            for r in runs:
                if r.wrapped or r.other or r.conflict:
                    problems.append(f"{name}: wraps={r.wrapped} 409={r.conflict} other={r.other}")
        # a socket error is wrk giving up on a batch after 10 s (the server still stores it: the
        # delivered-batches check below counts it); printed, not an integrity problem
        timeouts = sum(r.socket_errors for r in rounds["app"])
        sent = {}
        for name, target in targets.items():
            sent[name], found = delivered(bench, target, world, name)
            problems += found
        problems += mix(bench, world)
        before = counts(bench)
        replay = Target(bench.url, sent["app"], pids_of(bench))
        replay_run = bench.run(replay, args.seconds)
        print(row("app replay", replay_run), flush=True)
        wrote = sum(b - a for a, b in zip(before, counts(bench)))
        if wrote or replay_run.other or replay_run.socket_errors:
            problems.append(f"replay: wrote {wrote} rows, other={replay_run.other} errors={replay_run.socket_errors}")

    def rate(runs):
        return spread([r.rate * args.batch for r in runs])

    app, low, high = rate(rounds["app"])
    for name in ("min", "bare"):
        value, lo, hi = rate(rounds[name])
        print(f"{name}: median {value:,.0f} scans/s ({lo:,.0f}–{hi:,.0f}), p99 "
              f"{statistics.median(r.p99_ms for r in rounds[name]):.0f} ms/batch, server cpu "
              f"{statistics.median(r.cpu_ms() for r in rounds[name]) / args.batch:.3f} ms/scan")
    cpu = statistics.median(r.cpu_ms() for r in rounds["app"]) / args.batch
    parts = {group: statistics.median(r.cpu_ms(group) for r in rounds["app"]) / args.batch
             for group in ("app", "postgres")}
    p99 = statistics.median(r.p99_ms for r in rounds["app"])
    to_bare, to_min = ratios(rounds["app"], rounds["bare"]), ratios(rounds["app"], rounds["min"])
    print(f"app: median {app:,.0f} scans/s ({low:,.0f}–{high:,.0f}), p99 {p99:.0f} ms/batch of {args.batch}, "
          f"server cpu {cpu:.3f} ms/scan (gunicorn {parts['app']:.3f}, postgres {parts['postgres']:.3f}); "
          f"ratio to bare SQL {to_bare[0]:.2f} ({to_bare[1]:.2f}–{to_bare[2]:.2f}), to minimum correct "
          f"{to_min[0]:.2f} ({to_min[1]:.2f}–{to_min[2]:.2f}); replay {replay_run.rate * args.batch:,.0f} scans/s; "
          f"{timeouts} batches timed out at wrk (10 s)")
    for text in problems:
        print("PROBLEM", text)
    print(f"sync: {app:,.0f} scans/s, ratio {to_bare[0]:.2f} to bare SQL, {to_min[0]:.2f} to minimum correct, "
          f"cpu {cpu:.2f} ms/scan, p99 {p99:.0f} ms/batch, every signature verified, replay wrote {wrote}, "
          f"integrity {'ok' if not problems else 'FAILED'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
