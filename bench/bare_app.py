"""The ceilings the redeem and claim benchmarks compare against, served by gunicorn exactly like the
real app (same workers × threads, same database):

- bare SQL (/bare/redeem, /bare/claim): the rows a redemption or a claim must change, nothing else
  (no auth, no idempotency, no rules, no ORM);
- minimum correct (/min/redeem, /min/claim): what a correct endpoint cannot skip — verify the JWT
  (PyJWT, HS256, JWT_SECRET_KEY from the environment), read the identity (account active, not revoked,
  the role) in one query, then the idempotent write with its ledger entry, nothing else (no schema,
  no ORM, no business rules beyond the balance / the cap / one per person).

    gunicorn 'bench.bare_app:create()'   (DATABASE_URL and JWT_SECRET_KEY set)
"""
from __future__ import annotations

import os
import threading

import jwt
import psycopg
from flask import Flask, jsonify, request

_local = threading.local()

# active account, not revoked, holding the role (and, for provider staff, their provider): one round trip
IDENTITY = ('SELECT u.is_active, NOT EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = %(jti)s), '
            'm.provider_id FROM "user" u JOIN role_grant g ON g.user_id = u.id AND g.role = %(role)s '
            'LEFT JOIN provider_member m ON m.user_id = u.id WHERE u.id = %(id)s LIMIT 1')


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.conn = psycopg.connect(url)
    return conn


