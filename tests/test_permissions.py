"""Every endpoint × every role + anonymous: the exact status each caller gets. Places, accounts, login,
devices and codes are here; vouchers, events, check-ins, loans… have their matrices beside their tests, and
every operation of the OpenAPI document has a row in one of them."""
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token

from backend.accounts.enums import Role
from tests.matrix import (app_rules, assert_permission, check_statuses, fill, row_id, table_operations,
                          table_rules)

ROLES = [r.value for r in Role]
ANYONE = {"anonymous", *ROLES}
LOGGED_IN = set(ROLES)
ADMIN = {"admin"}
STAFF = {"provider_staff", "station_staff", "organiser", "admin"}
DEVICE = "scanner device token"

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("GET", "/api/meta", None, ANYONE, 200),
    ("GET", "/api/places", None, ANYONE, 200),
    ("GET", "/api/places/{place}", None, ANYONE, 200),
    ("GET", "/api/places/{place}/poster.png", None, ANYONE, 200),
    ("GET", "/api/places/{place}/poster.pdf", None, ANYONE, 200),
    ("GET", "/api/admin/places", None, ADMIN, 200),
    ("GET", "/api/admin/places/{place}", None, ADMIN, 200),
    ("POST", "/api/places", {"kind": "market", "name": "权限测试市场", "district": "370811"}, ADMIN, 201),
    ("PATCH", "/api/places/{place}", {"opening_hours": "全天"}, ADMIN, 200),
    ("POST", "/api/auth/sms-code", {"phone": "{phone}"}, ANYONE, 200),
    ("POST", "/api/auth/login/phone", {"phone": "{sms_phone}", "code": "{sms_code}"}, ANYONE, 200),
    ("POST", "/api/auth/login/wechat-mini", {"code": "{wechat_mini_code}"}, ANYONE, 200),
    ("POST", "/api/auth/login/wechat-oauth", {"code": "{wechat_oa_code}"}, ANYONE, 200),
    ("GET", "/api/auth/demo-accounts", None, ANYONE, 200),
    ("POST", "/api/auth/demo-login", {"role": "entrepreneur"}, ANYONE, 200),
    ("POST", "/api/auth/refresh", None, LOGGED_IN, 200),  # sent with the caller's refresh token
    ("POST", "/api/auth/logout", {}, LOGGED_IN, 204),
    ("GET", "/api/me", None, LOGGED_IN, 200),
    ("PATCH", "/api/me", {"name": "改个名"}, LOGGED_IN, 200),
    ("GET", "/api/admin/users", None, ADMIN, 200),
    ("POST", "/api/admin/users/{user}/roles", {"role": "organiser", "place_id": "{place}"}, ADMIN, 200),
    ("DELETE", "/api/admin/users/{user}/roles?role=entrepreneur", None, ADMIN, 200),
    ("GET", "/api/admin/audit-log", None, ADMIN, 200),
    ("GET", "/api/admin/audit-log.xlsx", None, ADMIN, 200),
    ("PATCH", "/api/admin/users/{user}", {"is_active": False}, ADMIN, 200),
    ("GET", "/api/keys", None, ANYONE, 200),
    ("GET", "/api/me/devices", None, LOGGED_IN, 200),
    ("POST", "/api/me/devices", {"public_key": "{device_key}", "name": "测试手机"}, LOGGED_IN, 201),
    ("DELETE", "/api/me/devices/{own_device}", None, LOGGED_IN, 204),
    ("POST", "/api/me/devices/{own_device}/credential", None, LOGGED_IN, 200),
    ("POST", "/api/places/{place}/scanner-setups", None, ADMIN, 201),
    ("GET", "/api/places/{place}/scanners", None, ADMIN, 200),
    ("PATCH", "/api/scanners/{scanner}", {"name": "前台新手机"}, ADMIN, 200),
    ("DELETE", "/api/scanners/{scanner}", None, ADMIN, 200),
    # development only: the demo station staff's phone provisions itself (the caller's own place)
    ("POST", "/api/scanner/demo-setup", None, {"station_staff"}, (404, "place_not_found")),
    ("POST", "/api/scanner/provision", {"setup_code": "{setup_code}", "name": "权限测试扫码枪"}, ANYONE, 201),
    ("GET", "/api/scanner/bundle", None, DEVICE, 200),
    ("POST", "/api/scanner/verify", {"code": "{place_code}", "expect": "place"}, DEVICE, 200),
    ("POST", "/api/codes/verify", {"code": "{place_code}", "expect": "place"}, STAFF, 200),
]
PLACEHOLDERS = {"{place}": "place_id", "{user}": "user_id", "{own_device}": "device_id", "{scanner}": "scanner_id"}


