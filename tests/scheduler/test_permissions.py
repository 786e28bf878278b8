"""The scheduler's admin endpoints × every role + anonymous: the exact status each caller gets."""
import pytest

from backend.accounts.enums import Role
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules

ROLES = [r.value for r in Role]
ADMIN = {"admin"}

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("GET", "/api/admin/jobs", None, ADMIN, 200),
    ("GET", "/api/admin/job-runs", None, ADMIN, 200),
    ("POST", "/api/admin/jobs/{job}/run", None, ADMIN, 200),
]
PLACEHOLDERS = {"{job}": "str:job"}


def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses(ENDPOINTS, {"anonymous", *ROLES})


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed, status):
    caller = None if who == "anonymous" else make_user(who)
    ids = {"job": "cleanup"}
    headers = {} if caller is None else auth(caller)
    response = client.open(path.format(**ids), method=method, json=fill(body, ids), headers=headers)
    assert_permission(response, who, allowed, status)


def test_every_scheduler_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    routes = app_rules(app, ("/api/admin/jobs", "/api/admin/job-runs"))
    assert routes - table == set()
    assert table - routes == set()
