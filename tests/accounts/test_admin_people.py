"""The people and roles console: search by name or phone, grants bound to a place, provider or region
(validated per role, in Chinese), revoke, block and restore; every action in the audit log."""
import sqlalchemy as sa

from backend.core.audit import AuditLog
from backend.extensions import db
from backend.vouchers.models import ProviderMember
from tests.factories import make_place, make_provider

USERS = "/api/admin/users"


def _log(action):
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_search_by_part_of_a_name(client, make_user, auth):
    admin = make_user("admin")
    wanted = make_user(name="孙小创")
    make_user(name="李四")
    found = client.get(USERS, headers=auth(admin), query_string={"q": "小创"}).get_json()
    assert [u["id"] for u in found] == [wanted.id]
    assert found[0]["name"] == "孙小创"


def test_search_by_phone_matches_the_whole_number_and_shows_it_masked(client, make_user, auth):
    admin = make_user("admin")
    wanted = make_user(phone="13712345678", name="周手机")
    make_user(phone="13712345679")
    found = client.get(USERS, headers=auth(admin), query_string={"q": "13712345678"}).get_json()
    assert [u["id"] for u in found] == [wanted.id]
    assert found[0]["phone_masked"] == "137****5678"
    assert "13712345678" not in str(found)
    # part of a phone is not a phone: it is searched as a name, and finds nobody
    assert client.get(USERS, headers=auth(admin), query_string={"q": "1371234"}).get_json() == []


def test_a_grant_bound_to_a_place_shows_the_place_by_name_and_is_logged(client, make_user, auth):
    admin, person = make_user("admin", name="刘管理"), make_user(name="钱驿站")
    place = make_place(name="创贷之家·任城驿站")
    answer = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         json={"role": "station_staff", "place_id": place.id})
    assert answer.status_code == 200, answer.get_json()
    grant = next(g for g in answer.get_json()["grants"] if g["role"] == "station_staff")
    assert grant["place_name"] == "创贷之家·任城驿站" and grant["role_label"] == "场所工作人员"
    listed = client.get(USERS, headers=auth(admin), query_string={"q": "钱驿站"}).get_json()[0]
    assert [g["place_name"] for g in listed["grants"] if g["role"] == "station_staff"] == ["创贷之家·任城驿站"]
    entry = _log("role.grant")[-1]
    assert entry.actor_id == admin.id and entry.target_id == str(person.id)
    assert entry.after == {"role": "station_staff", "place_id": place.id}


def test_each_role_needs_its_own_binding_and_refuses_others(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    provider, place = make_provider(), make_place()
    cases = [
        ({"role": "organiser"}, "place_id", "请选择驿站/场所"),
        ({"role": "provider_staff"}, "provider_id", "请选择服务机构"),
        ({"role": "admin"}, "region_code", "请选择管辖地区"),
        ({"role": "station_staff", "place_id": place.id, "provider_id": provider.id}, "provider_id", "该角色不绑定服务机构"),
        ({"role": "entrepreneur", "region_code": "370811"}, "region_code", "该角色不绑定地区"),
    ]
    before = len(_log("role.grant"))
    unknown = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin), json={"role": "admin", "region_code": "110000"})
    assert unknown.status_code == 422 and unknown.get_json()["details"]["json"]["region_code"] == ["请选择管辖地区"]
    for body, field, message in cases:
        answer = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin), json=body)
        assert answer.status_code == 422, body
        error = answer.get_json()
        assert error["code"] == "binding_invalid" and error["details"][field] == [message], (body, error)
    db.session.expire_all()
    assert [g.role.value for g in person.grants] == ["entrepreneur"]  # nothing written
    assert len(_log("role.grant")) == before


def test_a_provider_staff_grant_joins_the_provider_and_its_revoke_leaves_it(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    provider = make_provider(name="济宁知识产权事务所")
    answer = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         json={"role": "provider_staff", "provider_id": provider.id})
    assert answer.status_code == 200, answer.get_json()
    grant = next(g for g in answer.get_json()["grants"] if g["role"] == "provider_staff")
    assert grant["provider_name"] == "济宁知识产权事务所"
    member = db.session.scalar(sa.select(ProviderMember).where(ProviderMember.user_id == person.id))
    assert member.provider_id == provider.id
    gone = client.delete(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         query_string={"role": "provider_staff", "provider_id": provider.id})
    assert gone.status_code == 200 and "provider_staff" not in gone.get_json()["roles"]
    assert db.session.scalar(sa.select(ProviderMember).where(ProviderMember.user_id == person.id)) is None
    assert _log("role.revoke")[-1].before == {"role": "provider_staff", "place_ids": [None],
                                              "provider_ids": [provider.id]}


def test_a_member_of_one_provider_cannot_be_bound_to_another(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    first = make_provider(name="第一机构", staff=person)
    second = make_provider(name="第二机构")
    answer = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         json={"role": "provider_staff", "provider_id": second.id})
    assert answer.status_code == 409 and answer.get_json()["code"] == "already_member"
    assert "第一机构" in answer.get_json()["message"]
    db.session.expire_all()
    assert "provider_staff" not in person.roles
    assert db.session.scalar(sa.select(ProviderMember.provider_id).where(ProviderMember.user_id == person.id)) == first.id


