"""Every endpoint × every role + anonymous: who gets in, who gets 401/403."""
import pytest

from backend.accounts.enums import Role
from tests.matrix import table_rules

ROLES = [r.value for r in Role]
ANYONE = {"anonymous", *ROLES}
LOGGED_IN = set(ROLES)
ADMIN = {"admin"}
STAFF = {"provider_staff", "station_staff", "organiser", "admin"}
DEVICE = "scanner device token"

# method, path, json body, who may call it
ENDPOINTS = [
    ("GET", "/api/meta", None, ANYONE),
    ("GET", "/api/places", None, ANYONE),
    ("GET", "/api/places/{place}", None, ANYONE),
    ("GET", "/api/places/{place}/poster.png", None, ANYONE),
    ("POST", "/api/places", {"kind": "market", "name": "权限测试市场", "district": "370811"}, ADMIN),
    ("PATCH", "/api/places/{place}", {"opening_hours": "全天"}, ADMIN),
    ("GET", "/api/me", None, LOGGED_IN),
    ("PATCH", "/api/me", {"name": "改个名"}, LOGGED_IN),
    ("POST", "/api/auth/logout", {}, LOGGED_IN),
    ("GET", "/api/admin/users", None, ADMIN),
    ("POST", "/api/admin/users/{user}/roles", {"role": "organiser"}, ADMIN),
    ("DELETE", "/api/admin/users/{user}/roles?role=entrepreneur", None, ADMIN),
    ("GET", "/api/admin/audit-log", None, ADMIN),
    ("PATCH", "/api/admin/users/{user}", {"is_active": False}, ADMIN),
    ("GET", "/api/keys", None, ANYONE),
    ("GET", "/api/me/devices", None, LOGGED_IN),
    ("POST", "/api/me/devices", {"public_key": "{device_key}", "name": "测试手机"}, LOGGED_IN),
    ("DELETE", "/api/me/devices/{own_device}", None, LOGGED_IN),
    ("POST", "/api/me/devices/{own_device}/credential", None, LOGGED_IN),
    ("POST", "/api/places/{place}/scanner-setups", None, ADMIN),
    ("GET", "/api/places/{place}/scanners", None, ADMIN),
    ("DELETE", "/api/scanners/{scanner}", None, ADMIN),
    ("GET", "/api/scanner/bundle", None, DEVICE),
    ("POST", "/api/scanner/verify", {"code": "{place_code}", "expect": "place"}, DEVICE),
    ("POST", "/api/codes/verify", {"code": "{place_code}", "expect": "place"}, STAFF),
]


def test_every_api_route_is_in_the_table(app):
    documented = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
                  for m in r.methods - {"HEAD", "OPTIONS"}}
    open_by_design = {"/api/openapi.json", "/api/docs", "/api/docs/assets/<path:filename>", "/api/auth/sms-code",
                      "/api/auth/login/phone", "/api/auth/login/wechat-mini", "/api/auth/login/wechat-oauth",
                      "/api/auth/demo-accounts", "/api/auth/demo-login", "/api/auth/refresh",
                      "/api/scanner/provision"}
    names = {"{place}": "place_id", "{user}": "user_id", "{own_device}": "device_id", "{scanner}": "scanner_id"}
    table = set()
    for m, p, _, _ in ENDPOINTS:
        rule = p.split("?")[0]
        for placeholder, name in names.items():
            rule = rule.replace(placeholder, f"<int(max=2147483647):{name}>")
        table.add((m, rule))
    from tests.checkins import test_permissions as checkins
    from tests.events import test_permissions as events
    from tests.vouchers import test_permissions as vouchers

    for matrix in (vouchers, events, checkins):  # vouchers, providers, uploads, notifications, events, check-ins
        table |= table_rules(matrix.ENDPOINTS, matrix.PLACEHOLDERS)
    missing = {(m, rule) for m, rule in documented if rule not in open_by_design} - table
    assert missing == set()


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed):
    from tests.factories import make_device, make_place, make_scanner, p256_public_b64
    from backend.core import signing
    from backend.core.codes import CodeType

    place = make_place()
    target = make_user("entrepreneur")
    caller = None if who == "anonymous" else make_user(who)
    headers = {} if caller is None else auth(caller)
    own_device = make_device(caller or target)
    url = path.format(place=place.id, user=target.id, own_device=own_device.id, scanner=make_scanner(place)[0].id)
    values = {"{device_key}": p256_public_b64(), "{place_code}": signing.sign_text(CodeType.place, {"place_id": place.id})}
    body = {k: values.get(v, v) for k, v in body.items()} if body else body
    response = client.open(url, method=method, json=body, headers=headers)
    if allowed == DEVICE:
        assert response.status_code == 401 and response.get_json()["code"] == "device_unauthorized"
        _, token = make_scanner(place)
        ok = client.open(url, method=method, json=body, headers={**headers, "X-Device-Token": token})
        assert ok.status_code == 200, ok.get_json()
    elif who in allowed:
        assert response.status_code < 400, response.get_json()
    elif who == "anonymous":
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
    else:
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
