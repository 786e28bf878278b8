"""The ceilings bench/signup.py and bench/door.py compare against, one WSGI app served by gunicorn
exactly like the real app (psycopg, one connection per thread, no ORM, no marshmallow):

- bare SQL: the writes alone, no auth, no rules.
    POST /bare/signup   {"event_id", "user_id"}   a seat by a guarded UPDATE of the event row, else the
                                                   waitlist; the registration row (one live per person)
    POST /bare/checkin  {"registration_id", "nonce"}  the scan row (keyed by its nonce) and the
                                                   registration's check-in time if it has none
- minimum correct: what a correct endpoint cannot skip, nothing else.
    POST /min/events/<id>/registrations   JWT (HS256, expiry) → the user, active, entrepreneur, token not
                                          revoked (one query); the event published and open for sign-up;
                                          the bare SQL write; the same answer codes (201/200/409)
    POST /min/checkins   {"event_id", "items": [{nonce, code, scanned_at, offline}]} (one item): JWT →
                         the user, active, organiser of the event's place (one query); the ticket's
                         Ed25519 signature and window; the registration of that event, registered; the
                         row locked, the check-in set if it has none, the scan row stored once by nonce
                         (a replayed nonce writes nothing and answers as before)

    gunicorn 'bench.bare_events:create()'   (DATABASE_URL, JWT_SECRET_KEY set)
"""
from __future__ import annotations

import base64
import os
import time
from datetime import datetime, timezone

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask, jsonify, request

from backend.core import codes
from bench.bare_app import _conn  # one connection per thread, as the redeem ceilings

_keys: dict = {}

LIVE = "state IN ('pending', 'registered', 'waitlisted')"


def _signup(conn, event_id: int, user_id: int) -> tuple[dict, int]:
    """The write both sign-up ceilings share (inside the caller's transaction)."""
    seat = conn.execute("UPDATE event SET seats_taken = seats_taken + 1 WHERE id = %s AND seats_taken < capacity "
                        "RETURNING seats_taken", (event_id,)).fetchone()
    state = "registered" if seat else "waitlisted"
    row = conn.execute("INSERT INTO registration (event_id, user_id, state, created_at, reason) "
                       "VALUES (%s, %s, %s, now(), '') ON CONFLICT (event_id, user_id) WHERE " + LIVE +
                       " DO NOTHING RETURNING id", (event_id, user_id, state)).fetchone()
    if row is None:
        if seat:
            conn.execute("UPDATE event SET seats_taken = seats_taken - 1 WHERE id = %s", (event_id,))
        row = conn.execute("SELECT id, state FROM registration WHERE event_id = %s AND user_id = %s AND " + LIVE,
                           (event_id, user_id)).fetchone()
        return {"id": row[0], "state": row[1]}, 200
    return {"id": row[0], "state": state}, 201


def _checkin(conn, registration_id: int, nonce: str, at: datetime, event_id: int, place_id: int,
             user_id: int | None, staff_id: int | None) -> dict:
    """The write both check-in ceilings share: lock, the earliest scan holds the check-in, the scan row once."""
    held = conn.execute("UPDATE registration SET checked_in_at = %s, checkin_nonce = %s WHERE id = %s AND "
                        "(checked_in_at IS NULL OR checked_in_at > %s) RETURNING id",
                        (at, nonce, registration_id, at)).fetchone()
    result = "ok" if held else "duplicate"
    stored = conn.execute(
        "INSERT INTO checkin_scan (nonce, channel, result, place_id, user_id, event_id, registration_id, staff_id, "
        "scanned_at, received_at, offline, conflict, code_excerpt, review_note) VALUES "
        "(%s, 'door', %s, %s, %s, %s, %s, %s, %s, now(), false, false, '', '') ON CONFLICT (nonce) DO NOTHING "
        "RETURNING id", (nonce, result, place_id, user_id, event_id, registration_id, staff_id, at)).fetchone()
    if stored is None:  # a replay: what was stored answers, nothing written
        result = conn.execute("SELECT result FROM checkin_scan WHERE nonce = %s", (nonce,)).fetchone()[0]
    return {"nonce": nonce, "result": result, "replayed": stored is None}


