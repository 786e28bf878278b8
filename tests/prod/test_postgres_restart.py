"""PostgreSQL restarts under load (a private cluster of Debian's PostgreSQL, so the machine's shared
server is left alone): while it is down the app answers in the error shape with a Chinese message —
never a hang, never an HTML page — and once it is back the same app server processes answer again
without being restarted. Redemptions sent across the restart, retried with their keys, are each
written once: nothing half-written, the ledger checks."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from deploy.serve import Stack, free_port, wait_until
from tests.prod.conftest import _app_context
from tests.prod.test_failover import RetryingClient

PG_BIN = Path(max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)))
SECRETS = {"SECRET_KEY": "pg-restart-secret-0123456789abcdef0123456789",
           "JWT_SECRET_KEY": "pg-restart-jwt-0123456789abcdef0123456789abcd",
           "PII_KEY": "l5bq9m0v4Yq8dH3iZbT1cX2wN7eR6sA0uK4oP9jG5fE=", "PII_HASH_KEY": "pg-restart-pii-hash"}


class Cluster:
    def __init__(self, folder: Path):
        self.data, self.port = folder / "data", free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")

    def pg_ctl(self, *args):
        subprocess.run([*self.as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args],
                       check=True, capture_output=True)

    def start(self):
        subprocess.run([*self.as_postgres, str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                        "postgres"], check=True, capture_output=True)
        self.pg_ctl("-o", f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off", "-l",
                    str(self.data.parent / "pg.log"), "start")
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c",
                        "CREATE DATABASE cyql"], check=True, capture_output=True)
        return f"postgresql://postgres@127.0.0.1:{self.port}/cyql"


@pytest.fixture(scope="module")
def private_stack():
    folder = Path(tempfile.mkdtemp(prefix="cyql-pg-restart-"))  # outside pytest's 0700 folder: the
    folder.chmod(0o755)                                           # postgres user must reach its data
    cluster = Cluster(folder / "pg")
    url = cluster.start()
    run = folder / "stack"
    run.mkdir(parents=True)
    try:
        with Stack(run_dir=run, database_url=url, redis_url="redis://127.0.0.1:6379/0", servers=2, workers=1,
                   threads=4, scheduler=False, client_timeout=5,
                   env={"RATELIMIT_ENABLED": "false", **SECRETS}) as stack:
            yield stack, cluster
    finally:
        cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_the_app_answers_in_the_error_shape_while_postgresql_restarts_then_recovers(private_stack):
    from tests.prod.test_failover import prepare

    stack, cluster = private_stack
    world = prepare(lambda: _app_context(stack))
    pids = [server.proc.pid for server in stack.servers]
    calls = world["redemptions"][:120]
    client = RetryingClient(stack.url, signal_after=30)
    deadline = time.monotonic() + 90
    outages: list[tuple[int, dict]] = []

    def restart():
        client.reached.wait(timeout=60)
        cluster.pg_ctl("-m", "fast", "stop")
        # while it is down: reads and writes get the error shape, quickly
        for _ in range(5):
            started = time.monotonic()
            response = requests.get(stack.url + "/api/places", timeout=15)
            outages.append((response.status_code, response.json(), time.monotonic() - started))
        cluster.pg_ctl("-o", f"-p {cluster.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off", "-l",
                       str(cluster.data.parent / "pg.log"), "start")

    restarter = threading.Thread(target=restart)
    restarter.start()
    answers = []
    lock = threading.Lock()

    def stream(part):
        for call in part:
            answer = client.send(call, deadline)
            with lock:
                answers.append((call, answer))

    streams = [threading.Thread(target=stream, args=(calls[i::4],)) for i in range(4)]
    for thread in streams:
        thread.start()
    for thread in streams:
        thread.join(timeout=120)
    restarter.join(timeout=60)

    assert len(outages) == 5
    for status, body, seconds in outages:
        assert status == 503 and body["code"] == "service_unavailable", (status, body)
        assert set(body) == {"code", "message", "details"} and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
        assert seconds < 10  # an answer, not a worker stuck on a dead connection
    # back without restarting the app servers
    wait_until(lambda: requests.get(stack.url + "/api/places", timeout=5).status_code == 200, 30, "the app")
    assert [server.proc.pid for server in stack.servers] == pids and all(s.alive() for s in stack.servers)

    # every redemption written once (retries carried their keys across the outage)
    statuses = {answer[0] for _, answer in answers}
    assert statuses <= {200, 201}, [a for _, a in answers if a[0] not in (200, 201)][:3]
    assert client.retries >= 1, "some redemptions met the outage and were sent again"
    receipts = {answer[1]["id"] for _, answer in answers}
    assert len(receipts) == len(calls)
    import sqlalchemy as sa

    from backend.extensions import db
    from backend.vouchers.models import Redemption

    with _app_context(stack):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == len(calls)
    check = stack.flask("vouchers", "check", check=False)
    assert check.returncode == 0, check.stdout + check.stderr