def test_an_admin_grant_is_bound_to_a_region_by_name(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    answer = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         json={"role": "admin", "region_code": "370811"})
    grant = next(g for g in answer.get_json()["grants"] if g["role"] == "admin")
    assert grant["region_code"] == "370811" and grant["region_name"] == "任城区"
    assert _log("role.grant")[-1].after == {"role": "admin", "place_id": None, "region_code": "370811"}


def test_revoking_one_place_keeps_the_role_at_another(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    first, second = make_place(name="甲驿站"), make_place(name="乙驿站")
    for place in (first, second):
        client.post(f"{USERS}/{person.id}/roles", headers=auth(admin), json={"role": "station_staff", "place_id": place.id})
    answer = client.delete(f"{USERS}/{person.id}/roles", headers=auth(admin),
                           query_string={"role": "station_staff", "place_id": first.id})
    assert [g["place_name"] for g in answer.get_json()["grants"] if g["role"] == "station_staff"] == ["乙驿站"]


def test_block_and_restore_are_logged_and_a_blocked_person_is_shown_so(client, make_user, auth):
    admin, person = make_user("admin"), make_user(name="吴停用")
    blocked = client.patch(f"{USERS}/{person.id}", headers=auth(admin), json={"is_active": False})
    assert blocked.status_code == 200 and blocked.get_json()["is_active"] is False
    assert client.get("/api/me", headers=auth(person)).status_code == 401
    listed = client.get(USERS, headers=auth(admin), query_string={"q": "吴停用"}).get_json()
    assert listed[0]["is_active"] is False
    restored = client.patch(f"{USERS}/{person.id}", headers=auth(admin), json={"is_active": True})
    assert restored.get_json()["is_active"] is True
    assert [(e.action, e.after) for e in _log("user.block") + _log("user.restore")] == [
        ("user.block", {"is_active": False}), ("user.restore", {"is_active": True})]


def district_admin(code="370811", name="孙区县"):
    from backend.accounts import service
    from backend.accounts.enums import Role

    user = service.create_user(phone=None, name=name, roles=())
    service.grant_role(actor=None, user=user, role=Role.admin, region_code=code)
    return user


def test_a_district_administrator_finds_only_the_people_of_their_district(client, make_user, auth):
    from backend.accounts import service
    from backend.accounts.enums import Role
    from tests.factories import complete_profile

    viewer = district_admin()
    in_place = make_user("station_staff", name="任城驿站员", place=make_place(district="370811"))
    make_user("station_staff", name="兖州驿站员", place=make_place(district="370812"))
    in_profile = complete_profile(make_user(name="任城创业者"), district="370811")
    in_provider = make_user(name="任城机构员")
    service.grant_role(actor=None, user=in_provider, role=Role.provider_staff,
                       provider_id=make_provider(district="370811").id)
    make_user(name="无关人员")  # no tie to 任城区
    found = client.get(USERS, headers=auth(viewer), query_string={"page_size": 100}).get_json()
    assert {u["id"] for u in found} == {viewer.id, in_place.id, in_profile.id, in_provider.id}
    assert client.get(USERS, headers=auth(viewer), query_string={"q": "兖州"}).get_json() == []


def test_a_district_administrator_grants_only_inside_their_district(client, make_user, auth):
    admin = district_admin()
    person = make_user("station_staff", place=make_place(district="370811"))
    elsewhere = make_place(name="兖州驿站", district="370812")
    refused = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                          json={"role": "organiser", "place_id": elsewhere.id})
    assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden"
    wider = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin), json={"role": "admin", "region_code": "370000"})
    assert wider.status_code == 403 and wider.get_json()["code"] == "region_forbidden"
    inside = client.post(f"{USERS}/{person.id}/roles", headers=auth(admin),
                         json={"role": "organiser", "place_id": make_place(name="任城空间", district="370811").id})
    assert inside.status_code == 200
    grant = next(g for g in inside.get_json()["grants"] if g["role"] == "organiser")
    assert grant["place_name"] == "任城空间"
    db.session.expire_all()
    assert sorted(g.role.value for g in person.grants) == ["organiser", "station_staff"]
    outsider = make_user(name="兖州人", place=None)
    assert client.patch(f"{USERS}/{outsider.id}", headers=auth(admin), json={"is_active": False}).status_code == 404


def test_a_district_administrator_cannot_revoke_a_grant_of_another_district(client, make_user, auth):
    admin = district_admin()
    person = make_user("station_staff", place=make_place(district="370811"))
    from backend.accounts import service
    from backend.accounts.enums import Role

    service.grant_role(actor=None, user=person, role=Role.organiser, place_id=make_place(district="370812").id)
    refused = client.delete(f"{USERS}/{person.id}/roles", headers=auth(admin), query_string={"role": "organiser"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden"
    db.session.expire_all()
    assert "organiser" in person.roles
    allowed = client.delete(f"{USERS}/{person.id}/roles", headers=auth(admin), query_string={"role": "station_staff"})
    assert allowed.status_code == 200 and "station_staff" not in allowed.get_json()["roles"]
