"""Test harness: the whole backend suite runs on a real SQLite file and on a real PostgreSQL
database (created fresh for the run, dropped after).  Each test runs inside a transaction that
is rolled back, so tests never see each other's rows.

    pytest                      both databases (PostgreSQL from TEST_PG_URL, default
                                postgresql://postgres@127.0.0.1:5432/postgres)
    pytest --db sqlite          only SQLite
"""
from __future__ import annotations

import os
import uuid

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy.orm import scoped_session, sessionmaker

from backend import create_app
from backend.core import keys, memo
from backend.extensions import db, limiter
from tests.fakes.wechat import FakeWechat

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    "JWT_SECRET_KEY": "test-jwt-key-0123456789abcdef0123456789abcd",
    "PII_KEY": "l5bq9m0v4Yq8dH3iZbT1cX2wN7eR6sA0uK4oP9jG5fE=",
    "PII_HASH_KEY": "test-pii-hash-key",
}


def pytest_addoption(parser):
    parser.addoption("--db", default="both", choices=["both", "sqlite", "postgresql"],
                     help="which database(s) the backend suite runs on")


def pytest_generate_tests(metafunc):
    if "database_kind" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("database_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def database_url(database_kind, tmp_path_factory):
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    name = f"cyql_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def wechat_fake():
    fake = FakeWechat()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def app(database_url, wechat_fake, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["INSTANCE_PATH"] = str(instance)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WECHAT_API_BASE": wechat_fake.url,
        "WECHAT_MINI_APPID": FakeWechat.MINI_APPID,
        "WECHAT_MINI_SECRET": FakeWechat.MINI_SECRET,
        "WECHAT_OA_APPID": FakeWechat.OA_APPID,
        "WECHAT_OA_SECRET": FakeWechat.OA_SECRET,
        "WECHAT_TIMEOUT_SECONDS": 2,
        **TEST_SECRETS,
    })
    with app.app_context():
        flask_migrate.upgrade()
    keys.startup(app)  # the first signing key, committed (create_app ran before the tables existed)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def session(app):
    """A session bound to one connection whose outer transaction is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
            keys.keyring().forget()  # keys a test rotated were rolled back with it
            memo.renders().clear()


class CommittingClient(FlaskClient):
    """Rows a test made before a request are committed first (to the test's savepoint), as they
    would be in real life; otherwise a request that fails and rolls back would take them along."""

    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, session):
    app.test_client_class = CommittingClient
    return app.test_client()


@pytest.fixture
def make_user(session):
    from tests.factories import make_user as factory

    return factory


@pytest.fixture
def auth(app, session):
    """auth(user) -> headers with a Bearer access token for that user."""

    def headers(user) -> dict:
        return {"Authorization": f"Bearer {create_access_token(identity=str(user.id))}"}

    return headers


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, once per session: the browser tests and the production
    stack's CSP test share it (Playwright's sync API can run only once per thread; others launch more
    browsers from ``browser.browser_type``)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