def _identity(conn, role: str) -> tuple[int, list] | None:
    """JWT → (user id, the place ids of the role's grants) when the user is active, holds the role and
    the token is not revoked; None otherwise."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = pyjwt.decode(header[7:], os.environ["JWT_SECRET_KEY"], algorithms=["HS256"])
    except pyjwt.PyJWTError:
        return None
    row = conn.execute(
        'SELECT u.is_active, array_agg(g.place_id) FILTER (WHERE g.role = %s), count(g.id) FILTER (WHERE g.role = %s), '
        'EXISTS (SELECT 1 FROM revoked_token WHERE jti = %s) FROM "user" u LEFT JOIN role_grant g ON g.user_id = u.id '
        'WHERE u.id = %s GROUP BY u.id', (role, role, claims["jti"], int(claims["sub"]))).fetchone()
    if row is None or not row[0] or not row[2] or row[3]:
        return None
    return int(claims["sub"]), row[1] or []


def _public_keys(conn) -> dict:
    if not _keys:
        for kid, raw in conn.execute("SELECT kid, public_key FROM signing_key WHERE status = 'active'"):
            _keys[kid] = ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return _keys


def create() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def probe():
        return "ok"

    @app.post("/bare/signup")
    def bare_signup():
        body = request.get_json()
        conn = _conn()
        with conn.transaction():
            answer, status = _signup(conn, int(body["event_id"]), int(body["user_id"]))
        return jsonify(answer), status

    @app.post("/bare/checkin")
    def bare_checkin():
        body = request.get_json()
        conn = _conn()
        with conn.transaction():
            reg = int(body["registration_id"])
            event_id, place_id, user_id = conn.execute(
                "SELECT r.event_id, e.place_id, r.user_id FROM registration r JOIN event e ON e.id = r.event_id "
                "WHERE r.id = %s FOR UPDATE OF r", (reg,)).fetchone()
            answer = _checkin(conn, reg, body["nonce"], datetime.now(timezone.utc), event_id, place_id, user_id, None)
        return jsonify(answer), 200

    @app.post("/min/events/<int:event_id>/registrations")
    def min_signup(event_id):
        conn = _conn()
        with conn.transaction():
            who = _identity(conn, "entrepreneur")
            if who is None:
                return jsonify({"code": "unauthorized"}), 401
            event = conn.execute("SELECT state, signup_opens_at, signup_closes_at, ends_at FROM event WHERE id = %s",
                                 (event_id,)).fetchone()
            now = datetime.now(timezone.utc)
            if event is None or event[0] != "published":
                return jsonify({"code": "event_not_found"}), 404
            if not event[1] <= now <= min(event[2], event[3]):
                return jsonify({"code": "signup_closed"}), 409
            answer, status = _signup(conn, event_id, who[0])
        return jsonify(answer), status

    @app.post("/min/checkins")
    def min_checkin():
        body = request.get_json()
        item = body["items"][0]
        conn = _conn()
        with conn.transaction():
            who = _identity(conn, "organiser")
            if who is None:
                return jsonify({"code": "unauthorized"}), 401
            try:
                ticket = codes.authentic(codes.from_text(item["code"]), keys=_public_keys(conn))
            except codes.CodeError as exc:
                return jsonify({"results": [{"nonce": item["nonce"], "result": "rejected", "code": exc.code}]}), 200
            now = time.time()
            if ticket.type != codes.CodeType.ticket or not (ticket.not_before or 0) <= now <= (ticket.not_after or now):
                return jsonify({"results": [{"nonce": item["nonce"], "result": "rejected"}]}), 200
            reg = ticket.fields["registration_id"]
            row = conn.execute("SELECT r.event_id, r.state, r.user_id, e.place_id, e.state FROM registration r "
                               "JOIN event e ON e.id = r.event_id WHERE r.id = %s FOR UPDATE OF r", (reg,)).fetchone()
            if (row is None or row[0] != ticket.fields["event_id"] or row[0] != body.get("event_id", row[0])
                    or row[3] not in who[1] or row[1] != "registered" or row[4] != "published"):
                return jsonify({"results": [{"nonce": item["nonce"], "result": "rejected"}]}), 200
            at = datetime.fromisoformat(item["scanned_at"]) if item.get("scanned_at") else datetime.now(timezone.utc)
            answer = _checkin(conn, reg, item["nonce"], at, row[0], row[3], row[2], who[0])
        return jsonify({"results": [answer]}), 200

    return app
