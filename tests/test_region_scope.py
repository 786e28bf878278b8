"""Administrators are bound to a region: a city or district administrator sees and manages only what
lies inside it. Every operation an administrator may call (each row of the permission matrices that
lets "admin" in, apart from what every signed-in person may call) is asked here by an administrator of
another district (邹城市, 370883) about the matrices' world, which lies in 任城区 (370811): a record
answers 404 or 403 in the error shape, a list answers with none of it, a figure counts none of it, a
new record there is refused. The same rows as a province administrator are the matrices' own tests."""
import importlib
import io
import json

import pytest
from openpyxl import load_workbook

from backend.accounts.enums import Role
from tests.matrix import fill

MATRICES = ["tests.test_permissions", "tests.vouchers.test_permissions", "tests.events.test_permissions",
            "tests.checkins.test_permissions", "tests.programme.test_permissions", "tests.loans.test_permissions"]
OTHER_DISTRICT = "370883"  # 邹城市; the matrices' worlds are in 任城区

# How another district's administrator is answered, row by row:
#   hidden  404 or 403 in the error shape (a record of another region; a new one put there)
#   empty   200, a list holding nothing but the caller themself (the people list shows its reader)
#   figures 200, no rows and nothing counted
#   file    200, an export without the world's place in it
#   own     not regional: verifying a code, a door or station scan (refused per item, as for anyone
#           who is not staff there)
HIDDEN, EMPTY, FIGURES, FILE, OWN = "hidden", "empty", "figures", "file", "own"
EMPTY_XLSX = "an XLSX with its title and header and no row"
EXPECT = {
    "DELETE /api/admin/users/{user}/roles?role=entrepreneur": HIDDEN,
    "DELETE /api/scanners/{scanner}": HIDDEN,
    "PATCH /api/scanners/{scanner}": HIDDEN,
    "GET /api/admin/places": EMPTY,
    "GET /api/admin/places/{place}": HIDDEN,
    "GET /api/admin/audit-log": EMPTY,
    "GET /api/admin/audit-log.xlsx": EMPTY_XLSX,
    "GET /api/admin/checkin-scans": EMPTY,
    "GET /api/admin/providers": EMPTY,
    "GET /api/admin/providers/{provider}/objections": HIDDEN,
    "GET /api/admin/statements": EMPTY,
    "GET /api/admin/statements/{statement}/export?format=xlsx": HIDDEN,
    "GET /api/admin/users": EMPTY,
    "GET /api/admin/voucher-applications": EMPTY,
    "GET /api/admin/voucher-batches": EMPTY,
    "GET /api/admin/voucher-batches/{batch}": HIDDEN,
    "GET /api/checkins/export?day_from=2026-01-01&day_to=2026-01-01&format=csv": FILE,
    "GET /api/checkins/figures?day_from=2026-01-01&day_to=2026-01-01": FIGURES,
    "GET /api/checkins/today?place_id={place}": HIDDEN,
    "GET /api/checkins/visits": EMPTY,
    "GET /api/organiser/events": EMPTY,
    "GET /api/organiser/events/{event}": HIDDEN,
    "GET /api/organiser/events/{event}/counts": HIDDEN,
    "GET /api/organiser/events/{event}/door-list": HIDDEN,
    "GET /api/organiser/events/{event}/export?format=csv": HIDDEN,
    "GET /api/organiser/events/{event}/registrations": HIDDEN,
    "GET /api/organiser/events/{event}/scans": HIDDEN,
    "GET /api/organiser/figures": FIGURES,
    "GET /api/organiser/places": EMPTY,
    "GET /api/places/{place}/scanners": HIDDEN,
    "PATCH /api/admin/users/{user}": HIDDEN,
    "PATCH /api/admin/voucher-batches/{batch}": HIDDEN,
    "PATCH /api/organiser/events/{event}": HIDDEN,
    "PATCH /api/places/{place}": HIDDEN,
    "POST /api/admin/checkin-scans/{scan}/review": HIDDEN,
    "POST /api/admin/providers/{provider}/decision": HIDDEN,
    "POST /api/admin/statements/{statement}/decision": HIDDEN,
    "POST /api/admin/users/{user}/roles": HIDDEN,
    "POST /api/admin/voucher-applications/{application}/decision": HIDDEN,
    "POST /api/admin/voucher-batches": HIDDEN,
    "POST /api/admin/voucher-batches/{batch}/state": HIDDEN,
    "POST /api/checkins/sync": HIDDEN,
    "POST /api/codes/verify": OWN,
    "POST /api/events/checkins": OWN,
    "POST /api/organiser/events": HIDDEN,
    "POST /api/organiser/events/{draft}/publish": HIDDEN,
    "POST /api/organiser/events/{event}/cancel": HIDDEN,
    "POST /api/organiser/events/{event}/registrations/{pending}/approve": HIDDEN,
    "POST /api/organiser/events/{event}/registrations/{pending}/reject": HIDDEN,
    "POST /api/places": HIDDEN,
    "POST /api/places/{place}/scanner-setups": HIDDEN,
    # the programme dashboard and its targets: the world's report and target are 济宁市's, 任城区's
    "GET /api/admin/dashboard?year=2026&region=370800": HIDDEN,
    "GET /api/admin/dashboard.xlsx?year=2026&region=370800": HIDDEN,
    "GET /api/admin/targets": EMPTY,
    "POST /api/admin/targets": HIDDEN,
    "PATCH /api/admin/targets/{target}": HIDDEN,
    "DELETE /api/admin/targets/{target}": HIDDEN,
    # loan cases: the world's are in 任城区, so another district's administrator finds none of them
    # (their lists and the steps everyone signed in may call are tests/loans/test_permissions.py's)
    "POST /api/loans/cases/{case}/request-documents": HIDDEN,
    "POST /api/loans/cases/{review}/approve": HIDDEN,
    "POST /api/loans/cases/{review}/reject": HIDDEN,
    "POST /api/loans/cases/{notice}/refer": HIDDEN,
    # the world's statements are of a bank in 任城区; its rules row too (the province's rows apply everywhere)
    "POST /api/loans/statements/{statement}/approve": HIDDEN,
    "POST /api/loans/statements/{approved}/pay": HIDDEN,
    "GET /api/loans/rules": 200,
    "POST /api/loans/rules": HIDDEN,
    "PATCH /api/loans/rules/{rule}": HIDDEN,
}
WORLD_PLACE = "测试驿站"  # tests.factories.make_place's name


