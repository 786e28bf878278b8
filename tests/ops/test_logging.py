"""JSON log lines: one per request (time, level, request_id, method, rule, status, duration_ms, user id),
errors with their traceback and the request id the answer's header carries."""
import io
import json
import logging

import pytest

from backend import config as settings, create_app
from backend.core import ops
from tests.conftest import TEST_SECRETS
from tests.factories import make_user


@pytest.fixture
def json_lines():
    """What the root logger writes, as parsed JSON lines, through the formatter production uses."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ops.JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_one_json_line_per_request_with_the_request_id_and_the_user(client, auth, json_lines):
    user = make_user()
    answer = client.get("/api/me", headers={**auth(user), "X-Request-ID": "trace-me-12345678"})
    assert answer.status_code == 200
    lines = [line for line in json_lines() if line["logger"] == "backend.request"]
    assert len(lines) == 1
    line = lines[0]
    assert {"time", "level", "request_id", "method", "rule", "status", "duration_ms", "user_id"} <= set(line)
    assert line["request_id"] == "trace-me-12345678" == answer.headers["X-Request-ID"]
    assert (line["level"], line["method"], line["rule"], line["status"]) == ("INFO", "GET", "/api/me", 200)
    assert line["user_id"] == str(user.id)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_an_anonymous_request_logs_no_user_and_the_rule_not_the_path(client, json_lines):
    client.get("/api/places/987654321")
    line = [line for line in json_lines() if line["logger"] == "backend.request"][-1]
    assert line["user_id"] is None and line["status"] == 404
    assert "987654321" not in line["rule"] and line["path"] == "/api/places/987654321"


def test_an_unexpected_error_is_logged_with_its_traceback_and_the_id_the_user_sees(tmp_path, json_lines):
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'boom.db'}",
                      "RATELIMIT_ENABLED": False, **TEST_SECRETS})

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom 42")

    answer = app.test_client().get("/boom")
    assert answer.status_code == 500
    assert set(answer.get_json()) == {"code", "message", "details"} and answer.get_json()["code"] == "internal_error"
    rid = answer.headers["X-Request-ID"]
    errors = [line for line in json_lines() if line["level"] == "ERROR"]
    failure = next(line for line in errors if line["logger"] == "backend.core.errors")
    assert failure["request_id"] == rid and "RuntimeError: kaboom 42" in failure["traceback"]
    request_line = next(line for line in errors if line["logger"] == "backend.request")
    assert request_line["request_id"] == rid and request_line["status"] == 500


def test_outside_a_request_a_line_has_no_request_id():
    record = logging.LogRecord("backend.cli", logging.WARNING, __file__, 1, "体检 %s", ("完成",), None)
    line = json.loads(ops.JSONFormatter().format(record))
    assert line["message"] == "体检 完成" and line["level"] == "WARNING" and "request_id" not in line


def test_json_by_default_in_production_text_in_development(monkeypatch, tmp_path):
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    assert settings.load(str(tmp_path))["LOG_FORMAT"] == "json"
    monkeypatch.setenv("APP_ENV", "development")
    assert settings.load(str(tmp_path))["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert settings.load(str(tmp_path))["LOG_FORMAT"] == "json"


def test_the_json_handler_is_set_once_however_many_apps(tmp_path):
    root = logging.getLogger()
    try:
        for _ in range(2):
            create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "LOG_FORMAT": "json",
                        **TEST_SECRETS})
        ours = [h for h in root.handlers if getattr(h, "_cyql", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, ops.JSONFormatter)
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_cyql", False)]:
            root.removeHandler(handler)
