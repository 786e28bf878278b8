"""Kill one app server (SIGKILL, its whole process group) in the middle of a stream of redemptions and
check-in uploads sent through nginx. The clients do what the miniapp does: a request that got no
answer, a 5xx or a dropped connection is sent again with the same idempotency key (redemptions)
or the same nonces (check-in batches), until it gets a definite answer (as the miniapp's outbox: no
answer, 408, 429 or any 5xx is sent again).

Afterwards: every redemption has exactly one row and one receipt (nothing lost, nothing doubled), every
scanned item exactly one visit and one scan, the ledger invariants hold (``flask vouchers check``), and
the requests after the kill were served by the other server."""
from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import sqlalchemy as sa

from tests.prod.conftest import nginx_log

REDEMPTIONS = 720   # enough that the stream outlasts the kill by seconds on a fast machine
BATCHES = 24          # check-in uploads of ...
BATCH_ITEMS = 10      # ... this many scans each
KILL_AFTER = 80       # answered requests before server 1 is killed
DEADLINE = 90         # seconds for the whole stream
RETRY_STATUSES = {0, 408, 429}  # and every 5xx: the miniapp's outbox keeps those and sends them again


def prepare(stack_app) -> dict:
    from flask_jwt_extended import create_access_token

    from backend.core import codes
    from backend.extensions import db
    from backend.vouchers import claims
    from bench.harness import scan_tokens
    from tests.factories import make_batch, make_device, make_entrepreneur, make_place, make_scanner, make_staff

    with stack_app():
        staff, provider = make_staff()
        batch = make_batch(face_value=1_000_000, total_count=60, co_pay_ratio_bp=10000, min_bill=0,
                           categories=["rent"])
        vouchers = []
        for _ in range(60):
            person = make_entrepreneur()
            vouchers.append(claims.claim(user=person, batch_id=batch.id)[0])
        db.session.commit()
        targets = [(v.id, v.holder_id) for v in vouchers]
        chosen = [targets[i % len(targets)] for i in range(REDEMPTIONS)]
        tokens = scan_tokens(staff_id=staff.id, provider_id=provider.id, targets=chosen)
        auth = {"Authorization": f"Bearer {create_access_token(identity=str(staff.id))}"}
        redemptions = [("POST", "/api/provider/redemptions",
                        {"scan_token": token, "voucher_id": voucher_id, "bill_amount": 100, "category": "rent",
                         "idempotency_key": uuid.uuid4().hex}, auth)
                       for (voucher_id, _), token in zip(chosen, tokens)]

        place = make_place(name="创贷之家·故障演练驿站")
        _, scanner_token = make_scanner(place)
        db.session.commit()
        now = datetime.now(timezone.utc)
        uploads = []
        for b in range(BATCHES):
            items = []
            for i in range(BATCH_ITEMS):
                phone = make_device(make_entrepreneur())
                scanned = now - timedelta(seconds=60) + timedelta(milliseconds=(b * BATCH_ITEMS + i) * 20)
                code = codes.to_text(codes.encode_personal(codes.from_text(phone.credential), device_key=phone.key,
                                                           purpose=codes.Purpose.identify,
                                                           ts=int(scanned.timestamp()) - 3))
                items.append({"nonce": secrets.token_urlsafe(16), "code": code, "purpose": "loan",
                              "scanned_at": scanned.isoformat(), "offline": True})
            uploads.append(("POST", "/api/checkins/sync", {"items": items, "sent_at": now.isoformat()},
                            {"X-Device-Token": scanner_token}))
        db.session.commit()
        return {"redemptions": redemptions, "uploads": uploads, "batch_id": batch.id, "place_id": place.id,
                "vouchers": [v.id for v in vouchers]}


