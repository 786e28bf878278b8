"""Places registry: anyone lists (filters, search, nearest first, paging); admins manage."""
import json

import pytest

from tests.factories import make_place

RENCHENG = (35.4146, 116.5872)


@pytest.fixture
def places(session):
    return {
        "space": make_place(kind="space", name="喵小创·任城空间", lat=35.4146, lng=116.5872),
        "street": make_place(kind="street", name="高新区创业街区", lat=35.3890, lng=116.6200),
        "qufu": make_place(kind="loan_station", name="创贷之家·曲阜驿站", district="370881", lat=35.596, lng=116.991),
        "zoucheng": make_place(kind="loan_station", name="创贷之家·邹城驿站", district="370883", lat=35.405, lng=116.974),
        "closed": make_place(kind="loan_station", name="创贷之家·已关闭驿站", lat=35.41, lng=116.58),
    }


@pytest.fixture
def closed(places, session):
    places["closed"].is_active = False
    session.flush()
    return places["closed"]


def names(response):
    assert response.status_code == 200, response.get_json()
    return [p["name"] for p in response.get_json()]


def test_anyone_lists_active_places(client, places, closed):
    listed = names(client.get("/api/places"))
    assert closed.name not in listed and len(listed) == 4


def test_filter_by_kind_and_district(client, places, closed):
    assert names(client.get("/api/places?kind=loan_station")) == ["创贷之家·曲阜驿站", "创贷之家·邹城驿站"]
    assert names(client.get("/api/places?district=370883")) == ["创贷之家·邹城驿站"]


def test_search_by_name_treats_wildcards_literally(client, places):
    assert names(client.get("/api/places", query_string={"q": "曲阜"})) == ["创贷之家·曲阜驿站"]
    assert names(client.get("/api/places", query_string={"q": "%"})) == []


def test_nearest_first_with_distance(client, places, closed):
    response = client.get("/api/places", query_string={"lat": RENCHENG[0], "lng": RENCHENG[1]})
    listed = response.get_json()
    assert [p["name"] for p in listed][:2] == ["喵小创·任城空间", "高新区创业街区"]
    assert listed[0]["distance_m"] == 0
    assert 3000 < listed[1]["distance_m"] < 5000
    distances = [p["distance_m"] for p in listed]
    assert distances == sorted(distances)


def test_lat_without_lng_is_refused(client):
    response = client.get("/api/places?lat=35.4")
    assert response.status_code == 422 and "lat" in response.get_json()["details"]["query"]


def test_paging(client, places):
    first = client.get("/api/places?page=1&page_size=3")
    meta = json.loads(first.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["total_pages"] == 2 and meta["next_page"] == 2
    second = client.get("/api/places?page=2&page_size=3")
    assert len(first.get_json()) == 3 and len(second.get_json()) == 2
    assert not {p["id"] for p in first.get_json()} & {p["id"] for p in second.get_json()}


def test_detail_and_404(client, places, closed):
    response = client.get(f"/api/places/{places['space'].id}")
    assert response.get_json()["kind_label"] == "喵小创空间" and response.get_json()["staff_count"] == 0
    assert client.get(f"/api/places/{closed.id}").get_json()["code"] == "place_not_found"
    assert client.get("/api/places/999999").status_code == 404


def test_admin_creates_edits_and_closes(client, make_user, auth, session):
    admin = make_user("admin")
    created = client.post("/api/places", headers=auth(admin), json={
        "kind": "market", "name": "邹城创业市场", "district": "370883", "lat": 35.40, "lng": 116.97,
        "services": ["创业培训"], "opening_hours": "周末 9:00-18:00"})
    assert created.status_code == 201
    place_id = created.get_json()["id"]
    edited = client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"is_active": False})
    assert edited.get_json()["is_active"] is False
    assert client.get(f"/api/places/{place_id}").status_code == 404
    reopened = client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"is_active": True})
    assert reopened.get_json()["is_active"] is True


def test_half_a_location_is_refused_on_create(client, make_user, auth):
    response = client.post("/api/places", headers=auth(make_user("admin")),
                           json={"kind": "market", "name": "某市场", "district": "370883", "lat": 35.4})
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["entrepreneur", "provider_staff", "station_staff", "organiser"])
def test_only_admins_manage(client, make_user, auth, places, role):
    headers = auth(make_user(role))
    assert client.post("/api/places", headers=headers,
                       json={"kind": "market", "name": "某市场", "district": "370883"}).status_code == 403
    assert client.patch(f"/api/places/{places['space'].id}", headers=headers, json={"name": "改名"}).status_code == 403


def test_staff_count_counts_people_bound_to_the_place(client, make_user, places):
    make_user("station_staff", place=places["qufu"])
    make_user("station_staff", place=places["qufu"])
    assert client.get(f"/api/places/{places['qufu'].id}").get_json()["staff_count"] == 2