def _rows():
    rows = []
    for name in MATRICES:
        module = importlib.import_module(name)
        for row in module.ENDPOINTS:
            method, path, body, allowed, status = row
            if not isinstance(allowed, (set, frozenset)) or "admin" not in allowed or "anonymous" in allowed:
                continue
            if {r.value for r in Role} <= set(allowed):
                continue  # anyone signed in: not an administrator's operation
            rows.append(pytest.param(name, row, id=f"{method} {path}"))
    return rows


@pytest.mark.parametrize("matrix,row", _rows())
def test_another_districts_administrator_sees_none_of_it(client, make_user, auth, wechat_fake, matrix, row):
    from backend.extensions import db

    method, path, body, allowed, status = row
    module = importlib.import_module(matrix)
    admin = make_user("admin")
    admin.grants[0].region_code = OTHER_DISTRICT
    db.session.flush()
    ids = module.world(admin, wechat_fake) if matrix == "tests.test_permissions" else module.world(admin)
    url = path.format(**{k: v for k, v in ids.items() if not k.startswith("_")})
    response = client.open(url, method=method, json=fill(body, ids), headers=auth(admin))
    answer = response.get_json(silent=True)
    expect = EXPECT[f"{method} {path}"]
    if expect == HIDDEN:
        assert response.status_code in (403, 404), (response.status_code, answer)
        assert set(answer) == {"code", "message", "details"}, answer
    elif expect == EMPTY:
        assert response.status_code == 200 and isinstance(answer, list), answer
        assert [row.get("id") for row in answer if row.get("id") != admin.id or "roles" not in row] == [], answer
    elif expect == FIGURES:
        assert response.status_code == 200 and answer["rows"] == [], answer
        total = answer["total"]
        assert total == 0 or (total["held"], total["registered"], total["signups"]) == (0, 0, 0), total
    elif expect == EMPTY_XLSX:
        assert response.status_code == 200, answer
        assert len(list(load_workbook(io.BytesIO(response.data)).active.iter_rows())) == 2  # title, header
    elif expect == FILE:
        assert response.status_code == 200 and WORLD_PLACE not in response.get_data(as_text=True)
    else:
        assert response.status_code == status, answer


def test_every_administrators_operation_is_in_the_table():
    rows = {f"{p.values[1][0]} {p.values[1][1]}" for p in _rows()}
    assert rows == set(EXPECT)


def test_a_province_administrator_sees_the_same_world(client, make_user, auth):
    """The other side: the province (and the world's own district) administrator sees it."""
    from backend.extensions import db
    from tests.factories import make_batch, make_place, make_provider

    place, batch, provider = make_place(), make_batch(), make_provider(listed=False)
    for region, sees in (("370000", True), ("370800", True), ("370811", True), ("370883", False),
                         ("370100", False), ("370112", False)):
        admin = make_user("admin")
        admin.grants[0].region_code = region
        db.session.flush()
        headers = auth(admin)
        assert (client.get(f"/api/admin/voucher-batches/{batch.id}", headers=headers).status_code == 200) is sees
        listed = client.get("/api/admin/providers", headers=headers).get_json()
        assert (provider.id in [p["id"] for p in listed]) is sees, region
        visits = client.get(f"/api/places/{place.id}/scanners", headers=headers)
        assert (visits.status_code == 200) is sees, region


def test_a_district_administrator_grants_only_inside_their_district(client, make_user, auth):
    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_place

    admin = make_user("admin")
    admin.grants[0].region_code = "370811"
    person = make_entrepreneur()  # profile in 任城区
    inside, outside = make_place(), make_place(district="370883")
    db.session.flush()
    url = f"/api/admin/users/{person.id}/roles"
    ok = client.post(url, json={"role": "station_staff", "place_id": inside.id}, headers=auth(admin))
    assert ok.status_code == 200, ok.get_json()
    for body in ({"role": "station_staff", "place_id": outside.id}, {"role": "admin"},
                 {"role": "admin", "region_code": "370800"}, {"role": "admin", "region_code": "370883"}):
        refused = client.post(url, json=body, headers=auth(admin))
        assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden", body
    granted = client.post(url, json={"role": "admin", "region_code": "370811"}, headers=auth(admin)).get_json()
    assert "admin" in granted["roles"]


def test_me_tells_an_administrator_their_region(client, make_user, auth):
    from backend.extensions import db

    province, district = make_user("admin"), make_user("admin")
    district.grants[0].region_code = "370811"
    db.session.flush()
    assert client.get("/api/me", headers=auth(province)).get_json()["admin_region"] == {
        "code": "370000", "name": "山东省", "districts": None}
    assert client.get("/api/me", headers=auth(district)).get_json()["admin_region"] == {
        "code": "370811", "name": "任城区", "districts": ["370811"]}
    assert client.get("/api/me", headers=auth(make_user("entrepreneur"))).get_json()["admin_region"] is None
