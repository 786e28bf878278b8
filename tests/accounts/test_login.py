"""Phone + one-time code login, tokens, refresh and logout."""
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.accounts.models import RevokedToken, SmsCode, User
from backend.core.db import utcnow
from tests.conftest import count

PHONE = "13912340001"


def request_code(client, caplog, phone=PHONE) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="backend.accounts.sms"):
        response = client.post("/api/auth/sms-code", json={"phone": phone})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"sent": True, "expires_in": 300, "resend_after": 60}
    (message,) = [r.getMessage() for r in caplog.records if r.name == "backend.accounts.sms"]
    assert phone not in message  # the log shows the phone masked
    return re.search(r": (\d{6}) ", message).group(1)


def test_code_login_creates_an_entrepreneur_and_returns_tokens(client, caplog, session):
    code = request_code(client, caplog)
    response = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": code})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["roles"] == ["entrepreneur"]
    assert body["user"]["phone_masked"] == "139****0001"
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.get_json()["id"] == body["user"]["id"]


def test_the_same_phone_logs_into_the_same_account(client, caplog, session):
    first = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": request_code(client, caplog)})
    session.execute(sa.update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))  # past the resend wait
    second = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": request_code(client, caplog)})
    assert first.get_json()["user"]["id"] == second.get_json()["user"]["id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "")) == 1


def test_a_code_works_once(client, caplog):
    code = request_code(client, caplog)
    assert client.post("/api/auth/login/phone", json={"phone": PHONE, "code": code}).status_code == 200
    again = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": code})
    assert again.status_code == 400 and again.get_json()["code"] == "code_invalid"


def test_an_expired_code_is_refused(client, caplog, session):
    code = request_code(client, caplog)
    session.execute(sa.update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": code})
    assert response.status_code == 400 and response.get_json()["code"] == "code_expired"


def test_five_wrong_guesses_lock_the_code_even_the_right_one_after(client, caplog, session):
    code = request_code(client, caplog)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    lefts = []
    for _ in range(5):
        response = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": wrong})
        assert response.get_json()["code"] == "code_invalid"
        lefts.append(response.get_json()["details"]["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    locked = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": code})
    assert locked.status_code == 429 and locked.get_json()["code"] == "too_many_attempts"
    assert session.scalar(sa.select(SmsCode.attempts)) == 5


def test_resend_within_a_minute_is_refused(client, caplog):
    request_code(client, caplog)
    response = client.post("/api/auth/sms-code", json={"phone": PHONE})
    assert response.status_code == 429
    assert response.get_json()["code"] == "resend_too_soon"
    assert 0 < response.get_json()["details"]["retry_after"] <= 60


def test_codes_per_phone_are_rate_limited(client, caplog, session):
    for _ in range(5):
        request_code(client, caplog)
        session.execute(sa.update(SmsCode).values(created_at=utcnow() - timedelta(minutes=2)))
    response = client.post("/api/auth/sms-code", json={"phone": PHONE})
    assert response.status_code == 429 and response.get_json()["code"] == "rate_limited"
    assert "Retry-After" in response.headers
    # another phone from the same address is still served
    assert client.post("/api/auth/sms-code", json={"phone": "13912340002"}).status_code == 200


def test_codes_per_ip_are_rate_limited(client):
    statuses = [client.post("/api/auth/sms-code", json={"phone": f"139000000{i:02d}"}).status_code for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_refresh_gives_a_new_access_token(client, make_user):
    user = make_user(phone="13912340009")
    from flask_jwt_extended import create_refresh_token

    refresh = create_refresh_token(identity=str(user.id))
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_access_token_cannot_refresh(client, make_user, auth):
    response = client.post("/api/auth/refresh", headers=auth(make_user()))
    assert response.status_code == 401 and response.get_json()["code"] == "token_invalid"


def test_logout_revokes_both_tokens(client, caplog):
    tokens = client.post("/api/auth/login/phone", json={"phone": PHONE, "code": request_code(client, caplog)}).get_json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    response = client.post("/api/auth/logout", headers=access, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert count(RevokedToken) == 2
    assert client.get("/api/me", headers=access).get_json()["code"] == "token_revoked"
    assert client.post("/api/auth/refresh", headers=refresh).get_json()["code"] == "token_revoked"


def test_logout_with_someone_elses_refresh_token_is_refused(client, make_user, auth):
    from flask_jwt_extended import create_refresh_token

    me, other = make_user(), make_user()
    response = client.post("/api/auth/logout", headers=auth(me),
                           json={"refresh_token": create_refresh_token(identity=str(other.id))})
    assert response.status_code == 400 and response.get_json()["code"] == "token_invalid"
    assert count(RevokedToken) == 0


def test_a_disabled_account_is_refused(client, make_user, auth, session):
    user = make_user()
    headers = auth(user)
    user.is_active = False
    session.flush()
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "account_disabled"


def test_demo_accounts_and_login(client, session, app):
    from backend import demo

    demo.seed()
    listed = client.get("/api/auth/demo-accounts").get_json()
    assert [a["role"] for a in listed] == ["entrepreneur", "provider_staff", "station_staff", "organiser", "admin",
                                           "bank_staff", "district_admin"]
    assert [a["label"] for a in listed][-3:] == ["省级管理员", "合作银行信贷员", "区县管理员（任城区）"]
    assert all("****" in a["phone_masked"] for a in listed)
    district = client.post("/api/auth/demo-login", json={"role": "district_admin"}).get_json()["user"]
    assert district["roles"] == ["admin"] and district["name"] == "孙区县"
    response = client.post("/api/auth/demo-login", json={"role": "station_staff"})
    assert response.get_json()["user"]["roles"] == ["station_staff"]
    assert response.get_json()["user"]["place_id"] is not None


def test_demo_login_is_off_in_production_mode(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_LOGIN", False)
    assert client.get("/api/auth/demo-accounts").status_code == 404
    response = client.post("/api/auth/demo-login", json={"role": "admin"})
    assert response.status_code == 404 and response.get_json()["code"] == "demo_disabled"


@pytest.mark.parametrize("body", [{"phone": PHONE}, {"phone": PHONE, "code": "12345"}, {"phone": "1", "code": "123456"}])
def test_login_input_is_validated(client, body):
    response = client.post("/api/auth/login/phone", json=body)
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"
