"""Crafted input never answers 5xx and writes nothing.

Every operation of the app's OpenAPI document is walked: each body field (nested ones too) and each
query parameter in turn is set to a boundary value — 0, −1, 1.5, 2³¹, 2⁶³, the token NaN in the raw
body, 100 000 characters, BEL, ESC, U+202E, "1", true, dates of year 1 and 9999 with +14:00/−23:59 —
and a body nested 100 000 deep is sent once, each as every identity the permission matrices
(tests/*/test_permissions.py) let in, on rows of their worlds. The rest of the request is the matrix's
own (made valid below where it was not), so a value the schema lets through reaches the service and
the database. Verdict: never a 5xx; a 4xx is in the error shape and leaves every table's fingerprint
(rows, sum of each integer column, total length of each text column, trues of each boolean) as it
was; a 2xx means the value was legitimately valid (0 for an optional count, "1" as a name).
"""
from __future__ import annotations

import json
import re
import secrets
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa

from backend.accounts.enums import Role
from backend.extensions import db, limiter
from tests.matrix import fill

NAN = "\x00NaN\x00"  # stands for the bare token NaN in a raw JSON body
HUGE, BEL, ESC, RLO = "a" * 100_000, "\x07响铃", "\x1b[2J清屏", "\u202e反转"
NUMBERS = [0, -1, 1.5, 2**31, 2**63, NAN]
# every field gets the numbers, "1", true and the huge string; text the control characters too, and
# dates and times the years 1 and 9999 (a wrong type is one more 422: the numbers are what an
# integer field must bound, the text what a string field must refuse)
VALUES = {
    "integer": [*NUMBERS, "1", True, HUGE],
    "number": [*NUMBERS, "1", True, HUGE],
    "boolean": [*NUMBERS[:3], NAN, "1", HUGE],
    "string": [0, 1.5, NAN, "1", True, HUGE, BEL, ESC, RLO],
    "date": [0, "1", HUGE, BEL, "0001-01-01", "9999-12-31"],
    "date-time": [0, "1", HUGE, BEL, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"],
    "other": [0, -1, 1.5, 2**31, 2**63, NAN, "1", True, HUGE, BEL, ESC, RLO],
}
DEEP = "[" * 100_000 + "]" * 100_000
CHINESE = re.compile(r"[\u4e00-\u9fff]")
DEVICE = "device"
PAGING = {"page", "page_size"}
# writes a 4xx may make on purpose: a wrong SMS code counts as an attempt (accounts/service.py)
WRITES_ON_PURPOSE = {("POST", "/api/auth/login/phone"): {"sms_code"}}

# operations anyone may call, walked with these bodies instead of the base matrix's (which need its world)
OPEN = [
    ("POST", "/api/auth/sms-code", {"phone": "13800000001"}, {"anonymous"}),
    ("POST", "/api/auth/login/phone", {"phone": "13800000001", "code": "123456"}, {"anonymous"}),
    ("POST", "/api/auth/login/wechat-mini", {"code": "boundary-code"}, {"anonymous"}),
    ("POST", "/api/auth/login/wechat-oauth", {"code": "boundary-code"}, {"anonymous"}),
    ("GET", "/api/auth/demo-accounts", None, {"anonymous"}),
    ("POST", "/api/auth/demo-login", {"role": "entrepreneur"}, {"anonymous"}),
    ("POST", "/api/auth/refresh", None, {"anonymous"}),
    ("POST", "/api/scanner/provision", {"setup_code": "not-a-setup-code", "name": "边界测试"}, {"anonymous"}),
]
BASE_PLACEHOLDERS = {"{place}": "place_id", "{user}": "user_id", "{own_device}": "device_id", "{scanner}": "scanner_id"}


def _base_world(caller):
    """The rows tests/test_permissions.py fills its paths and bodies with."""
    from backend.core import signing
    from backend.core.codes import CodeType
    from tests.factories import make_device, make_place, make_scanner, make_user, p256_public_b64

    place = make_place()
    return {"place": place.id, "user": make_user("entrepreneur").id,
            "own_device": make_device(caller or make_user("entrepreneur")).id, "scanner": make_scanner(place)[0].id,
            "device_key": p256_public_b64(), "place_code": signing.sign_text(CodeType.place, {"place_id": place.id}),
            "_place": place}


def _voucher_world(caller):
    """tests/vouchers' world, plus what makes its bodies valid: a live scan of the voucher's holder by
    the world's provider staff, a provider registration with a valid credit code."""
    from backend.accounts.models import User
    from backend.vouchers import redemption
    from backend.vouchers.models import Voucher
    from tests.factories import make_device, make_place, pay_code, unique_credit_code
    from tests.vouchers.test_permissions import world

    ids = world(caller)
    if caller is not None and caller.has_role("provider_staff"):
        holder = db.session.get(User, db.session.get(Voucher, ids["voucher"]).holder_id)
        ids["scan_token"] = redemption.scan(staff=caller, code=pay_code(make_device(holder)))["scan_token"]
    ids["credit_code"] = unique_credit_code()
    ids["_place"] = make_place()
    return ids


def _events_world(caller):
    from tests.events.test_permissions import world

    return world(caller)


def _checkins_world(caller):
    from backend.places.models import Place
    from tests.checkins.test_permissions import world

    ids = world(caller)
    ids["_place"] = db.session.get(Place, ids["place"])
    return ids


def _programme_world(caller):
    from tests.programme.test_permissions import world

    return world(caller)


def _loans_world(caller):
    from tests.loans.test_permissions import world

    return world(caller)


def _scheduler_world(caller):
    return {"job": "cleanup"}  # a job that touches nothing a boundary value could break


def _matrices():
    """(name, endpoints, placeholders, world) of every permission matrix, with bodies made valid."""
    from tests import test_permissions as base
    from tests.checkins import test_permissions as checkins
    from tests.events import test_permissions as events
    from tests.loans import test_permissions as loans
    from tests.matrix import expected_status
    from tests.programme import test_permissions as programme
    from tests.scheduler import test_permissions as scheduler
    from tests.vouchers import test_permissions as vouchers

    provider = {"name": "边界测试服务机构", "credit_code": "{credit_code}", "categories": ["tax"], "district": "370811",
                "address": "任城区边界路 1 号", "contact_name": "联系人", "contact_phone": "13912345678"}
    valid = {("POST", "/api/providers"): provider,
             ("POST", "/api/provider/quote"): {**vouchers.REDEEM, "scan_token": "{scan_token}",
                                               "voucher_id": "{voucher}"},
             ("POST", "/api/provider/redemptions"): {**vouchers.REDEEM, "scan_token": "{scan_token}",
                                                     "voucher_id": "{voucher}", "idempotency_key": "boundary-key"}}
    fixed = [(m, p, valid.get((m, p), b), a) for m, p, b, a, _ in vouchers.ENDPOINTS]
    walked_here = {(m, p) for m, p, _, _ in OPEN}  # with the bodies above
    base_endpoints = [(m, p, b, {DEVICE} if a == base.DEVICE else a) for m, p, b, a, _ in base.ENDPOINTS
                      if (m, p) not in walked_here]
    events_endpoints = [(m, p, b, {DEVICE if w == "device" else w for w in a}) for m, p, b, a, _ in events.ENDPOINTS]
    # the station scanner syncs with its device token as well as staff do
    checkins_endpoints = [(m, p, b, a | {DEVICE} if p == "/api/checkins/sync" else a)
                          for m, p, b, a, _ in checkins.ENDPOINTS]
    return [("base", base_endpoints + OPEN, BASE_PLACEHOLDERS, _base_world),
            ("vouchers", fixed, vouchers.PLACEHOLDERS, _voucher_world),
            ("events", events_endpoints, events.PLACEHOLDERS, _events_world),
            ("checkins", checkins_endpoints, checkins.PLACEHOLDERS, _checkins_world),
            ("programme", [(m, p, b, a) for m, p, b, a, _ in programme.ENDPOINTS], programme.PLACEHOLDERS,
             _programme_world),
            ("scheduler", [(m, p, b, a) for m, p, b, a, _ in scheduler.ENDPOINTS], {"{job}": "job"},
             _scheduler_world),
            # walked as the callers a step succeeds for (the others are turned away whatever the body) and
            # as the roles only, not the handlers of another bank, station or district
            ("loans", [(m, p, b, {w for w in a if w in {"anonymous", *loans.ROLES} and expected_status(s, w)[0] < 400})
                       for m, p, b, a, s in loans.ENDPOINTS], loans.PLACEHOLDERS, _loans_world)]


def _openapi_path(path: str, placeholders: dict) -> str:
    path = path.split("?")[0].replace("/cover/card", "/cover/{size}")
    for placeholder, name in placeholders.items():
        path = path.replace(placeholder, "{" + name + "}")
    return path


# --- the fields of an operation ------------------------------------------------------------------------

def _resolve(spec, schema):
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in schema or "allOf" in schema:
            schema = next(s for s in schema.get("anyOf", schema.get("allOf")) if "$ref" in s)
        else:
            return schema


def _kind(spec, schema) -> str:
    schema = _resolve(spec, schema)
    if schema.get("format") in ("date", "date-time"):
        return schema["format"]
    return schema.get("type") if schema.get("type") in VALUES else "other"


def _body_fields(spec, schema, prefix=()):
    """(path, kind) of every field of a JSON body schema: (name,), (name, nested…), (list, 0) for an
    item of a list."""
    schema = _resolve(spec, schema)
    for name, prop in schema.get("properties", {}).items():
        path = (*prefix, name)
        prop = _resolve(spec, prop)
        yield path, _kind(spec, prop)
        if prop.get("type") == "array":
            items = _resolve(spec, prop.get("items", {}))
            yield (*path, 0), _kind(spec, items)
            if items.get("properties"):
                yield from _body_fields(spec, items, (*path, 0))
        elif prop.get("properties"):
            yield from _body_fields(spec, prop, path)


def _with(body, path, value):
    """A copy of ``body`` with the field at ``path`` set to ``value`` (containers made as needed)."""
    body = json.loads(json.dumps(body)) if body is not None else {}
    node = body
    for step, nxt in zip(path, path[1:]):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            if not isinstance(node[step], (dict, list)):
                node[step] = {}
            node = node[step]
        else:
            if not isinstance(node.get(step), (dict, list)):
                node[step] = [] if isinstance(nxt, int) else {}
            node = node[step]
    last = path[-1]
    if isinstance(last, int):
        node[:] = [value] + node[1:]
    else:
        node[last] = value
    return body


def _fresh(body):
    """New nonces and idempotency keys, so a valid request is done anew, not replayed."""
    if isinstance(body, dict):
        return {k: secrets.token_urlsafe(16) if k in ("nonce", "idempotency_key") and isinstance(v, str) else _fresh(v)
                for k, v in body.items()}
    if isinstance(body, list):
        return [_fresh(v) for v in body]
    return body


def _encode(body) -> str:
    return json.dumps(body, ensure_ascii=False).replace(json.dumps(NAN), "NaN")


def _query_text(value) -> str:
    return {NAN: "NaN", True: "true"}.get(value, str(value)) if not isinstance(value, float) else str(value)


# --- nothing written ---------------------------------------------------------------------------------------

def _fingerprint_query():
    """One statement: per table its rows, and per column the sum (numbers), total length (text, JSON,
    bytes) or count of trues (booleans) — what any insert, update or delete would move — as one text."""
    parts = []
    for table in db.metadata.sorted_tables:
        summary = sa.cast(sa.func.count(), sa.String)
        for column in table.columns:
            kind = column.type.impl if isinstance(column.type, sa.types.TypeDecorator) else column.type
            if isinstance(kind, sa.Boolean):
                expr = sa.func.sum(sa.case((column.is_(True), sa.literal_column("1")), else_=sa.literal_column("0")))
            elif isinstance(kind, (sa.Integer, sa.Float, sa.Numeric)):
                expr = sa.func.sum(column)
            elif isinstance(kind, sa.JSON):
                expr = sa.func.sum(sa.func.length(sa.cast(column, sa.Text)))
            elif isinstance(kind, (sa.String, sa.LargeBinary)):
                expr = sa.func.sum(sa.func.length(column))
            else:
                continue
            summary = summary + sa.literal_column("','") + sa.cast(sa.func.coalesce(expr, sa.literal_column("0")), sa.String)
        name = sa.literal_column(f"'{table.name}'", sa.String)
        parts.append(sa.select(name.label("name"), summary.label("summary")).select_from(table))
    return sa.union_all(*parts)


def _fingerprint(query) -> dict:
    """On PostgreSQL a prepared statement of our own: the app's many statements push it out of
    psycopg's cache, and planning 45 unions each time would be most of this test's run time. On SQLite
    its SQL text, compiled once: looking the statement up in SQLAlchemy's compiled cache meant hashing
    its whole cache key (45 unions) each time, ~1 ms."""
    if db.session.get_bind().dialect.name != "postgresql":
        sql = _SQL.get(query)
        if sql is None:
            sql = _SQL[query] = str(query.compile(dialect=db.session.get_bind().dialect))
        return dict(db.session.connection().exec_driver_sql(sql).all())
    prepared = sa.text("SELECT 1 FROM pg_prepared_statements WHERE name = 'boundary_fingerprint'")
    if db.session.execute(prepared).scalar() is None:
        sql = str(query.compile(dialect=db.session.get_bind().dialect))
        db.session.execute(sa.text(f"PREPARE boundary_fingerprint AS {sql}"))
    return dict(db.session.execute(sa.text("EXECUTE boundary_fingerprint")).all())


_SQL: dict = {}
# the first word of statements that cannot change a row (anything else may: INSERT, UPDATE, DELETE,
# WITH … (a CTE may write), DDL, EXECUTE, …)
READ_ONLY = {"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA", "SHOW"}


class WriteWatch:
    """Whether any statement that may write has run, on any engine of this process, since the last
    fingerprint: if none has, the tables are as that fingerprint saw them and it is not taken again
    (a fingerprint reads every row of every table; most requests of the walk are refused before a
    write, many before the database)."""

    def __init__(self, query):
        self.query, self.last, self.writes, self.paused, self.taken = query, None, 0, False, 0

    def __call__(self, _conn, _cursor, statement, *_args):
        if not self.paused and statement.lstrip().split(None, 1)[0].upper() not in READ_ONLY:
            self.writes += 1

    def fingerprint(self) -> dict:
        if self.last is None or self.writes:
            self.paused = True
            try:
                self.last = _fingerprint(self.query)
            finally:
                self.paused = False
            self.writes = 0
            self.taken += 1
        return self.last


def _changed(before: dict, after: dict, allowed: set[str]) -> list[str]:
    return [name for name in before if before[name] != after[name] and name not in allowed]


# --- the walk ------------------------------------------------------------------------------------------------

def test_no_boundary_value_answers_5xx_or_writes_on_a_4xx(app, client, make_user, auth, monkeypatch):
    from types import SimpleNamespace

    from tests.factories import make_scanner

    spec = client.get("/api/openapi.json").get_json()
    operations = {(method.upper(), path): op for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")}
    callers = {role.value: make_user(role) for role in Role}
    # a token needs only the id: reading it from the User after each request's commit reloaded the row
    signed = {who: SimpleNamespace(id=user.id) for who, user in callers.items()}
    watch = WriteWatch(_fingerprint_query())
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", watch)
    try:
        before = watch.fingerprint()
        make_user("entrepreneur")
        db.session.flush()
        assert watch.writes and watch.fingerprint() != before  # the watch sees a write, the fingerprint too
        _walk(spec, operations, callers, signed, watch, client, auth, make_scanner)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", watch)


def _walk(spec, operations, callers, signed, watch, client, auth, make_scanner):
    failures, walked, sent = [], set(), 0

    def headers_of(who, ids):
        if who == "anonymous":
            return {}
        if who == DEVICE:
            if "_device_token" not in ids:
                ids["_device_token"] = make_scanner(ids["_place"])[1]
            return {"X-Device-Token": ids["_device_token"]}
        return auth(signed[who])  # a new token each time: a valid logout revokes the one it was sent with

    def send(label, method, url, headers, allowed_writes, *, data=None, query_args=None):
        nonlocal sent
        limiter.reset()
        before = watch.fingerprint()  # taken again only if something may have written since the last
        full = url + ("?" + urlencode(query_args) if query_args else "")
        response = client.open(full, method=method, data=data, headers=headers,
                               content_type="application/json" if data is not None else None)
        sent += 1
        status = response.status_code
        if status >= 500:
            failures.append(f"{label}: {status} {response.get_data(as_text=True)[:200]}")
        elif status >= 400:
            body = response.get_json(silent=True)
            if not (isinstance(body, dict) and set(body) == {"code", "message", "details"}
                    and CHINESE.search(body["message"] or "") and isinstance(body["details"], dict)):
                failures.append(f"{label}: {status} not in the error shape: {response.get_data(as_text=True)[:200]}")
            after = watch.fingerprint()
            changed = _changed(before, after, allowed_writes)
            if changed:
                failures.append(f"{label}: {status} {body and body.get('code')} but wrote {changed[:5]}")

    for name, endpoints, placeholders, make_world in _matrices():
        worlds = {}
        for method, path, body, allowed in endpoints:
            key = (method, _openapi_path(path, placeholders))
            op = operations.get(key)
            if op is None:
                continue
            walked.add(key)
            allowed_writes = WRITES_ON_PURPOSE.get(key, set())
            json_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body_fields = list(_body_fields(spec, json_schema)) if json_schema else []
            query_fields = [(p["name"], _kind(spec, p.get("schema", {}))) for p in op.get("parameters", [])
                            if p.get("in") == "query"]
            for who in sorted(allowed):
                if who not in worlds:
                    worlds[who] = make_world(callers.get(who))
                ids = worlds[who]
                url = path.format(**{k: v for k, v in ids.items() if not k.startswith("_")})
                url, _, base_query = url.partition("?")
                base_query = dict(parse_qsl(base_query))
                base_body = fill(body, ids) if isinstance(body, dict) else ({} if json_schema else None)
                label = f"{method} {path} as {who}"
                send(f"{label}, nested 100000 deep", method, url, headers_of(who, ids), allowed_writes,
                     data=DEEP, query_args=base_query)
                for field, kind in body_fields:
                    for value in VALUES[kind]:
                        send(f"{label}, {'.'.join(map(str, field))}={str(value)[:30]!r}", method, url,
                             headers_of(who, ids), allowed_writes, query_args=base_query,
                             data=_encode(_with(_fresh(base_body), field, value)))
                for param, kind in query_fields:
                    if param in PAGING and who != min(allowed):
                        continue  # one paging schema for every list (core/api.py): walked as one identity
                    for value in VALUES[kind]:
                        send(f"{label}, ?{param}={_query_text(value)[:30]!r}", method, url, headers_of(who, ids),
                             allowed_writes, query_args={**base_query, param: _query_text(value)},
                             data=_encode(_fresh(base_body)) if base_body is not None else None)
    assert set(operations) - walked == set(), "operations no permission matrix lists"
    print("SENT", sent, "fingerprints", watch.taken)
    assert sent > 3000
    assert not failures, f"{len(failures)} of {sent} requests:\n" + "\n".join(failures[:60])
