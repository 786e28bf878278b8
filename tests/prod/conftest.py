"""The production stack on loopback for the fault tests: nginx (Debian's) in front of two gunicorn app
servers, a fresh PostgreSQL database, Redis — started once per session by deploy/serve.py's Stack,
exactly as ``./dev.sh serve`` starts it (one worker each here, to keep two cores for the load).

Debian's nginx must be installed: ``./dev.sh test`` installs it (apt) like Chromium."""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest

from deploy.serve import NGINX, Stack
from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/prod/" in str(item.fspath):
            item.add_marker(pytest.mark.prod_stack)


@pytest.fixture(scope="session")
def stack_database(tmp_path_factory):
    name = f"cyql_stack_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def stack(stack_database, tmp_path_factory):
    assert os.path.exists(NGINX), "Debian's nginx is needed (./dev.sh test installs it: apt-get install nginx-light)"
    assert (ROOT / "static" / "index.html").is_file(), "build the miniapp first (./dev.sh test does)"
    run = tmp_path_factory.mktemp("stack")
    if os.geteuid() == 0:  # nginx's workers run as www-data and write request bodies into the run folder
        for folder in [run, *run.parents]:
            if str(folder) in ("/", "/tmp"):
                break
            folder.chmod(folder.stat().st_mode | 0o711)
    # the signing keys are in the database: codes the test makes here verify on both servers
    env = {"RATELIMIT_ENABLED": "false", "APP_ENV": "development",
           "SECRET_KEY": "stack-secret-key-0123456789abcdef0123456789",
           "JWT_SECRET_KEY": "stack-jwt-key-0123456789abcdef0123456789abcd",
           "PII_KEY": "l5bq9m0v4Yq8dH3iZbT1cX2wN7eR6sA0uK4oP9jG5fE=", "PII_HASH_KEY": "stack-pii-hash-key"}
    with Stack(run_dir=run, database_url=stack_database, redis_url="redis://127.0.0.1:6379/0", servers=2,
               workers=1, threads=4, client_timeout=2, scheduler=False, env=env) as started:
        yield started


@pytest.fixture
def stack_app(stack):
    """``with stack_app():`` the app in this test's process on the stack's database, secrets and keys."""
    return lambda: _app_context(stack)


@contextlib.contextmanager
def _app_context(stack):
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "INSTANCE_PATH", *stack.extra_env)}
    os.environ.update({"DATABASE_URL": stack.database_url, "INSTANCE_PATH": str(stack.run / "cli"), **stack.extra_env})
    try:
        from backend import create_app
        from backend.extensions import db

        app = create_app({"RATELIMIT_ENABLED": False})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def nginx_log(stack) -> list[str]:
    return read(stack.run / "nginx" / "nginx-access.log").splitlines()


def copy_logs(stack, name: str) -> None:
    """Keep the stack's logs beside the screenshots when a test wants them looked at."""
    target = ROOT / "test-artifacts" / "prod" / name
    target.mkdir(parents=True, exist_ok=True)
    for path in stack.run.rglob("*.log"):
        shutil.copy(path, target / f"{path.parent.name}-{path.name}")
