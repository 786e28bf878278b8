"""The ceiling the redeem benchmark compares against: a bare SQL redeem endpoint — lock the
voucher row, update its balance, insert a ledger row, nothing else (no auth, no rules, no ORM).
Served by gunicorn exactly like the real app.

    gunicorn 'bench.bare_app:create()'   (DATABASE_URL set)
"""
from __future__ import annotations

import os
import threading

import psycopg
from flask import Flask, jsonify, request

_local = threading.local()


def _conn() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.conn = psycopg.connect(url)
    return conn


def create() -> Flask:
    app = Flask(__name__)

    @app.post("/bare/redeem")
    def redeem():
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

    return app


def _claim_route(app: Flask) -> None:
    @app.post("/bare/claim")
    def claim():
        """The ceiling for claiming: take one from the batch counter, insert the voucher and its entry."""
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


_create_redeem_only = create


def create() -> Flask:  # noqa: F811 - the same app, with the claim ceiling too
    app = _create_redeem_only()
    _claim_route(app)
    return app
