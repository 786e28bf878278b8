"""The administrators' places console: every place, open and closed, filtered and searched; create,
edit and open/close, each in the audit log; bad input refused with field messages and nothing written."""
import json

import pytest
import sqlalchemy as sa

from backend.core.audit import AuditLog
from backend.places.models import Place
from tests.factories import make_place


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="管理员甲")


@pytest.fixture
def places(session):
    made = {
        "space": make_place(kind="space", name="喵小创·任城空间"),
        "street": make_place(kind="street", name="高新区创业街区"),
        "qufu": make_place(kind="loan_station", name="创贷之家·曲阜驿站", district="370881"),
        "closed": make_place(kind="market", name="邹城创业市场", district="370883"),
    }
    made["closed"].is_active = False
    session.flush()
    return made


def listed(client, headers, **query):
    response = client.get("/api/admin/places", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [p["name"] for p in response.get_json()], json.loads(response.headers["X-Pagination"])


def test_admin_lists_open_and_closed_places(client, auth, admin, places):
    names, paging = listed(client, auth(admin))
    assert set(names) == {p.name for p in places.values()} and paging["total"] == 4
    assert listed(client, auth(admin), state="closed")[0] == ["邹城创业市场"]
    assert "邹城创业市场" not in listed(client, auth(admin), state="open")[0]
    assert listed(client, auth(admin), kind="loan_station")[0] == ["创贷之家·曲阜驿站"]
    assert listed(client, auth(admin), district="370881")[0] == ["创贷之家·曲阜驿站"]
    assert listed(client, auth(admin), q="街区")[0] == ["高新区创业街区"]
    row = client.get("/api/admin/places", headers=auth(admin), query_string={"state": "closed"}).get_json()[0]
    assert row["is_active"] is False and row["kind_label"] == "创业市场" and row["district_label"] == "邹城市"
    assert row["staff_count"] == 0


def test_admin_reads_a_closed_place_the_public_cannot(client, auth, admin, places):
    closed = places["closed"]
    assert client.get(f"/api/places/{closed.id}").status_code == 404
    detail = client.get(f"/api/admin/places/{closed.id}", headers=auth(admin))
    assert detail.status_code == 200 and detail.get_json()["name"] == "邹城创业市场"
    missing = client.get("/api/admin/places/999999", headers=auth(admin))
    assert missing.status_code == 404 and missing.get_json()["code"] == "place_not_found"


def test_bad_filters_are_refused_in_chinese(client, auth, admin):
    response = client.get("/api/admin/places", headers=auth(admin), query_string={"state": "maybe"})
    assert response.status_code == 422
    assert response.get_json()["details"]["query"]["state"] == ["状态只能是 open 或 closed"]


def test_create_edit_close_reopen_are_audited(client, auth, admin, session):
    created = client.post("/api/places", headers=auth(admin), json={
        "kind": "loan_station", "name": "创贷之家·兖州驿站", "district": "370812", "address": "兖州区建设路 9 号",
        "lat": 35.55, "lng": 116.78, "opening_hours": "周一至周五 9:00-17:00", "phone": "0537-3400000",
        "services": ["贷款咨询", "政策咨询"], "operator": "兖州农商银行"})
    assert created.status_code == 201, created.get_json()
    place_id = created.get_json()["id"]
    edited = client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"opening_hours": "每天 9:00-18:00"})
    assert edited.status_code == 200 and edited.get_json()["opening_hours"] == "每天 9:00-18:00"
    closed = client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"is_active": False})
    assert closed.get_json()["is_active"] is False
    reopened = client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"is_active": True})
    assert reopened.get_json()["is_active"] is True
    log = session.scalars(sa.select(AuditLog).where(AuditLog.target_type == "place",
                                                    AuditLog.target_id == str(place_id)).order_by(AuditLog.id)).all()
    assert [e.action for e in log] == ["place.create", "place.update", "place.update", "place.update"]
    assert all(e.actor_id == admin.id for e in log)
    assert log[0].after["name"] == "创贷之家·兖州驿站"
    assert (log[1].before, log[1].after) == ({"opening_hours": "周一至周五 9:00-17:00"},
                                             {"opening_hours": "每天 9:00-18:00"})
    assert (log[2].before, log[2].after) == ({"is_active": True}, {"is_active": False})
    assert (log[3].before, log[3].after) == ({"is_active": False}, {"is_active": True})


@pytest.mark.parametrize("body,field,message", [
    ({"kind": "bank", "name": "某驿站", "district": "370811"}, "kind", "场所类型不正确"),
    ({"kind": "market", "name": "某", "district": "370811"}, "name", "名称为 2 到 128 个字"),
    ({"kind": "market", "name": "某市场", "district": "110101"}, "district", "请选择所在区县"),
    ({"kind": "market", "name": "某市场", "district": "370811", "lat": 95, "lng": 116.5}, "lat", "纬度不正确"),
    ({"kind": "market", "name": "某市场", "district": "370811", "lat": 35.4}, "lat", "经纬度需要同时提供"),
    ({"kind": "market", "name": "某市场", "district": "370811", "phone": "call me"}, "phone", "联系电话格式不正确"),
])
def test_bad_input_is_refused_and_nothing_written(client, auth, admin, session, body, field, message):
    before = session.scalar(sa.select(sa.func.count()).select_from(Place))
    logged = session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    response = client.post("/api/places", headers=auth(admin), json=body)
    assert response.status_code == 422
    answer = response.get_json()
    assert set(answer) == {"code", "message", "details"}
    assert message in answer["details"]["json"][field]
    assert session.scalar(sa.select(sa.func.count()).select_from(Place)) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == logged


def test_a_bad_edit_changes_nothing(client, auth, admin, places, session):
    place = places["space"]
    response = client.patch(f"/api/places/{place.id}", headers=auth(admin), json={"name": "喵", "opening_hours": "全天"})
    assert response.status_code == 422
    session.refresh(place)
    assert place.name == "喵小创·任城空间" and place.opening_hours == "9:00-17:00"


@pytest.mark.parametrize("role", ["entrepreneur", "provider_staff", "station_staff", "organiser"])
def test_only_admins_use_the_console(client, make_user, auth, places, role):
    headers = auth(make_user(role))
    assert client.get("/api/admin/places", headers=headers).status_code == 403
    assert client.get(f"/api/admin/places/{places['space'].id}", headers=headers).status_code == 403


def test_a_district_administrator_manages_only_their_district(client, make_user, auth, places, session):
    """任城区's administrator: the console lists 任城区's places only; another district's place is 404
    to read or edit; a new place goes only into 任城区."""
    district_admin = make_user("admin")
    district_admin.grants[0].region_code = "370811"
    session.flush()
    headers = auth(district_admin)
    names, paging = listed(client, headers)
    assert set(names) == {"喵小创·任城空间", "高新区创业街区"} and paging["total"] == 2
    assert listed(client, headers, district="370881")[0] == []  # asking for another district gives nothing
    for place in (places["qufu"], places["closed"]):
        hidden = client.get(f"/api/admin/places/{place.id}", headers=headers)
        assert hidden.status_code == 404 and hidden.get_json()["code"] == "place_not_found"
        edit = client.patch(f"/api/places/{place.id}", headers=headers, json={"is_active": True})
        assert edit.status_code == 404
    session.refresh(places["closed"])
    assert places["closed"].is_active is False
    refused = client.post("/api/places", headers=headers, json={"kind": "market", "name": "曲阜创业市场", "district": "370881"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden"
    ok = client.post("/api/places", headers=headers, json={"kind": "market", "name": "任城创业市场", "district": "370811"})
    assert ok.status_code == 201
