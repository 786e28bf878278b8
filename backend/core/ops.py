"""Running it as a service: health and readiness, Prometheus metrics, a request id on every answer,
one JSON log line per request, and the 503 a lost database answers.

- ``GET /healthz``: the process answers (no database, no Redis).
- ``GET /readyz``: ``SELECT 1`` on the database and ``PING`` to Redis (when rate limits or
  ``REDIS_URL`` use it); 503 ``{"status": "unavailable", "failing": [...]}`` otherwise.
- ``GET /metrics``: Prometheus text (prometheus-client). Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR``
  (an empty folder, wiped before the start) and call :func:`child_exit` from gunicorn's ``child_exit``
  hook: every worker's numbers are then summed. Answered only to loopback or an address listed in
  ``METRICS_ALLOW``, and never to a request that came through a proxy (one with ``X-Forwarded-For``).

Other code counts what it does through the metrics here (``JOB_RUNS.labels(job, outcome).inc()``).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import time
import traceback
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)

log = logging.getLogger(__name__)
request_log = logging.getLogger("backend.request")

# --- metrics --------------------------------------------------------------------------------------
REQUESTS = Counter("http_requests_total", "HTTP requests answered, by Flask rule, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer a request, by Flask rule and method",
                    ["endpoint", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DB_POOL_CHECKED_OUT = Gauge("db_pool_checked_out", "Database connections in use (checked out of the pool)",
                            multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("db_pool_size", "Database connections each process's pool keeps open",
                     multiprocess_mode="liveall")
CHECKIN_ITEMS = Counter("checkin_sync_items_total", "Check-in items handed in, by channel and outcome",
                        ["channel", "outcome"])
JOB_RUNS = Counter("scheduler_job_runs_total", "Scheduled job runs, by job and outcome", ["job", "outcome"])
JOB_DURATION = Histogram("scheduler_job_duration_seconds", "Time a scheduled job ran", ["job"],
                         buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900))
RATE_LIMIT_FALLBACKS = Counter("rate_limit_storage_fallbacks_total",
                               "Times the rate-limit storage (Redis) failed and limits fell back to memory")

UNMATCHED = "<unmatched>"  # 404s keep one label, not one per path a scanner tries

# --- request id -----------------------------------------------------------------------------------
REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_ENV_ID = "cyql.request_id"
_ENV_START = "cyql.request_start"


def request_id() -> str | None:
    """The current request's id: the caller's ``X-Request-ID`` when well formed (a proxy's), else a new one."""
    if not has_request_context():
        return None
    environ = request.environ
    if _ENV_ID not in environ:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        environ[_ENV_ID] = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
    return environ[_ENV_ID]


class _Timing:
    """WSGI middleware: notes when a request came in, before any Flask hook (a limiter or a login check
    may answer before ours would have run)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ[_ENV_START] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


# --- logs -----------------------------------------------------------------------------------------
class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the request id inside a request,
    the fields a caller passed as ``extra={"fields": {...}}``, and the traceback of an error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id()
        if rid:
            entry["request_id"] = rid
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["error"] = repr(record.exc_info[1])
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = request_id()
        return f"{text} [request {rid[:8]}]" if rid and record.name != request_log.name else text


def configure_logging(app: Flask) -> None:
    """JSON lines (LOG_FORMAT=json, the production default) or text on stderr, set once on the root
    logger; a later app replaces the handler an earlier one set, never adds a second."""
    fmt = app.config["LOG_FORMAT"]
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cyql", False):
            root.removeHandler(handler)
    if fmt != "json" and root.handlers:
        return  # someone (pytest, gunicorn --log-config) already decided where text logs go
    handler = logging.StreamHandler()
    handler._cyql = True
    handler.setFormatter(JSONFormatter() if fmt == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def _user_id():
    token = g.get("_jwt_extended_jwt") or {}
    return token.get("sub")


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    started = request.environ.get(_ENV_START)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    if rule != "/metrics":
        REQUESTS.labels(rule, request.method, str(response.status_code)).inc()
        LATENCY.labels(rule, request.method).observe(elapsed)
    if current_app.config["LOG_REQUESTS"]:
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        request_log.log(level, "%s %s %s", request.method, rule, response.status_code, extra={"fields": {
            "method": request.method, "rule": rule, "path": request.path, "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1), "user_id": _user_id(),
        }})
    return response


# --- health, readiness, metrics -------------------------------------------------------------------
def _redis_url(app: Flask) -> str | None:
    for url in (app.config.get("RATELIMIT_STORAGE_URI") or "", app.config.get("REDIS_URL") or ""):
        if url.startswith(("redis://", "rediss://", "unix://")):
            return url
    return None


_redis_clients: dict = {}


def _check_redis(url: str) -> None:
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    client.ping()


def _check_database() -> None:
    import sqlalchemy as sa

    from backend.extensions import db

    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def readiness(app: Flask) -> list[str]:
    failing = []
    try:
        _check_database()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database does not answer: %s", exc)
        failing.append("postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite")
    url = _redis_url(app)
    if url:
        try:
            _check_redis(url)
        except Exception as exc:  # noqa: BLE001
            log.warning("readiness: redis does not answer: %s", exc)
            failing.append("redis")
    return failing


def _metrics_allowed() -> bool:
    if request.headers.get("X-Forwarded-For"):
        return False  # came through the proxy: never public, whatever the peer is
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if peer.is_loopback:
        return True
    for allowed in current_app.config["METRICS_ALLOW"]:
        try:
            if peer in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def _healthz():
    return jsonify({"status": "ok"})


def _readyz():
    failing = readiness(current_app)
    if failing:
        return jsonify({"status": "unavailable", "failing": failing}), 503
    return jsonify({"status": "ok"})


def _metrics():
    if not _metrics_allowed():
        from backend.core.errors import HTTP_ERRORS, error_response

        return error_response(*HTTP_ERRORS[404], 404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook in multiprocess mode: a dead worker's live gauges are dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def _watch_pool(engine) -> None:
    import sqlalchemy as sa

    pool = engine.pool
    size = getattr(pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.set(size())
    sa.event.listen(engine, "checkout", lambda *_: DB_POOL_CHECKED_OUT.inc())
    sa.event.listen(engine, "checkin", lambda *_: DB_POOL_CHECKED_OUT.dec())


def _begin_at_checkout(engine) -> None:
    """pool_pre_ping's ``SELECT 1`` cost a round trip on every checkout. A pooled PostgreSQL connection
    is checked instead by the ``BEGIN`` its transaction sends anyway, sent here at checkout: psycopg
    then sees the transaction open and does not send its own. A connection a PostgreSQL restart (or
    pg_terminate_backend) killed fails its BEGIN; it is thrown away with every pooled connection older
    than it, and the pool retries with a fresh one — so a request after a restart gets a working
    connection as with pre-ping, at no extra round trip. A connection lost in the middle of a request
    is still the 503. (Per-connection isolation levels would have to be set before this BEGIN: the app
    sets none.)"""
    import sqlalchemy as sa
    from psycopg import pq

    @sa.event.listens_for(engine, "checkin")
    def _pooled(_dbapi_connection, record):
        record.info["pooled"] = True

    @sa.event.listens_for(engine, "checkout")
    def _begin(dbapi_connection, record, _proxy):
        if not record.info.pop("pooled", False):  # a connection just made: nothing to check
            return
        pgconn = dbapi_connection.pgconn
        if dbapi_connection.autocommit or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return
        try:
            result = pgconn.exec_(b"BEGIN")
            ok = result.status == pq.ExecStatus.COMMAND_OK
        except Exception:  # noqa: BLE001 - libpq could not even send it: the connection is gone
            ok = False
        if not ok:
            raise sa.exc.InvalidatePoolError("the pooled connection is gone")


def _watch_rate_limit_storage() -> None:
    """Flask-Limiter says "falling back to in-memory storage" on its logger: count it."""

    class _Count(logging.Filter):
        def filter(self, record):
            if "falling back to in-memory" in record.getMessage():
                RATE_LIMIT_FALLBACKS.inc()
            return True

    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _Count) or type(f).__name__ == "_Count" for f in limiter_log.filters):
        limiter_log.addFilter(_Count())


def init_app(app: Flask) -> None:
    """Before the request-commit hook is registered, so that ``_finish`` runs after it and sees the
    final status (Flask runs after-request functions last-registered first)."""
    from backend.extensions import db, limiter

    configure_logging(app)
    app.wsgi_app = _Timing(app.wsgi_app)
    app.after_request(_finish)
    for rule, view in (("/healthz", _healthz), ("/readyz", _readyz), ("/metrics", _metrics)):
        app.add_url_rule(rule, f"ops.{rule.strip('/')}", limiter.exempt(view), methods=["GET"])
    with app.app_context():
        _watch_pool(db.engine)
        if db.engine.dialect.driver == "psycopg" and not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
            _begin_at_checkout(db.engine)
    _watch_rate_limit_storage()
