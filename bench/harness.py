"""Shared by the benchmarks: a throwaway PostgreSQL database, the app on it under gunicorn,
and a load generator that runs in a second process on loopback.

    with served_app(workers=2) as app:      # creates the database, migrates, starts gunicorn
        app.url, app.database_url, app.env  # talk to it over HTTP, or with psycopg directly
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedApp:
    def __init__(self, url: str, database_url: str, env: dict, instance: str):
        self.url, self.database_url, self.env, self.instance = url, database_url, env, instance

    def flask(self, *args) -> str:
        return subprocess.run([sys.executable, "-m", "flask", *args], env=self.env, cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    def psql_url(self) -> str:
        return self.database_url.replace("postgresql+psycopg://", "postgresql://")


@contextlib.contextmanager
def served_app(workers: int = 2, threads: int = 1):
    name = f"cyql_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    tmp = tempfile.TemporaryDirectory(prefix="cyql-bench-")
    port = free_port()
    env = {**os.environ, "FLASK_APP": "backend", "DATABASE_URL": database_url, "INSTANCE_PATH": tmp.name,
           "RATELIMIT_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    app = ServedApp(f"http://127.0.0.1:{port}", database_url, env, tmp.name)
    proc = None
    try:
        app.flask("db", "upgrade")
        app.flask("seed-demo")
        log = open(Path(tmp.name) / "gunicorn.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", "backend:create_app()"],
                                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(600):
            try:
                if requests.get(app.url + "/api/meta", timeout=1).ok:
                    break
            except requests.RequestException:  # not listening yet, or workers still booting
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start: " + (Path(tmp.name) / "gunicorn.log").read_text())
        yield app
    finally:
        if proc:
            proc.terminate()
            proc.wait(15)
        tmp.cleanup()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@contextlib.contextmanager
def gunicorn(spec: str, env: dict, workers: int = 2, threads: int = 4, probe: str = "/api/meta"):
    """Another WSGI app under gunicorn with the same settings (e.g. the bare SQL ceiling)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("w+", prefix="cyql-gunicorn-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", spec],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                requests.get(url + probe, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start: " + Path(log.name).read_text())
        yield url
    finally:
        proc.terminate()
        proc.wait(15)
        os.unlink(log.name)


@contextlib.contextmanager
def app_context(served: "ServedApp"):
    """The app in this process, on the served database and instance (same secrets and keys)."""
    os.environ["DATABASE_URL"] = served.database_url
    os.environ["INSTANCE_PATH"] = served.instance
    from backend import create_app
    from backend.extensions import db

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def scan_tokens(*, staff_id: int, provider_id: int, targets: list[tuple[int, int]]) -> list[str]:
    """What a cashier's scan of a pay code leaves behind, one per redemption to come (a pay code pays
    once): a pay_scan row and the scan token naming it. ``targets``: (voucher id, holder id) per call.
    Each holder gets one phone; its codes are told apart by the second they were made."""
    from datetime import timedelta

    import sqlalchemy as sa

    from backend.core.db import utcnow
    from backend.devices.models import PersonalDevice
    from backend.extensions import db
    from backend.vouchers import redemption
    from backend.vouchers.models import PayScan

    now = utcnow()
    phones = {}
    for holder_id in sorted({holder for _, holder in targets}):
        phone = PersonalDevice(user_id=holder_id, name="压测手机", public_key=b"\x02" + bytes(32),
                               credential_expires_at=now + timedelta(days=1))
        db.session.add(phone)
        phones[holder_id] = phone
    db.session.flush()
    rows = [{"device_id": phones[holder].id, "code_ts": i, "holder_id": holder, "provider_id": provider_id,
             "staff_id": staff_id, "created_at": now} for i, (_, holder) in enumerate(targets)]
    ids = db.session.scalars(sa.insert(PayScan).returning(PayScan.id, sort_by_parameter_order=True), rows).all()
    db.session.commit()
    serializer = redemption._serializer()
    return [serializer.dumps({"h": holder, "p": provider_id, "s": staff_id, "o": False, "i": scan_id})
            for scan_id, (_, holder) in zip(ids, targets)]
