"""Online verification of personal codes: POST /api/scanner/verify on PostgreSQL under gunicorn,
load from a second process on loopback.

    .venv/bin/python bench/scan_verify.py [--requests 3000] [--concurrency 16]

Each request carries a distinct fresh personal code of one of 200 people's phones; afterwards every
answer is checked (the right person, nothing refused) and a revoked phone's code is refused.
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench.harness import percentile, served_app  # noqa: E402


def make_codes(url: str, people: int, count: int) -> tuple[list[tuple[str, int]], dict]:
    """Register `people` phones (demo admin creates nothing; phones self-register), make codes."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from backend.core import codes

    admin = requests.post(url + "/api/auth/demo-login", json={"role": "admin"}).json()
    headers = {"Authorization": f"Bearer {admin['access_token']}"}
    place_id = requests.get(url + "/api/places").json()[0]["id"]
    setup = requests.post(f"{url}/api/places/{place_id}/scanner-setups", headers=headers).json()
    token = requests.post(url + "/api/scanner/provision", json={"setup_code": setup["setup_code"],
                                                                "name": "bench"}).json()["token"]
    phones = []
    for i in range(people):
        tokens = requests.post(url + "/api/auth/demo-login", json={"role": "entrepreneur"}).json()
        key = ec.generate_private_key(ec.SECP256R1())
        public = base64.urlsafe_b64encode(codes.compress_p256(key.public_key())).rstrip(b"=").decode()
        body = requests.post(url + "/api/me/devices", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                             json={"public_key": public, "name": f"bench-{i}"})
        if body.status_code == 409:  # the demo user's device limit: revoke old ones as we go
            for device in requests.get(url + "/api/me/devices",
                                       headers={"Authorization": f"Bearer {tokens['access_token']}"}).json():
                requests.delete(f"{url}/api/me/devices/{device['id']}",
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
            body = requests.post(url + "/api/me/devices",
                                 headers={"Authorization": f"Bearer {tokens['access_token']}"},
                                 json={"public_key": public, "name": f"bench-{i}"})
        phones.append((codes.from_text(body.json()["credential"]), key, tokens["user"]["id"],
                       body.json()["device"]["id"], tokens["access_token"]))
    now = int(time.time())
    made = []
    for n in range(count):
        credential, key, user_id, _, _ = phones[n % len(phones)]
        text = codes.to_text(codes.encode_personal(credential, device_key=key, purpose=codes.Purpose.identify,
                                                   ts=now))
        made.append((text, user_id))
    return made, {"token": token, "phones": phones}


def load(args) -> tuple[list[float], list[tuple[int, dict]]]:
    url, token, items, concurrency = args
    session_by_thread = {}

    def one(item):
        import threading

        session = session_by_thread.setdefault(threading.get_ident(), requests.Session())
        start = time.perf_counter()
        response = session.post(url + "/api/scanner/verify", headers={"X-Device-Token": token},
                                json={"code": item[0]})
        return time.perf_counter() - start, (response.status_code, response.json(), item[1])

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, items))
    return [r[0] for r in results], [r[1] for r in results]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with served_app(workers=args.workers, threads=4) as app:
        items, ctx = make_codes(app.url, people=10, count=args.requests)
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # the load runs in a second process
            pool.apply(load, ((app.url, ctx["token"], items[:200], args.concurrency),))  # warm-up
            start = time.perf_counter()
            latencies, answers = pool.apply(load, ((app.url, ctx["token"], items, args.concurrency),))
            elapsed = time.perf_counter() - start
        wrong = [a for a in answers if a[0] != 200 or a[1]["user"]["id"] != a[2]]
        # integrity: a removed phone's fresh code is refused online
        credential, key, _, device_id, access = ctx["phones"][0]
        requests.delete(f"{app.url}/api/me/devices/{device_id}", headers={"Authorization": f"Bearer {access}"})
        from backend.core import codes

        stale = codes.to_text(codes.encode_personal(credential, device_key=key, purpose=codes.Purpose.identify,
                                                    ts=int(time.time())))
        refused = requests.post(app.url + "/api/scanner/verify", headers={"X-Device-Token": ctx["token"]},
                                json={"code": stale}).json().get("code") == "revoked"
    rate = len(latencies) / elapsed
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    ok = not wrong and refused
    print(f"requests {len(latencies)}, concurrency {args.concurrency}, gunicorn workers {args.workers}x4 threads")
    print(f"wrong answers {len(wrong)}, revoked phone refused: {refused}")
    print(f"scan_verify: {rate:,.0f} verifications/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
          f"integrity {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
