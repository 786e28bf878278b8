"""/healthz, /readyz and the request id every answer carries (on SQLite and PostgreSQL)."""
import re

import pytest

from tests.factories import make_user


def test_healthz_answers_without_login_and_outside_the_api(client, app):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)


def test_readyz_is_ok_when_the_database_answers(client, app):
    app.config["REDIS_URL"] = ""
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_readyz_names_redis_when_it_does_not_answer(client, app, monkeypatch):
    from tests.ops.servers import free_port

    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "failing": ["redis"]}


def test_readyz_is_not_rate_limited(client):
    assert {client.get("/readyz").status_code for _ in range(40)} == {200}


def test_a_request_id_is_made_when_none_is_given(client):
    first, second = client.get("/healthz"), client.get("/api/meta")
    for answer in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_well_formed_request_id_is_kept(client):
    answer = client.get("/api/places", headers={"X-Request-ID": "nginx-1a2b3c4d5e6f"})
    assert answer.headers["X-Request-ID"] == "nginx-1a2b3c4d5e6f"


@pytest.mark.parametrize("given", ["short", "has space inside it", "x" * 200, "<script>alert(1)</script>", "中文编号中文编号中文"])
def test_a_malformed_request_id_is_replaced(client, given):
    answer = client.get("/healthz", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_errors_carry_the_request_id_in_the_header_and_keep_the_error_shape(client, auth):
    missing = client.get("/api/places/999999999", headers={"X-Request-ID": "trace-0000-1111"})
    assert missing.status_code == 404 and set(missing.get_json()) == {"code", "message", "details"}
    assert missing.headers["X-Request-ID"] == "trace-0000-1111"
    anonymous = client.get("/api/me")
    assert anonymous.status_code == 401 and set(anonymous.get_json()) == {"code", "message", "details"}
    assert re.fullmatch(r"[0-9a-f]{32}", anonymous.headers["X-Request-ID"])
    nowhere = client.get("/api/no-such-thing")
    assert nowhere.status_code == 404 and "X-Request-ID" in nowhere.headers
    refused = client.patch("/api/me", json={"name": 5}, headers=auth(make_user()))
    assert refused.status_code == 422 and "X-Request-ID" in refused.headers
