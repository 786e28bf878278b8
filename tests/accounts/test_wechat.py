"""WeChat login against the local fake of WeChat's servers (real request and response shapes)."""
import pytest

from backend.accounts.models import WechatIdentity
from tests.conftest import count


@pytest.fixture(autouse=True)
def _fresh_quota(wechat_fake):
    wechat_fake.reset_quota()
    wechat_fake.quota_per_minute = 10_000


def test_mini_program_login_creates_an_account_once(client, wechat_fake):
    first = client.post("/api/auth/login/wechat-mini", json={"code": wechat_fake.issue(openid="o-mini-1")})
    assert first.status_code == 200
    second = client.post("/api/auth/login/wechat-mini", json={"code": wechat_fake.issue(openid="o-mini-1")})
    assert first.get_json()["user"]["id"] == second.get_json()["user"]["id"]
    assert first.get_json()["user"]["roles"] == ["entrepreneur"]
    call = wechat_fake.calls[-1]
    assert call["path"] == "/sns/jscode2session" and call["grant_type"] == "authorization_code"
    assert "session_key" not in first.get_data(as_text=True)


def test_the_same_unionid_across_apps_is_one_account(client, wechat_fake):
    mini = client.post("/api/auth/login/wechat-mini", json={"code": wechat_fake.issue("o-mini-2", unionid="u-42")})
    oa = client.post("/api/auth/login/wechat-oauth", json={"code": wechat_fake.issue("o-oa-2", unionid="u-42")})
    assert oa.status_code == 200
    assert mini.get_json()["user"]["id"] == oa.get_json()["user"]["id"]
    assert count(WechatIdentity) == 2
    assert wechat_fake.calls[-1]["path"] == "/sns/oauth2/access_token"


def test_invalid_code_40029(client):
    response = client.post("/api/auth/login/wechat-mini", json={"code": "not-a-real-code"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "wechat_code_invalid" and body["details"] == {"errcode": 40029}
    assert count(WechatIdentity) == 0


def test_a_used_code_40163(client, wechat_fake):
    code = wechat_fake.issue()
    assert client.post("/api/auth/login/wechat-oauth", json={"code": code}).status_code == 200
    response = client.post("/api/auth/login/wechat-oauth", json={"code": code})
    assert response.get_json()["code"] == "wechat_code_used"


def test_minute_quota_45011_is_a_429(client, wechat_fake):
    wechat_fake.quota_per_minute = 1
    assert client.post("/api/auth/login/wechat-mini", json={"code": wechat_fake.issue()}).status_code == 200
    response = client.post("/api/auth/login/wechat-mini", json={"code": wechat_fake.issue()})
    assert response.status_code == 429
    assert response.get_json()["code"] == "wechat_rate_limited"
    assert response.get_json()["details"] == {"errcode": 45011}


def test_wechat_busy_is_a_503(client):
    response = client.post("/api/auth/login/wechat-mini", json={"code": "busy"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_busy"


def test_wrong_secret_is_reported_not_crashed(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MINI_SECRET", "wrong")
    response = client.post("/api/auth/login/wechat-mini", json={"code": "x"})
    assert response.status_code == 502 and response.get_json()["details"] == {"errcode": 40125}


def test_unreachable_wechat_is_a_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:9")
    response = client.post("/api/auth/login/wechat-mini", json={"code": "x"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_unreachable"


def test_not_configured_is_a_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_OA_APPID", "")
    response = client.post("/api/auth/login/wechat-oauth", json={"code": "x"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_not_configured"
