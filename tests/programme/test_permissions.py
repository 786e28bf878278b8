"""Every programme endpoint × every role + anonymous: the exact status each caller gets (tests/matrix.py),
exactly 401/403 for those who may not."""
import pytest

from backend.accounts.enums import Role
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules

ROLES = [r.value for r in Role]
ADMIN = {"admin"}

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("GET", "/api/admin/dashboard?year=2026&region=370800", None, ADMIN, 200),
    ("GET", "/api/admin/dashboard.xlsx?year=2026&region=370800", None, ADMIN, 200),
    ("GET", "/api/admin/targets", None, ADMIN, 200),
    ("POST", "/api/admin/targets", {"year": 2030, "region_code": "370811", "measure": "events_held", "value": 12,
                                    "plan": "权限测试方案"}, ADMIN, 201),
    ("PATCH", "/api/admin/targets/{target}", {"value": 30}, ADMIN, 200),
    ("DELETE", "/api/admin/targets/{target}", None, ADMIN, 204),
]
PLACEHOLDERS = {"{target}": "target_id"}


def world(caller):
    from backend.extensions import db
    from backend.programme.enums import Measure
    from backend.programme.models import ProgrammeTarget

    target = ProgrammeTarget(year=2031, region_code="370800", measure=Measure.mentor_visits, value=20, unit="场",
                             plan="权限测试方案")
    db.session.add(target)
    db.session.flush()
    return {"target": target.id}


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


def test_every_programme_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    routes = app_rules(app, ("/api/admin/dashboard", "/api/admin/targets"))
    assert routes - table == set()
    assert table - routes == set()
