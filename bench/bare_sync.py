"""The two ceilings bench/sync.py compares the scanner upload (POST /api/checkins/sync) against, served
by gunicorn exactly like the app (same workers × threads), on the same database, with the same request
body (a batch of items ``{nonce, code, purpose, scanned_at, offline}``):

- ``POST /bare/sync``: bare SQL. Each code is only parsed for the person it names (no signature
  checked, no device token: the place and the scanner's id come in headers, no rules), and one statement inserts the batch's visits (one per person,
  place and day, ON CONFLICT DO NOTHING) and its scan rows (ON CONFLICT (nonce) DO NOTHING), the same
  rows the app writes.
- ``POST /min/sync``: the minimum correct upload. The scanner's token looked up (its place), every
  signature verified (the phone's ECDSA signature of each code, and its server-signed credential, with
  ``backend.core.codes`` as the app does, so with its per-process cache of verified credentials), the
  phones and people of the batch read once (a revoked phone or a blocked person is not counted: a
  ceiling that counted them would not be correct), then the same one-statement idempotent insert:
  rejected items are stored too (the failed-scan log), a batch sent again writes nothing.

Neither has Flask-SQLAlchemy, the ORM, marshmallow, rate limits, metrics or the engine's rules (clock
correction, earliest scan wins, duplicates and conflicts, forced scans).

    gunicorn 'bench.bare_sync:create()'   (DATABASE_URL set)
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from datetime import datetime, timezone

import psycopg
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask, jsonify, request

from backend.core import codes

WINDOW = int(os.environ.get("PERSONAL_CODE_WINDOW", "30"))
SKEW = int(os.environ.get("PERSONAL_CODE_SKEW", "20"))
_local = threading.local()
_keys: dict[int, ed25519.Ed25519PublicKey] = {}

# one statement: the visits (the earliest item of a person and day holds it), then every item's scan
# row, linked to the visit it made; the batch travels as one JSON text, as the app's engine sends it
INSERT = """
WITH items AS (
    SELECT r.*, (r.scanned_at AT TIME ZONE 'Asia/Shanghai')::date AS day
    FROM json_to_recordset(%(items)s::json) AS r(nonce text, user_id int, purpose text, scanned_at timestamptz,
                                                offline boolean, result text, reason text, code_excerpt text)
), visits AS (
    INSERT INTO visit (place_id, user_id, day, purpose, source, visited_at, received_at, device_id, offline,
                       scan_nonce)
    SELECT DISTINCT ON (user_id, day) %(place)s, user_id, day, purpose, 'staff_scan', scanned_at, now(),
           %(device)s, offline, nonce
    FROM items WHERE result = 'ok' ORDER BY user_id, day, scanned_at
    ON CONFLICT (place_id, user_id, day) DO NOTHING
    RETURNING id, scan_nonce
)
INSERT INTO checkin_scan (nonce, channel, result, reason, place_id, user_id, visit_id, device_id, purpose,
                          scanned_at, received_at, offline, conflict, code_excerpt, review_note)
SELECT i.nonce, 'place', CASE WHEN i.result = 'ok' AND v.id IS NULL THEN 'duplicate' ELSE i.result END,
       i.reason, %(place)s, i.user_id, v.id, %(device)s, i.purpose, i.scanned_at, now(), i.offline, false,
       i.code_excerpt, ''
FROM items i LEFT JOIN visits v ON v.scan_nonce = i.nonce
ON CONFLICT (nonce) DO NOTHING
RETURNING nonce, result
"""


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.conn = psycopg.connect(url, autocommit=True)  # a transaction only round the insert
    return conn


def _user_of(text: str) -> int:
    """The person a personal code names, read without checking anything (the bare ceiling)."""
    data = codes.from_text(text)
    pos = codes.get_uvarint(data, 3)[1]
    length, pos = codes.get_uvarint(data, pos)
    return codes.parse_signed(data[pos:pos + length]).fields["user_id"]


def _public_keys(conn, kid: int | None = None) -> dict:
    if not _keys or (kid is not None and kid not in _keys):
        rows = conn.execute("SELECT kid, public_key FROM signing_key WHERE status = 'active'").fetchall()
        _keys.clear()
        _keys.update({k: ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
                      for k, p in rows})
    return _keys


def _store(conn, items: list[dict], place_id: int, device_id: int | None) -> list:
    with conn.transaction():
        return conn.execute(INSERT, {"items": json.dumps(items), "place": place_id, "device": device_id}).fetchall()


def create() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def ready():
        return "ok"

    @app.post("/bare/sync")
    def bare():
        body = request.get_json()
        place_id, device_id = int(request.headers["X-Place-Id"]), int(request.headers["X-Device-Id"])
        items = [{"nonce": i["nonce"], "user_id": _user_of(i["code"]), "purpose": i["purpose"],
                  "scanned_at": i["scanned_at"], "offline": bool(i.get("offline")), "result": "ok", "reason": None,
                  "code_excerpt": ""} for i in body["items"]]
        stored = _store(_conn(), items, place_id, device_id)
        return jsonify({"stored": len(stored)})

    @app.post("/min/sync")
    def minimum():
        conn = _conn()
        token = request.headers.get("X-Device-Token", "")
        device = conn.execute("SELECT id, place_id FROM scanner_device WHERE token_hash = %s AND revoked_at IS NULL",
                              (hashlib.sha256(token.encode()).hexdigest(),)).fetchone()
        if device is None:
            return jsonify({"code": "device_unauthorized"}), 401
        body = request.get_json()
        keys = _public_keys(conn)
        items, phones = [], {}
        for raw in body["items"]:
            scanned = datetime.fromisoformat(raw["scanned_at"]) if raw.get("scanned_at") else datetime.now(timezone.utc)
            item = {"nonce": raw["nonce"], "user_id": None, "purpose": raw["purpose"], "scanned_at": scanned.isoformat(),
                    "offline": bool(raw.get("offline")), "result": "ok", "reason": None, "code_excerpt": ""}
            try:
                personal = codes.verify_personal(codes.from_text(raw["code"]), keys=keys, now=scanned.timestamp(),
                                                 window=WINDOW, skew=SKEW)
                item["user_id"] = personal.user_id
                phones[raw["nonce"]] = (personal.device_id, personal.user_id)
            except codes.CodeError as exc:
                item.update(result="rejected", reason=exc.code, code_excerpt=raw["code"][:48])
            items.append(item)
        if phones:
            good = {(row[0], row[1]) for row in conn.execute(
                "SELECT d.id, d.user_id FROM personal_device d JOIN \"user\" u ON u.id = d.user_id "
                "WHERE d.id = ANY(%s) AND d.revoked_at IS NULL AND u.is_active",
                ([device_id for device_id, _ in phones.values()],))}
            for item in items:
                phone = phones.get(item["nonce"])
                if phone is not None and phone not in good:
                    item.update(result="rejected", reason="revoked", user_id=None)
        stored = dict(_store(conn, items, device[1], device[0]))
        return jsonify({"results": [{"nonce": i["nonce"], "result": stored.get(i["nonce"], "replayed")} for i in items],
                        "server_time": time.time()})

    return app
