"""A token's signature is checked once per process (backend/core/auth.py): the same token string is
not decoded again, its expiry is still checked on every request, and any other string goes the whole way."""
from datetime import datetime, timedelta, timezone

import flask_jwt_extended.jwt_manager as jwt_manager
import jwt.api_jwt


def test_a_token_is_verified_once_and_still_expires(client, make_user, auth, monkeypatch):
    from flask_jwt_extended import create_access_token

    user = make_user()
    token = create_access_token(identity=str(user.id), expires_delta=timedelta(minutes=30))
    headers = {"Authorization": f"Bearer {token}"}
    verified = []
    real = jwt_manager._decode_jwt
    monkeypatch.setattr(jwt_manager, "_decode_jwt", lambda **kw: verified.append(1) or real(**kw))
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 200
    assert len(verified) == 1  # the second request reused the first's verified claims

    # 31 minutes later, on both clocks (this module's and PyJWT's): expired, as the library says
    later = datetime.now(tz=timezone.utc) + timedelta(minutes=31)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr("backend.core.auth._now", lambda: later.timestamp())
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    answer = client.get("/api/me", headers=headers)
    assert answer.status_code == 401 and answer.get_json()["code"] == "token_expired"


def test_a_changed_token_is_checked_again(client, make_user, auth):
    headers = auth(make_user())
    assert client.get("/api/me", headers=headers).status_code == 200
    tampered = headers["Authorization"][:-2] + ("AA" if not headers["Authorization"].endswith("AA") else "BB")
    answer = client.get("/api/me", headers={"Authorization": tampered})
    assert answer.status_code == 401 and answer.get_json()["code"] == "token_invalid"
