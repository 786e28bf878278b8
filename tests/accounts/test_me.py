"""GET/PATCH /api/me: profile editing, validation, masking and encryption at rest."""
import sqlalchemy as sa

from backend.core.pii import blind_index
from tests.factories import valid_credit_code, valid_id_number


def test_profile_round_trip_is_masked(client, make_user, auth):
    user = make_user(phone="13812345678")
    id_number = valid_id_number()
    response = client.patch("/api/me", headers=auth(user), json={
        "name": "孙创新",
        "profile": {"subject_type": "tech_startup", "org_name": "济宁智造科技有限公司",
                    "credit_code": valid_credit_code().lower(), "founded_on": "2024-03-01",
                    "district": "370811", "id_number": id_number},
    })
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "孙创新"
    assert body["phone_masked"] == "138****5678"
    profile = body["profile"]
    assert profile["subject_type_label"] == "科创企业"
    assert profile["district_label"] == "任城区"
    assert profile["credit_code"] == valid_credit_code()  # normalised to upper case
    assert profile["id_number_masked"] == id_number[:4] + "*" * 10 + id_number[-4:]
    text = client.get("/api/me", headers=auth(user)).get_data(as_text=True)
    assert id_number not in text and "13812345678" not in text


def test_phone_and_id_number_are_encrypted_at_rest(client, make_user, auth, session):
    user = make_user(phone="13812345679")
    id_number = valid_id_number("37088119851111002")
    client.patch("/api/me", headers=auth(user), json={"profile": {"id_number": id_number}})
    row = session.execute(sa.text("SELECT phone, phone_hash FROM \"user\" WHERE id = :id"), {"id": user.id}).one()
    assert "13812345679" not in row.phone and row.phone_hash == blind_index("13812345679")
    stored = session.execute(sa.text("SELECT id_number, id_number_hash FROM entrepreneur_profile WHERE user_id = :id"),
                             {"id": user.id}).one()
    assert id_number not in stored.id_number
    assert stored.id_number_hash == blind_index(id_number)


def test_invalid_profile_is_refused_and_nothing_changes(client, make_user, auth):
    user = make_user()
    client.patch("/api/me", headers=auth(user), json={"profile": {"org_name": "原名称"}})
    response = client.patch("/api/me", headers=auth(user), json={
        "name": "新名字",
        "profile": {"org_name": "新名称", "credit_code": "91370800MA3C4D5E6Z", "id_number": "370811199003071230",
                    "founded_on": "2999-01-01", "district": "110101", "subject_type": "big_corp"}})
    assert response.status_code == 422
    errors = response.get_json()["details"]["json"]["profile"]
    assert set(errors) == {"credit_code", "id_number", "founded_on", "district", "subject_type"}
    assert errors["credit_code"] == ["统一社会信用代码不正确，请核对 18 位代码"]
    me = client.get("/api/me", headers=auth(user)).get_json()
    assert me["name"] == "测试用户" and me["profile"]["org_name"] == "原名称"


def test_fields_can_be_cleared(client, make_user, auth):
    user = make_user()
    client.patch("/api/me", headers=auth(user), json={"profile": {"id_number": valid_id_number(), "district": "370811"}})
    body = client.patch("/api/me", headers=auth(user), json={"profile": {"id_number": None}}).get_json()
    assert body["profile"]["id_number_masked"] is None and body["profile"]["district"] == "370811"


def test_unknown_fields_are_ignored(client, make_user, auth):
    user = make_user()
    response = client.patch("/api/me", headers=auth(user), json={"roles": ["admin"], "is_active": False, "name": "甲"})
    assert response.status_code == 200
    assert response.get_json()["roles"] == ["entrepreneur"]


def test_several_roles_are_listed_once_each(client, make_user, auth):
    from backend.accounts import service
    from backend.accounts.enums import Role
    from tests.factories import make_place

    user = make_user("entrepreneur")
    service.grant_role(actor=None, user=user, role=Role.station_staff, place_id=make_place().id)
    service.grant_role(actor=None, user=user, role=Role.station_staff, place_id=make_place(name="第二驿站").id)
    body = client.get("/api/me", headers=auth(user)).get_json()
    assert body["roles"] == ["entrepreneur", "station_staff"]
    assert body["role_labels"]["station_staff"] == "场所工作人员"
