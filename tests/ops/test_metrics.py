"""/metrics: requests by Flask rule and status, latency, the database pool, check-in items by outcome,
scheduler runs; refused to anyone but loopback (or METRICS_ALLOW), and to anything that came through a proxy."""
import pytest
from prometheus_client import REGISTRY

from backend.core import ops
from backend.extensions import db
from tests.checkins.test_sync import item, person, personal, sync
from tests.factories import make_place, make_scanner


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_rule_and_status_never_by_raw_path(client):
    rule = next(r.rule for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/places/<")
                and r.rule.count("<") == 1 and "GET" in r.methods)
    before = sample("http_requests_total", endpoint=rule, method="GET", status="404")
    seconds_before = sample("http_request_duration_seconds_count", endpoint=rule, method="GET")
    client.get("/api/places/987654321")
    client.get("/api/places/987654322")
    assert sample("http_requests_total", endpoint=rule, method="GET", status="404") == before + 2
    assert sample("http_request_duration_seconds_count", endpoint=rule, method="GET") == seconds_before + 2
    text = client.get("/metrics").get_data(as_text=True)
    assert "987654321" not in text
    assert f'http_requests_total{{endpoint="{rule}",method="GET",status="404"}}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_metrics_is_prometheus_text_for_loopback(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")
    text = answer.get_data(as_text=True)
    for name in ("http_requests_total", "http_request_duration_seconds", "db_pool_checked_out",
                 "checkin_sync_items_total", "scheduler_job_runs_total"):
        assert f"# TYPE {name}" in text


@pytest.mark.parametrize("environ, headers", [
    ({"REMOTE_ADDR": "203.0.113.9"}, {}),
    ({"REMOTE_ADDR": "10.20.30.40"}, {}),
    ({"REMOTE_ADDR": "127.0.0.1"}, {"X-Forwarded-For": "203.0.113.9"}),  # came through nginx
])
def test_metrics_is_refused_to_others(client, environ, headers):
    answer = client.get("/metrics", environ_base=environ, headers=headers)
    assert answer.status_code == 404
    assert set(answer.get_json()) == {"code", "message", "details"}
    assert "http_requests_total" not in answer.get_data(as_text=True)


def test_metrics_allow_lists_a_network(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", ["10.20.0.0/16", "not an address"])
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.21.0.1"}).status_code == 404


def test_the_pool_gauge_follows_connections_checked_out(app, session):
    with app.app_context():
        engine = db.engine
        before = sample("db_pool_checked_out")
        first, second = engine.connect(), engine.connect()
        assert sample("db_pool_checked_out") == before + 2
        first.close()
        second.close()
        assert sample("db_pool_checked_out") == before


def test_check_in_items_are_counted_by_outcome(client):
    _, token = make_scanner(make_place())
    _, phone = person()
    ok = lambda: sample("checkin_sync_items_total", channel="place", outcome="ok")  # noqa: E731
    duplicate = lambda: sample("checkin_sync_items_total", channel="place", outcome="duplicate")  # noqa: E731
    replayed = lambda: sample("checkin_sync_items_total", channel="place", outcome="replayed")  # noqa: E731
    counts = ok(), duplicate(), replayed()
    first = item(personal(phone))
    sync(client, token, first, item(personal(phone)))
    sync(client, token, first)  # the same nonce again: answered from what is stored
    assert (ok(), duplicate(), replayed()) == (counts[0] + 1, counts[1] + 1, counts[2] + 1)


def test_scheduler_runs_are_a_counter_other_code_uses(client):
    before = sample("scheduler_job_runs_total", job="voucher_expiry", outcome="ok")
    ops.JOB_RUNS.labels("voucher_expiry", "ok").inc()
    assert sample("scheduler_job_runs_total", job="voucher_expiry", outcome="ok") == before + 1
    assert 'scheduler_job_runs_total{job="voucher_expiry",outcome="ok"}' in client.get("/metrics").get_data(as_text=True)
