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
