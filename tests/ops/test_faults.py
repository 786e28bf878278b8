"""Faults against real servers on loopback: PostgreSQL refusing or dropping connections (503
``service_unavailable`` in the error shape, nothing half-written, recovery without a restart), and Redis
killed under two gunicorn workers (rate limits fall back to each process's memory; the app keeps serving).
Every wait polls a condition with a deadline."""
from __future__ import annotations

import os
import uuid

import flask_migrate
import psycopg
import pytest
import requests
import sqlalchemy as sa

from backend import create_app
from backend.accounts.models import User
from backend.extensions import db
from tests.conftest import PG_ADMIN_URL, TEST_SECRETS
from tests.factories import make_user
from tests.ops.servers import Gunicorn, Redis, free_port

UNAVAILABLE = {"code": "service_unavailable", "message": "服务暂时不可用，请稍后重试", "details": {}}


def admin(sql: str, *args):
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall() if sql.lstrip().upper().startswith("SELECT") else conn.execute(sql, args)


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """An app on a PostgreSQL database of its own, whose rows are really committed."""
    name = f"cyql_ops_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}"')
    previous = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(tmp_path_factory.mktemp("ops-instance"))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, **TEST_SECRETS})
    with app.app_context():
        flask_migrate.upgrade()
    app.database_name, app.database_url = name, url
    yield app
    with app.app_context():
        db.engine.dispose()
    if previous is not None:
        os.environ["INSTANCE_PATH"] = previous
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def terminate(name: str) -> None:
    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", name)


def token_for(app, user_id: int) -> dict:
    from flask_jwt_extended import create_access_token

    with app.app_context():
        return {"Authorization": f"Bearer {create_access_token(identity=str(user_id))}"}


def committed_user(app, name: str) -> int:
    with app.app_context():
        user = make_user(name=name)
        db.session.commit()
        return user.id


def name_of(app, user_id: int) -> str:
    with app.app_context():
        try:
            return db.session.get(User, user_id).name
        finally:
            db.session.remove()


def test_a_database_that_does_not_answer_is_a_503_in_the_error_shape(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, **TEST_SECRETS})
    client = app.test_client()
    answer = client.get("/api/places", headers={"X-Request-ID": "closed-port-0001"})
    assert answer.status_code == 503 and answer.get_json() == UNAVAILABLE
    assert answer.headers["X-Request-ID"] == "closed-port-0001" and answer.headers["Retry-After"] == "5"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json() == {"status": "unavailable", "failing": ["postgresql"]}
    assert client.get("/healthz").status_code == 200  # the process itself answers
    with app.app_context():
        db.engine.dispose()


def test_lost_then_back_without_a_restart(pg):
    client = pg.test_client()
    assert client.get("/api/places").status_code == 200
    admin(f'ALTER DATABASE "{pg.database_name}" ALLOW_CONNECTIONS false')
    try:
        terminate(pg.database_name)
        down = client.get("/api/places")
        assert down.status_code == 503 and down.get_json() == UNAVAILABLE
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["failing"] == ["postgresql"]
    finally:
        admin(f'ALTER DATABASE "{pg.database_name}" ALLOW_CONNECTIONS true')
    assert client.get("/api/places").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_connections_dropped_by_a_restart_are_replaced_by_the_pool(pg):
    client = pg.test_client()
    assert client.get("/api/places").status_code == 200
    terminate(pg.database_name)  # what a PostgreSQL restart does to the pool's connections
    assert [client.get("/api/places").status_code for _ in range(3)] == [200, 200, 200]


def test_a_database_lost_at_the_commit_writes_nothing(pg, monkeypatch):
    user_id = committed_user(pg, "原来的名字")
    headers = token_for(pg, user_id)
    client = pg.test_client()
    real_commit = db.session.commit

    def commit_after_the_server_went_away():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        admin("SELECT pg_terminate_backend(%s)", pid)
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit_after_the_server_went_away)
    lost = client.patch("/api/me", json={"name": "新名字"}, headers=headers)
    assert lost.status_code == 503 and lost.get_json() == UNAVAILABLE
    monkeypatch.undo()
    assert name_of(pg, user_id) == "原来的名字"
    again = client.patch("/api/me", json={"name": "新名字"}, headers=headers)  # the client's retry
    assert again.status_code == 200 and name_of(pg, user_id) == "新名字"


def test_redis_down_rate_limits_fall_back_to_each_process_and_the_app_keeps_serving(pg, tmp_path):
    """The stated choice: fail open to per-process memory. With Redis the two workers share one count
    (the 21st request of 20/minute is refused whichever worker answers); with Redis gone every request
    is still answered, limits still bite (each worker counts on its own) and /readyz names redis."""
    redis = back = Redis().start()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    server = Gunicorn({
        "DATABASE_URL": pg.database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": redis.url, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_FORMAT": "json",
        **TEST_SECRETS,
    }, log=tmp_path / "gunicorn.log", workers=2)
    try:
        server.start()
        http = requests.Session()
        provision = lambda: http.post(f"{server.url}/api/scanner/provision", json={}, timeout=10)  # noqa: E731
        assert http.get(f"{server.url}/readyz", timeout=5).json() == {"status": "ok"}
        shared = [provision().status_code for _ in range(21)]
        assert shared == [422] * 20 + [429]  # one count across both workers: it is in Redis

        redis.kill()
        ready = http.get(f"{server.url}/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json() == {"status": "unavailable", "failing": ["redis"]}
        assert http.get(f"{server.url}/api/places", timeout=5).status_code == 200
        alone = [provision().status_code for _ in range(41)]
        assert set(alone) <= {422, 429}  # never a 500: the limiter fell back instead of failing
        assert alone[:20] == [422] * 20 and 429 in alone  # each worker's own count still refuses the 21st

        metrics = http.get(f"{server.url}/metrics", timeout=5).text  # summed over both workers
        total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith('http_requests_total{endpoint="/api/scanner/provision"'))
        assert total == 62
        fallbacks = [line for line in metrics.splitlines() if line.startswith("rate_limit_storage_fallbacks_total")]
        assert fallbacks and float(fallbacks[0].rsplit(" ", 1)[1]) >= 1

        back = Redis(redis.port).start()
        server.wait_for(lambda: http.get(f"{server.url}/readyz", timeout=5).status_code == 200, timeout=10,
                        what="readiness after Redis is back")
        import redis as redis_client

        fresh = redis_client.Redis(port=back.port)
        assert fresh.dbsize() == 0
        # Flask-Limiter looks at its storage again after a back-off of a few seconds: counts return to Redis
        server.wait_for(lambda: provision().status_code in (422, 429) and fresh.dbsize() > 0, timeout=40,
                        what="rate limits counted in Redis again")
    finally:
        log = server.stop()
        redis.kill()
        back.kill()
    assert '"level": "WARNING"' in log and "falling back to in-memory storage" in log
    assert '"logger": "backend.request"' in log
