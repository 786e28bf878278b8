"""Every check-in endpoint × every role + anonymous: who gets in, who gets exactly 401/403; and the
scanner-device endpoints with a device token."""
import secrets

import pytest

from backend.accounts.enums import Role
from backend.core import signing
from backend.core.codes import CodeType, Purpose
from tests.matrix import app_rules, assert_permission, fill, table_rules

ROLES = [r.value for r in Role]
ENTREPRENEUR = {"entrepreneur"}
STAFF = {"station_staff", "admin"}
ADMIN = {"admin"}
TODAY = "2026-01-01"

ENDPOINTS = [
    ("POST", "/api/checkins/visits", {"code": "{place_code}", "purpose": "policy", "nonce": "{nonce}"}, ENTREPRENEUR),
    ("GET", "/api/checkins/visits", None, STAFF),
    ("GET", "/api/me/visits", None, ENTREPRENEUR),
    ("POST", "/api/checkins/sync", {"items": [{"nonce": "{nonce}", "code": "{personal}", "purpose": "loan"}],
                                    "place_id": "{place}"}, STAFF),
    ("GET", "/api/checkins/today?place_id={place}", None, STAFF),
    ("GET", f"/api/checkins/figures?day_from={TODAY}&day_to={TODAY}", None, STAFF),
    ("GET", f"/api/checkins/export?day_from={TODAY}&day_to={TODAY}&format=csv", None, STAFF),
    ("GET", "/api/admin/checkin-scans", None, ADMIN),
    ("POST", "/api/admin/checkin-scans/{scan}/review", {"note": "权限测试核查"}, ADMIN),
]
PLACEHOLDERS = {"{scan}": "scan_id"}


def world(caller):
    from backend.accounts import service as accounts
    from backend.checkins.models import Scan
    from backend.extensions import db
    from tests.factories import make_device, make_entrepreneur, make_place, pay_code

    place = make_place()
    if caller is not None and caller.has_role("station_staff"):
        accounts.grant_role(actor=None, user=caller, role=Role.station_staff, place_id=place.id)
    scan = Scan(nonce=secrets.token_urlsafe(16), result="rejected", reason="malformed", place_id=place.id)
    db.session.add(scan)
    db.session.flush()
    return {"place": place.id, "scan": scan.id, "nonce": secrets.token_urlsafe(16),
            "place_code": signing.sign_text(CodeType.place, {"place_id": place.id}),
            "personal": pay_code(make_device(make_entrepreneur()), purpose=Purpose.identify)}




@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed):
    caller = None if who == "anonymous" else make_user(who)
    ids = world(caller)
    headers = {} if caller is None else auth(caller)
    response = client.open(path.format(**ids), method=method, json=fill(body, ids), headers=headers)
    assert_permission(response, who, allowed)


@pytest.mark.parametrize("path", ["/api/checkins/sync", "/api/checkins/today"])
def test_scanner_device_works_with_its_token_only(client, path):
    from tests.factories import make_place, make_scanner

    ids = world(None)
    _, token = make_scanner(make_place())
    body = fill(ENDPOINTS[3][2], ids) if path.endswith("sync") else None
    if body:
        body.pop("place_id")
    method = "POST" if body else "GET"
    ok = client.open(path, method=method, json=body, headers={"X-Device-Token": token})
    assert ok.status_code == 200, ok.get_json()
    bad = client.open(path, method=method, json=body, headers={"X-Device-Token": "not-a-token"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "device_unauthorized"


def test_a_station_staff_member_without_a_place_is_refused(client, make_user, auth):
    staff = make_user("station_staff")
    answer = client.get("/api/checkins/today", headers=auth(staff))
    assert answer.status_code == 403 and answer.get_json()["code"] == "forbidden"


def test_every_checkin_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    prefixes = ("/api/checkins", "/api/me/visits", "/api/admin/checkin-scans")
    routes = app_rules(app, prefixes)
    assert routes - table == set()
    assert table - routes == set()