def _identity(conn: psycopg.Connection, role: str):
    """(user id, provider id) of the bearer, or an error answer."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None, (jsonify({"code": "unauthorized"}), 401)
    try:
        claims = jwt.decode(header[7:], os.environ["JWT_SECRET_KEY"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return None, (jsonify({"code": "token_invalid"}), 401)
    user_id = int(claims["sub"])
    row = conn.execute(IDENTITY, {"jti": claims["jti"], "role": role, "id": user_id}).fetchone()
    if row is None:
        return None, (jsonify({"code": "forbidden"}), 403)
    if not (row[0] and row[1]):
        return None, (jsonify({"code": "account_disabled"}), 401)
    return (user_id, row[2]), None


def create() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def probe():
        return "ok"

    @app.post("/bare/redeem")
    def bare_redeem():
        """Lock the voucher row, update its balance, insert a ledger row."""
        body = request.get_json()
        voucher_id, amount = int(body["voucher_id"]), int(body["amount"])
        conn = _conn()
        with conn.transaction():
            row = conn.execute("SELECT balance FROM voucher WHERE id = %s FOR UPDATE", (voucher_id,)).fetchone()
            if row is None or row[0] < amount:
                return jsonify({"code": "insufficient_balance"}), 422
            balance = row[0] - amount
            conn.execute("UPDATE voucher SET balance = %s WHERE id = %s", (balance, voucher_id))
            conn.execute("INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
                         "VALUES (%s, 'redeem', %s, %s, now())", (voucher_id, -amount, balance))
        return jsonify({"voucher_id": voucher_id, "balance": balance}), 201

    @app.post("/bare/claim")
    def bare_claim():
        """Take one from the batch counter, insert the voucher and its entry."""
        body = request.get_json()
        batch_id, holder_id = int(body["batch_id"]), int(body["holder_id"])
        conn = _conn()
        with conn.transaction():
            row = conn.execute("UPDATE voucher_batch SET issued_count = issued_count + 1, "
                               "issued_amount = issued_amount + face_value WHERE id = %s AND issued_count < total_count "
                               "RETURNING face_value", (batch_id,)).fetchone()
            if row is None:
                return jsonify({"code": "sold_out"}), 409
            face = row[0]
            voucher_id = conn.execute(
                "INSERT INTO voucher (batch_id, holder_id, face_value, balance, claimed_at, valid_from, valid_until) "
                "VALUES (%s, %s, %s, %s, now(), now(), now() + interval '90 days') RETURNING id",
                (batch_id, holder_id, face, face)).fetchone()[0]
            conn.execute("INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
                         "VALUES (%s, 'issue', %s, %s, now())", (voucher_id, face, face))
        return jsonify({"id": voucher_id}), 201

    @app.post("/min/redeem")
    def min_redeem():
        """The JWT, the identity, then: the redemption keyed by (staff, idempotency key) ON CONFLICT DO
        NOTHING (a replay writes nothing and answers 200), the guarded balance update, the ledger row."""
        body = request.get_json()
        voucher_id, holder_id, amount = int(body["voucher_id"]), int(body["holder_id"]), int(body["amount"])
        key = str(body["idempotency_key"])
        conn = _conn()
        with conn.transaction():
            who, refusal = _identity(conn, "provider_staff")
            if refusal:
                return refusal
            staff_id, provider_id = who
            row = conn.execute(
                "INSERT INTO redemption (voucher_id, provider_id, staff_id, holder_id, category, bill_amount, amount, "
                "idempotency_key, request_hash, created_at, reverse_reason) "
                "VALUES (%s, %s, %s, %s, 'rent', %s, %s, %s, '', now(), '') "
                "ON CONFLICT DO NOTHING RETURNING id",
                (voucher_id, provider_id, staff_id, holder_id, amount, amount, key)).fetchone()
            if row is None:
                earlier = conn.execute("SELECT id FROM redemption WHERE staff_id = %s AND idempotency_key = %s",
                                       (staff_id, key)).fetchone()
                return jsonify({"id": earlier and earlier[0], "replayed": True}), 200
            balance = conn.execute("UPDATE voucher SET balance = balance - %s WHERE id = %s AND holder_id = %s "
                                   "AND balance >= %s RETURNING balance",
                                   (amount, voucher_id, holder_id, amount)).fetchone()
            if balance is None:
                raise _Refused()  # the redemption row goes with the rollback
            conn.execute("INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, redemption_id, "
                         "created_at) VALUES (%s, 'redeem', %s, %s, %s, now())",
                         (voucher_id, -amount, balance[0], row[0]))
        return jsonify({"id": row[0], "balance": balance[0]}), 201

    @app.post("/min/claim")
    def min_claim():
        """The JWT, the identity, then: one per person (a guarded holding counter), the guarded batch
        counter, the voucher and its issue entry."""
        batch_id = int(request.get_json()["batch_id"])
        conn = _conn()
        with conn.transaction():
            who, refusal = _identity(conn, "entrepreneur")
            if refusal:
                return refusal
            user_id = who[0]
            held = conn.execute(
                "INSERT INTO batch_holding (batch_id, controller, count) VALUES (%s, %s, 1) "
                "ON CONFLICT (batch_id, controller) DO UPDATE SET count = batch_holding.count + 1 "
                "WHERE batch_holding.count < (SELECT per_person_limit FROM voucher_batch WHERE id = %s) RETURNING id",
                (batch_id, f"user:{user_id}", batch_id)).fetchone()
            if held is None:
                return jsonify({"code": "claim_limit_reached"}), 409
            row = conn.execute("UPDATE voucher_batch SET issued_count = issued_count + 1, "
                               "issued_amount = issued_amount + face_value WHERE id = %s AND issued_count < total_count "
                               "RETURNING face_value", (batch_id,)).fetchone()
            if row is None:
                raise _Refused("sold_out", 409)
            face = row[0]
            voucher_id = conn.execute(
                "INSERT INTO voucher (batch_id, holder_id, face_value, balance, claimed_at, valid_from, valid_until) "
                "VALUES (%s, %s, %s, %s, now(), now(), now() + interval '90 days') RETURNING id",
                (batch_id, user_id, face, face)).fetchone()[0]
            conn.execute("INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
                         "VALUES (%s, 'issue', %s, %s, now())", (voucher_id, face, face))
        return jsonify({"id": voucher_id}), 201

    @app.errorhandler(_Refused)
    def refused(error):
        # a refusal after a write: the transaction block rolled it back on the way out
        return jsonify({"code": error.code}), error.status

    return app


class _Refused(Exception):
    """Raised inside ``conn.transaction()`` so that psycopg rolls back what the request wrote."""

    def __init__(self, code: str = "insufficient_balance", status: int = 422):
        super().__init__(code)
        self.code, self.status = code, status
