"""Every check-in endpoint × every role + anonymous: the exact status each caller gets (tests/matrix.py),
exactly 401/403 for those who may not; and the scanner-device endpoints with a device token."""
import secrets

import pytest

from backend.accounts.enums import Role
from backend.core import signing
from backend.core.codes import CodeType, Purpose
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules

ROLES = [r.value for r in Role]
ENTREPRENEUR = {"entrepreneur"}
STAFF = {"station_staff", "admin"}
ADMIN = {"admin"}
TODAY = "2026-01-01"

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("POST", "/api/checkins/visits", {"code": "{place_code}", "purpose": "policy", "nonce": "{nonce}"}, ENTREPRENEUR,
     201),
    ("GET", "/api/checkins/visits", None, STAFF, 200),
    ("GET", "/api/me/visits", None, ENTREPRENEUR, 200),
    ("POST", "/api/checkins/sync", {"items": [{"nonce": "{nonce}", "code": "{personal}", "purpose": "loan"}],
                                    "place_id": "{place}"}, STAFF, 200),
    ("GET", "/api/checkins/today?place_id={place}", None, STAFF, 200),
    ("GET", f"/api/checkins/figures?day_from={TODAY}&day_to={TODAY}", None, STAFF, 200),
    ("GET", f"/api/checkins/export?day_from={TODAY}&day_to={TODAY}&format=csv", None, STAFF, 200),
    ("GET", "/api/admin/checkin-scans", None, ADMIN, 200),
    ("POST", "/api/admin/checkin-scans/{scan}/review", {"note": "权限测试核查"}, ADMIN, 200),
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




def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses(ENDPOINTS, {"anonymous", *ROLES})


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed, status):
    caller = None if who == "anonymous" else make_user(who)
    ids = world(caller)
    headers = {} if caller is None else auth(caller)
    response = client.open(path.format(**ids), method=method, json=fill(body, ids), headers=headers)
    assert_permission(response, who, allowed, status)


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
