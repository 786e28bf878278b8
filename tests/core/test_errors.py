"""Every /api failure has the one error shape, with a Chinese message, and writes nothing."""
import re

import pytest

from backend.accounts.models import User
from backend.places.models import Place
from tests.conftest import count

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_error_shape(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert CHINESE.search(body["message"]), body["message"]
    assert isinstance(body["details"], dict)
    return body


def test_unknown_api_path_is_404_in_the_error_shape(client):
    assert_error_shape(client.get("/api/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_with_allowed_methods(client):
    body = assert_error_shape(client.delete("/api/meta"), 405, "method_not_allowed")
    assert "GET" in body["details"]["allowed"]


def test_invalid_json_is_400(client):
    body = assert_error_shape(
        client.post("/api/auth/sms-code", data="{not json", content_type="application/json"), 400, "invalid_json"
    )
    assert CHINESE.search(body["details"]["json"][0])


def test_validation_error_is_422_with_chinese_field_messages(client):
    body = assert_error_shape(client.post("/api/auth/sms-code", json={"phone": "12345"}), 422, "validation_error")
    assert body["details"]["json"]["phone"] == ["请输入正确的 11 位手机号"]


def test_missing_required_field_message_is_chinese(client):
    body = assert_error_shape(client.post("/api/auth/login/phone", json={}), 422, "validation_error")
    assert body["details"]["json"]["phone"] == ["必填"]
    assert body["details"]["json"]["code"] == ["必填"]


def test_wrong_type_message_is_chinese(client, make_user, auth):
    admin = make_user("admin")
    body = assert_error_shape(
        client.post("/api/places", json={"kind": "space", "name": ["x"], "district": "370811"}, headers=auth(admin)),
        422, "validation_error",
    )
    assert CHINESE.search(body["details"]["json"]["name"][0])


def test_bad_input_writes_nothing(client, make_user, auth):
    admin = make_user("admin")
    places_before = count(Place)
    response = client.post("/api/places", json={"kind": "castle", "name": "x", "district": "000000"},
                           headers=auth(admin))
    body = assert_error_shape(response, 422, "validation_error")
    assert set(body["details"]["json"]) == {"kind", "name", "district"}
    assert count(Place) == places_before


def test_unexpected_exception_is_500_without_traceback(app, client, monkeypatch):
    from backend.places import service

    def explode(**kwargs):
        raise RuntimeError("secret internal detail /srv/app.py line 42")

    monkeypatch.setattr(service, "list_query", explode)
    response = client.get("/api/places")
    body = assert_error_shape(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internal detail" not in text


def test_domain_error_rolls_back_what_the_request_flushed(client, session):
    users_before = count(User)
    # a wrong code for an unknown phone: nothing may be created
    response = client.post("/api/auth/login/phone", json={"phone": "13912345678", "code": "123456"})
    assert_error_shape(response, 400, "code_invalid")
    assert count(User) == users_before


@pytest.mark.parametrize("path", ["/api/me", "/api/admin/audit-log"])
def test_missing_token_is_401(client, path):
    assert_error_shape(client.get(path), 401, "unauthorized")


def test_garbage_token_is_401(client):
    assert_error_shape(client.get("/api/me", headers={"Authorization": "Bearer not.a.jwt"}), 401, "token_invalid")


def test_non_api_paths_serve_the_miniapp_not_json(client):
    response = client.get("/some/page")
    assert response.status_code in (200, 503)
    assert response.content_type.startswith("text/html")


@pytest.mark.parametrize("query,field", [("page=0", "page"), ("page=1000000", "page"), ("page_size=1000", "page_size")])
def test_paging_arguments_are_bounded_with_chinese_messages(client, query, field):
    body = assert_error_shape(client.get(f"/api/places?{query}"), 422, "validation_error")
    assert CHINESE.search(body["details"]["query"][field][0])


def test_a_nul_character_anywhere_is_a_clear_422_not_a_500(client, make_user, auth):
    response = client.get("/api/places", query_string={"q": "古槐\x00路"})
    assert response.status_code == 422 and response.get_json()["details"]["query"]["q"] == ["不能包含空字符"]
    response = client.patch("/api/me", headers=auth(make_user("entrepreneur")), json={"name": "张\x00三"})
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"


def test_an_unforeseen_constraint_violation_is_409_not_500(app, session):
    """Two requests racing to create the same thing: whatever a service did not foresee, the database
    refuses and the client is told to look again, in the error shape."""
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    user = User(name="重复")
    session.add(user)
    session.flush()
    with app.test_request_context("/api/anything", method="POST"):
        try:
            with session.begin_nested():
                session.execute(sa.insert(User.__table__).values(id=user.id, name="又一个", is_active=True))
        except IntegrityError as exc:
            response = app.handle_user_exception(exc)
        else:  # pragma: no cover - the insert must fail
            pytest.fail("a duplicate primary key was accepted")
        assert_error_shape(response, 409, "conflict")
