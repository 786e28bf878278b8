"""Browser tests: the real app (flask, demo data) in a subprocess, driven through Playwright in
Debian's Chromium.  Screenshots of every page go to test-artifacts/screenshots/.

The app runs on a SQLite file.  A module marked ``pytest.mark.both_databases`` (the end-to-end paths
of vouchers, events and the station scanner) runs on each database ``--db`` names, PostgreSQL in a
database of its own, so the PostgreSQL-only statements (the redemption insert, the ``unnest`` ingest)
run under a browser too; the other files stay on SQLite to keep the suite's time."""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
PHONE_VIEWPORT = {"width": 390, "height": 844}


def pytest_configure(config):
    config.addinivalue_line("markers", "both_databases: the browser module's live server runs on each --db database")


def pytest_generate_tests(metafunc):
    if "live_database_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        choice = metafunc.config.getoption("--db")
        metafunc.parametrize("live_database_kind", ["sqlite", "postgresql"] if choice == "both" else [choice],
                             scope="module")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, tmp: Path, database_url: str, history: bool = False):
        self.history = history
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "server.log"
        self.env = {**os.environ, "FLASK_APP": "backend", "INSTANCE_PATH": str(tmp / "instance"),
                    "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.env.pop("APP_ENV", None)

    def flask(self, *args):
        subprocess.run([sys.executable, "-m", "flask", *args], env=self.env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        static = Path(os.environ.get("STATIC_DIR") or ROOT / "static")  # the server serves the same folder
        assert (static / "index.html").is_file(), "build the miniapp first (./dev.sh test does)"
        self.flask("db", "upgrade")
        self.flask("seed-demo", "--history" if self.history else "--no-history")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "run", "--port", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_for(self._answers, "the server to answer", 30)
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/api/meta", timeout=1).ok
        except requests.ConnectionError:
            return False

    def wait_for(self, condition, what: str, seconds: float = 10):
        """Poll ``condition`` until it holds, in between waiting on the server process: if the server
        dies, say so at once with its log."""
        deadline = time.monotonic() + seconds
        while not (result := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: " + self.log_path.read_text()[-2000:])
            try:
                self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"the server exited while waiting for {what}: " + self.log_path.read_text())
        return result

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()

    def last_sms_code(self, masked_phone: str) -> str:
        """The development SMS sender writes the code to the server log."""
        pattern = rf"SMS login code for {re.escape(masked_phone)}: (\d{{6}})"
        found = self.wait_for(lambda: re.findall(pattern, self.log_path.read_text()),
                              "an SMS code in the server log", 5)
        return found[-1]


def demo_token(base_url: str, role: str) -> str:
    """An access token for the demo account of a role (development one-tap login)."""
    answer = requests.post(base_url + "/api/auth/demo-login", json={"role": role}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def demo_login(page, role: str = "entrepreneur", *, scanner: bool = True):
    """Tap the role's demo account on the login page and wait for its tab bar.

    The demo station staff's phone makes itself their station's scanner at login (as in ``./dev.sh
    run``); ``scanner=False`` keeps it an ordinary phone, for tests of provisioning it by hand."""
    from playwright.sync_api import expect

    if not scanner:
        page.route("**/api/scanner/demo-setup", lambda route: route.abort())
    page.goto("/")
    page.get_by_test_id(f"demo-login-{role}").click()
    # the demo district administrator is an administrator (of 任城区)
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "admin" if role == "district_admin" else role)


@pytest.fixture(scope="module")
def live_database_kind():
    """SQLite, unless the module is marked both_databases (then parametrised by pytest_generate_tests)."""
    return "sqlite"


@pytest.fixture(scope="module")
def live_database_url(live_database_kind, tmp_path_factory):
    """A fresh database for one module's live server: a SQLite file, or a PostgreSQL database dropped after."""
    if live_database_kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('live-db') / 'browser.db'}"
        return
    name = f"cyql_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def live_server(request, tmp_path_factory, live_database_url):
    """Each test module gets its own app and database, so no module depends on what another did. The
    demo's history (60 days of visits, settled months) only where the module sets DEMO_HISTORY = True:
    the others count what they do themselves. A module's SERVER_ENV adds settings (environment)."""
    server = LiveServer(tmp_path_factory.mktemp("live"), live_database_url,
                        history=getattr(request.module, "DEMO_HISTORY", False))
    server.env.update(getattr(request.module, "SERVER_ENV", {}))  # a module's own settings
    server.start()
    yield server
    server.stop()


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url, device_scale_factor=2)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(scope="module")
def camera_browser(browser, video_path):
    """A second Chromium whose camera plays the module's ``video_path`` (a Y4M file the module's own
    fixture writes), from the session's Playwright (one per thread)."""
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video_path.resolve()}"])
    yield camera
    camera.close()


@contextlib.contextmanager
def camera_context(camera_browser, live_server, who: str = "camera phone"):
    """A phone-sized context of the camera browser with the camera allowed: (context, page); fails the
    test on a JavaScript error."""
    context = camera_browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                         base_url=live_server.url, device_scale_factor=2)
    context.grant_permissions(["camera"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield context, page
    context.close()
    assert not errors, f"JavaScript errors on the {who}: {errors}"
