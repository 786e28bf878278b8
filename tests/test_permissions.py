"""Every endpoint × every role + anonymous: who gets in, who gets 401/403."""
import pytest

from backend.accounts.enums import Role

ROLES = [r.value for r in Role]
ANYONE = {"anonymous", *ROLES}
LOGGED_IN = set(ROLES)
ADMIN = {"admin"}

# method, path, json body, who may call it
ENDPOINTS = [
    ("GET", "/api/meta", None, ANYONE),
    ("GET", "/api/places", None, ANYONE),
    ("GET", "/api/places/{place}", None, ANYONE),
    ("POST", "/api/places", {"kind": "market", "name": "权限测试市场", "district": "370811"}, ADMIN),
    ("PATCH", "/api/places/{place}", {"opening_hours": "全天"}, ADMIN),
    ("GET", "/api/me", None, LOGGED_IN),
    ("PATCH", "/api/me", {"name": "改个名"}, LOGGED_IN),
    ("POST", "/api/auth/logout", {}, LOGGED_IN),
    ("GET", "/api/admin/users", None, ADMIN),
    ("POST", "/api/admin/users/{user}/roles", {"role": "organiser"}, ADMIN),
    ("DELETE", "/api/admin/users/{user}/roles?role=entrepreneur", None, ADMIN),
    ("GET", "/api/admin/audit-log", None, ADMIN),
]


def test_every_api_route_is_in_the_table(app):
    documented = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
                  for m in r.methods - {"HEAD", "OPTIONS"}}
    open_by_design = {"/api/openapi.json", "/api/docs", "/api/docs/assets/<path:filename>", "/api/auth/sms-code",
                      "/api/auth/login/phone", "/api/auth/login/wechat-mini", "/api/auth/login/wechat-oauth",
                      "/api/auth/demo-accounts", "/api/auth/demo-login", "/api/auth/refresh"}
    table = {(m, p.split("?")[0].replace("{place}", "<int(max=2147483647):place_id>").replace("{user}", "<int(max=2147483647):user_id>"))
             for m, p, _, _ in ENDPOINTS}
    missing = {(m, rule) for m, rule in documented if rule not in open_by_design} - table
    assert missing == set()


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed):
    from tests.factories import make_place

    place = make_place()
    target = make_user("entrepreneur")
    headers = {} if who == "anonymous" else auth(make_user(who))
    url = path.format(place=place.id, user=target.id)
    response = client.open(url, method=method, json=body, headers=headers)
    if who in allowed:
        assert response.status_code < 400, response.get_json()
    elif who == "anonymous":
        assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"
    else:
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
