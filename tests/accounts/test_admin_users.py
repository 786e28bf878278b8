import json

from tests.factories import make_place


def test_admin_finds_a_user_by_phone_and_grants_a_place_role(client, make_user, auth):
    admin = make_user("admin")
    person = make_user(phone="13700001111")
    place = make_place()
    found = client.get("/api/admin/users", headers=auth(admin), query_string={"phone": "13700001111"})
    assert [u["id"] for u in found.get_json()] == [person.id]
    assert found.get_json()[0]["phone_masked"] == "137****1111"
    granted = client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin),
                          json={"role": "station_staff", "place_id": place.id})
    assert granted.get_json()["roles"] == ["entrepreneur", "station_staff"]
    assert granted.get_json()["place_id"] == place.id
    log = client.get("/api/admin/audit-log", headers=auth(admin), query_string={"action": "role.grant"}).get_json()
    assert log[0]["actor_id"] == admin.id and log[0]["after"] == {"role": "station_staff", "place_id": place.id}


def test_granting_to_a_missing_place_is_refused(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    response = client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin),
                           json={"role": "station_staff", "place_id": 999999})
    assert response.status_code == 404 and response.get_json()["code"] == "place_not_found"


def test_revoke_takes_effect_at_once(client, make_user, auth):
    admin, person = make_user("admin"), make_user("admin")
    headers = auth(person)
    assert client.get("/api/admin/users", headers=headers).status_code == 200
    client.delete(f"/api/admin/users/{person.id}/roles", headers=auth(admin), query_string={"role": "admin"})
    assert client.get("/api/admin/users", headers=headers).status_code == 403  # same token, role gone


def test_an_admin_cannot_revoke_their_own_admin_role(client, make_user, auth):
    admin = make_user("admin")
    response = client.delete(f"/api/admin/users/{admin.id}/roles", headers=auth(admin), query_string={"role": "admin"})
    assert response.status_code == 400 and response.get_json()["code"] == "cannot_revoke_self"


def test_users_list_pages_and_filters_by_role(client, make_user, auth):
    admin = make_user("admin")
    for _ in range(3):
        make_user("organiser")
    response = client.get("/api/admin/users", headers=auth(admin), query_string={"role": "organiser", "page_size": 2})
    assert len(response.get_json()) == 2
    assert json.loads(response.headers["X-Pagination"])["total"] == 3
