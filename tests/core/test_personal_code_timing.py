"""The phone's refresh interval is derived from the window the server accepts a personal code for,
and served with the credential, so the two can never drift apart."""
import time

import pytest

from backend.core import codes
from backend.core.codes import CodeError, Purpose
from backend.core.keys import keyring
from tests.factories import p256_key, p256_public_b64


@pytest.mark.parametrize("window,refresh", [(30, 20), (45, 30), (60, 40), (1, 1)])
def test_refresh_is_two_thirds_of_the_window(window, refresh):
    assert codes.personal_code_refresh(window) == refresh


@pytest.mark.parametrize("window", [30, 45])
def test_the_credential_answer_carries_the_window_and_refresh(client, make_user, auth, app, window):
    user = make_user()
    previous = app.config["PERSONAL_CODE_WINDOW"]
    app.config["PERSONAL_CODE_WINDOW"] = window
    try:
        registered = client.post("/api/me/devices", headers=auth(user),
                                 json={"public_key": p256_public_b64(p256_key()), "name": "iPhone"})
        renewed = client.post(f"/api/me/devices/{registered.get_json()['device']['id']}/credential",
                              headers=auth(user))
    finally:
        app.config["PERSONAL_CODE_WINDOW"] = previous
    for answer in (registered, renewed):
        body = answer.get_json()
        assert (body["code_window"], body["refresh_seconds"]) == (window, codes.personal_code_refresh(window))


def test_the_last_code_before_a_refresh_still_verifies_with_time_left_to_scan(client, make_user, auth):
    key = p256_key()
    body = client.post("/api/me/devices", headers=auth(make_user()),
                       json={"public_key": p256_public_b64(key), "name": "iPhone"}).get_json()
    window, refresh = body["code_window"], body["refresh_seconds"]
    now = time.time()

    def made(seconds_ago):
        return codes.encode_personal(codes.from_text(body["credential"]), device_key=key, purpose=Purpose.identify,
                                     ts=int(now) - seconds_ago)

    # even with no clock skew allowed, a code about to be replaced has a third of the window to be scanned
    assert window - refresh >= window // 3
    codes.verify_personal(made(refresh), keys=keyring().public_keys(), now=now, window=window, skew=0)
    with pytest.raises(CodeError) as refused:
        codes.verify_personal(made(window + 2), keys=keyring().public_keys(), now=now, window=window, skew=0)
    assert refused.value.code == "expired"