class RetryingClient:
    """One keep-alive connection per thread; a call is re-sent unchanged until a definite answer."""

    def __init__(self, base_url: str, signal_after: int):
        parts = urlsplit(base_url)
        self.signal_after, self.reached = signal_after, threading.Event()
        self.host, self.port = parts.hostname, parts.port
        self.local = threading.local()
        self.answered = 0
        self.lock = threading.Lock()
        self.retries = 0

    def _conn(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        return self.local.conn

    def send(self, call, deadline: float) -> tuple[int, dict, int]:
        method, path, body, headers = call
        payload = json.dumps(body).encode()
        attempts = 0
        while True:
            attempts += 1
            try:
                conn = self._conn()
                conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                raw = response.read()
                status = response.status
            except (http.client.HTTPException, OSError):
                self.local.conn.close()
                self.local.conn = None
                status, raw = 0, b"{}"
            if (status not in RETRY_STATUSES and status < 500) or time.monotonic() > deadline:
                with self.lock:
                    self.answered += 1
                    self.retries += attempts - 1
                    if self.answered >= self.signal_after:
                        self.reached.set()
                try:
                    return status, json.loads(raw or b"{}"), attempts
                except ValueError:
                    return status, {"raw": raw[:200].decode(errors="replace")}, attempts


def test_killing_one_app_server_loses_and_doubles_nothing(stack, stack_app):
    from backend.checkins.models import Scan, Visit
    from backend.extensions import db
    from backend.vouchers.models import Redemption, Voucher

    world = prepare(stack_app)
    calls = []  # interleave redemptions and uploads, as a busy morning would
    uploads = iter(world["uploads"])
    for n, call in enumerate(world["redemptions"]):
        calls.append(call)
        if n % (REDEMPTIONS // BATCHES) == 0:
            calls.append(next(uploads, None) or call)
    calls = [c for c in calls if c is not None]
    calls += list(uploads)
    client = RetryingClient(stack.url, signal_after=KILL_AFTER)
    deadline = time.monotonic() + DEADLINE
    victim, survivor = stack.ports
    started_at = time.time()
    killed_at: list[float] = []

    def killer():
        # once the stream is well under way, the machine of server 1 dies
        client.reached.wait(timeout=DEADLINE)
        killed_at.append(time.time())
        stack.servers[0].kill()

    kill = threading.Thread(target=killer)
    kill.start()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda call: client.send(call, deadline), calls))
    kill.join(timeout=10)
    assert not stack.servers[0].alive() and stack.servers[1].alive()

    redeemed = [(call, answer) for call, answer in zip(calls, answers) if call[1].endswith("redemptions")]
    # one definite receipt per payment: 201 the first time, 200 "replayed" when the first try's answer was lost
    unique_calls = {call[2]["idempotency_key"]: answer for call, answer in redeemed}
    statuses = {status for status, _, _ in unique_calls.values()}
    assert statuses <= {200, 201}, [a for a in unique_calls.values() if a[0] not in (200, 201)][:3]
    receipts = {body["id"] for status, body, _ in unique_calls.values()}
    assert len(receipts) == len(unique_calls) == REDEMPTIONS
    synced = [answer for call, answer in zip(calls, answers) if call[1].endswith("sync")]
    assert {status for status, _, _ in synced} == {200}, [a for a in synced if a[0] != 200][:2]
    for status, body, _ in synced:
        assert {r["result"] for r in body["results"]} <= {"ok", "duplicate"}, body["results"][:3]

    with stack_app():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(Redemption))
        assert rows == REDEMPTIONS  # nothing lost, nothing doubled
        assert set(db.session.scalars(sa.select(Redemption.id))) == receipts
        spent = db.session.scalar(sa.select(sa.func.sum(Voucher.face_value - Voucher.balance))
                                  .where(Voucher.id.in_(world["vouchers"])))
        assert spent == REDEMPTIONS * 100
        visits = db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.place_id == world["place_id"]))
        scans = db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(Scan.place_id == world["place_id"]))
        assert visits == scans == BATCHES * BATCH_ITEMS
    check = stack.flask("vouchers", "check", check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    # who served what: the nginx access log names the upstream of every request
    # (t= is when nginx wrote the line: an answer server 1 gave just before it died may be logged a moment
    # after the kill, so "after" starts a second later)
    lines = [(float(line.split()[0][2:]), line) for line in nginx_log(stack) if " /api/" in line]
    before = [line for t, line in lines if started_at <= t < killed_at[0]]
    after = [line for t, line in lines if t > killed_at[0] + 1]
    def answered_by(line: str) -> str:  # the last upstream nginx tried ("a:1, b:2" when it moved on)
        return line.split(" upstream=")[1].split(", ")[-1].strip()

    assert {answered_by(line) for line in before} == {f"127.0.0.1:{victim}", f"127.0.0.1:{survivor}"}, \
        "both servers took load before the kill"
    ok_after = [line for line in after if " status=20" in line]
    assert len(ok_after) >= 20, "the stream went on after the kill"
    assert {answered_by(line) for line in ok_after} == {f"127.0.0.1:{survivor}"}, \
        "every answer after the kill came from the surviving server"
    assert client.retries >= 1, "the kill happened while requests were in flight or queued on server 1"

    # the supervisor's restart brings it back into the rotation
    stack.start_server(0)
    stack.wait_server(0)