class _KeptCode:
    """An SMS sender that keeps the code instead of sending it."""

    code = None

    def send_login_code(self, *, phone: str, code: str, ttl_seconds: int) -> None:
        self.code = code


def world(caller, wechat):
    """Rows each placeholder points at; the caller's own device when there is a caller."""
    from flask import current_app

    from backend.accounts import service as accounts
    from backend.core import signing
    from backend.core.codes import CodeType
    from backend.devices import service as devices
    from tests.factories import make_device, make_place, make_scanner, make_user, next_phone, p256_public_b64

    place = make_place()
    target = make_user("entrepreneur")
    phone, demo_phone = next_phone(), accounts.DEMO_PHONES[Role.entrepreneur][0]
    if accounts.find_by_phone(phone=demo_phone) is None:
        accounts.create_user(phone=demo_phone, name="张创业")
    kept, extensions = _KeptCode(), current_app.extensions
    sender, extensions["sms_sender"] = extensions.get("sms_sender"), kept
    try:
        accounts.request_login_code(phone=phone)
    finally:
        extensions["sms_sender"] = sender
    _, setup_code = devices.create_setup(actor=make_user("admin"), place=place)
    return {"place": place.id, "user": target.id, "own_device": make_device(caller or target).id,
            "scanner": make_scanner(place)[0].id, "device_key": p256_public_b64(),
            "place_code": signing.sign_text(CodeType.place, {"place_id": place.id}), "phone": next_phone(),
            "sms_phone": phone, "sms_code": kept.code, "wechat_mini_code": wechat.issue(),
            "wechat_oa_code": wechat.issue(), "setup_code": setup_code, "_place": place}


def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses([(m, p, b, {"device"} if a == DEVICE else a, s) for m, p, b, a, s in ENDPOINTS],
                   {"anonymous", "device", *ROLES})


def _matrices():
    from tests.checkins import test_permissions as checkins
    from tests.events import test_permissions as events
    from tests.loans import test_permissions as loans
    from tests.programme import test_permissions as programme
    from tests.scheduler import test_permissions as scheduler
    from tests.vouchers import test_permissions as vouchers

    return [(ENDPOINTS, PLACEHOLDERS),
            *((m.ENDPOINTS, m.PLACEHOLDERS) for m in (vouchers, events, checkins, programme, scheduler, loans))]


def test_every_openapi_operation_has_a_row(client):
    spec = client.get("/api/openapi.json").get_json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    table = set().union(*(table_operations(rows, placeholders) for rows, placeholders in _matrices()))
    assert operations - table == set(), "operations without a row in a permission matrix"
    assert table - operations == set(), "rows for operations the OpenAPI document does not have"


def test_every_api_route_is_an_openapi_operation_with_a_row(app):
    documentation = {("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/api/docs/assets/<path:filename>")}
    table = set().union(*(table_rules(rows, placeholders) for rows, placeholders in _matrices()))
    assert app_rules(app, ("/api/",)) - documentation - table == set()


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
def test_permission(client, make_user, wechat_fake, who, method, path, body, allowed, status):
    from tests.factories import make_scanner

    caller = None if who == "anonymous" else make_user(who)
    ids = world(caller, wechat_fake)
    url = path.format(**{k: v for k, v in ids.items() if not k.startswith("_")})
    token = create_refresh_token if path == "/api/auth/refresh" else create_access_token
    headers = {} if caller is None else {"Authorization": f"Bearer {token(identity=str(caller.id))}"}
    response = client.open(url, method=method, json=fill(body, ids), headers=headers)
    if allowed == DEVICE:
        assert response.status_code == 401 and response.get_json()["code"] == "device_unauthorized"
        _, device_token = make_scanner(ids["_place"])
        ok = client.open(url, method=method, json=fill(body, ids), headers={**headers, "X-Device-Token": device_token})
        assert ok.status_code == status and status < 400, ok.get_json()
    else:
        assert_permission(response, who, allowed, status)
