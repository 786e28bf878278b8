"""Personal devices and credentials, scanner provisioning, offline bundles, online verification."""
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.core import codes, signing
from backend.core.codes import CodeType, Purpose
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.keys import keyring
from backend.devices.models import Revocation, ScannerSetup
from tests.factories import make_device, make_place, make_scanner, p256_key, p256_public_b64


def personal_text(device, purpose=Purpose.identify, ts=None):
    return codes.to_text(codes.encode_personal(codes.from_text(device.credential), device_key=device.key,
                                               purpose=purpose, ts=int(time.time() if ts is None else ts)))


@pytest.fixture
def staff(make_user, auth):
    return auth(make_user("station_staff"))


def verify(client, headers, code, expect="personal"):
    return client.post("/api/codes/verify", headers=headers, json={"code": code, "expect": expect})


def test_register_a_phone_and_its_code_verifies_online(client, make_user, auth, staff):
    user = make_user(name="张三丰")
    response = client.post("/api/me/devices", headers=auth(user),
                           json={"public_key": p256_public_b64(key := p256_key()), "name": "iPhone"})
    assert response.status_code == 201
    body = response.get_json()
    credential = codes.verify_signed(codes.from_text(body["credential"]), keys=keyring().public_keys(),
                                     now=time.time(), expected=CodeType.credential)
    assert credential.fields["user_id"] == user.id and credential.fields["device_id"] == body["device"]["id"]
    code = codes.to_text(codes.encode_personal(codes.from_text(body["credential"]), device_key=key,
                                               purpose=Purpose.pay, ts=int(time.time())))
    result = verify(client, staff, code).get_json()
    assert result["user"] == {"id": user.id, "name_masked": "张**"} and result["purpose"] == "pay"


def test_uncompressed_keys_are_accepted_and_garbage_refused(client, make_user, auth):
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    user = make_user()
    raw = p256_key().public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    ok = client.post("/api/me/devices", headers=auth(user),
                     json={"public_key": base64.urlsafe_b64encode(raw).decode().rstrip("=")})
    assert ok.status_code == 201
    bad = client.post("/api/me/devices", headers=auth(user), json={"public_key": "AAAA"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_public_key"


def test_a_screenshot_stops_working_within_a_minute(client, make_user, staff):
    device = make_device(make_user())
    assert verify(client, staff, personal_text(device)).status_code == 200
    old = verify(client, staff, personal_text(device, ts=time.time() - 51))
    assert old.status_code == 422 and old.get_json()["code"] == "expired"
    assert "过期" in old.get_json()["message"]


def test_a_removed_device_is_refused_online_at_once(client, make_user, auth, staff):
    user = make_user()
    device = make_device(user)
    code = personal_text(device)
    assert client.delete(f"/api/me/devices/{device.id}", headers=auth(user)).status_code == 204
    assert verify(client, staff, code).get_json()["code"] == "revoked"
    assert client.get("/api/me/devices", headers=auth(user)).get_json() == []


def test_a_blocked_person_is_refused_and_restored(client, make_user, auth, staff):
    admin, user = make_user("admin"), make_user()
    device = make_device(user)
    client.patch(f"/api/admin/users/{user.id}", headers=auth(admin), json={"is_active": False})
    assert verify(client, staff, personal_text(device)).get_json()["code"] == "revoked"
    client.patch(f"/api/admin/users/{user.id}", headers=auth(admin), json={"is_active": True})
    assert verify(client, staff, personal_text(device)).status_code == 200


def test_someone_elses_device_cannot_be_removed(client, make_user, auth):
    device = make_device(make_user())
    response = client.delete(f"/api/me/devices/{device.id}", headers=auth(make_user()))
    assert response.status_code == 404 and response.get_json()["code"] == "device_not_found"


def test_credential_renewal_extends_expiry(client, make_user, auth, app):
    user = make_user()
    device = make_device(user)
    device.credential_expires_at -= timedelta(days=10)  # its credential was issued ten days ago
    before = device.credential_expires_at
    body = client.post(f"/api/me/devices/{device.id}/credential", headers=auth(user)).get_json()
    renewed = datetime.fromisoformat(body["device"]["credential_expires_at"])
    assert renewed - before >= timedelta(days=10)
    assert renewed - utcnow() > timedelta(days=app.config["CREDENTIAL_DAYS"]) - timedelta(minutes=1)


def test_device_limit(client, make_user, auth):
    user = make_user()
    for _ in range(10):
        make_device(user)
    response = client.post("/api/me/devices", headers=auth(user), json={"public_key": p256_public_b64()})
    assert response.status_code == 409 and response.get_json()["code"] == "too_many_devices"


# --- scanners -----------------------------------------------------------------------------------

def test_setup_code_provisions_one_scanner_once(client, make_user, auth):
    admin, place = make_user("admin"), make_place()
    setup = client.post(f"/api/places/{place.id}/scanner-setups", headers=auth(admin)).get_json()
    first = client.post("/api/scanner/provision", json={"setup_code": setup["setup_code"], "name": "前台手机"})
    assert first.status_code == 201
    token = first.get_json()["token"]
    again = client.post("/api/scanner/provision", json={"setup_code": setup["setup_code"], "name": "第二台"})
    assert again.status_code == 409 and again.get_json()["code"] == "setup_used"
    bundle = client.get("/api/scanner/bundle", headers={"X-Device-Token": token})
    assert bundle.status_code == 200 and bundle.get_json()["place"]["id"] == place.id


def test_an_expired_or_forged_setup_code_is_refused(client, make_user, auth, session):
    admin, place = make_user("admin"), make_place()
    setup = client.post(f"/api/places/{place.id}/scanner-setups", headers=auth(admin)).get_json()
    forged = signing.sign_text(CodeType.setup, {"setup_id": setup["setup_id"], "nonce": bytes(16)},
                               not_before=int(time.time()) - 10, not_after=int(time.time()) + 60)
    response = client.post("/api/scanner/provision", json={"setup_code": forged, "name": "x"})
    assert response.status_code == 422 and response.get_json()["code"] == "setup_invalid"
    late = client.post("/api/scanner/provision", json={"setup_code": setup["setup_code"], "name": "x"})
    assert late.status_code == 201  # the real one still works
    expired = signing.sign_text(CodeType.setup, {"setup_id": setup["setup_id"], "nonce": bytes(16)},
                                not_before=int(time.time()) - 700, not_after=int(time.time()) - 100)
    assert client.post("/api/scanner/provision",
                       json={"setup_code": expired, "name": "x"}).get_json()["code"] == "expired"


def test_organiser_of_the_place_may_provision_others_not(client, make_user, auth):
    place, other = make_place(), make_place(name="别处")
    organiser = make_user("organiser", place=place)
    assert client.post(f"/api/places/{place.id}/scanner-setups", headers=auth(organiser)).status_code == 201
    assert client.post(f"/api/places/{other.id}/scanner-setups", headers=auth(organiser)).status_code == 403


def test_a_revoked_scanner_is_refused(client, make_user, auth):
    admin, place = make_user("admin"), make_place()
    device, token = make_scanner(place)
    assert client.delete(f"/api/scanners/{device.id}", headers=auth(admin)).status_code == 200
    response = client.get("/api/scanner/bundle", headers={"X-Device-Token": token})
    assert response.status_code == 401 and response.get_json()["code"] == "device_revoked"
    listed = client.get(f"/api/places/{place.id}/scanners", headers=auth(admin)).get_json()
    assert listed[0]["revoked_at"] is not None


def test_bundle_is_incremental_and_revalidates_with_etag(client, make_user, auth):
    place = make_place()
    _, token = make_scanner(place)
    headers = {"X-Device-Token": token}
    first = client.get("/api/scanner/bundle", headers=headers)
    body = first.get_json()
    assert body["full"] is True and body["keys"] == keyring().public_listing()
    assert client.get("/api/scanner/bundle", headers={**headers, "If-None-Match": first.headers["ETag"]}).status_code == 304
    user = make_user()
    device = make_device(user)
    client.delete(f"/api/me/devices/{device.id}", headers=auth(user))
    delta = client.get("/api/scanner/bundle", headers=headers, query_string={"since": body["cursor"]}).get_json()
    assert delta["full"] is False and delta["revoked_credentials"] == [device.id]
    assert delta["cursor"] > body["cursor"]
    nothing = client.get("/api/scanner/bundle", headers=headers, query_string={"since": delta["cursor"]}).get_json()
    assert nothing["revoked_credentials"] == [] and nothing["cursor"] == delta["cursor"]


def test_offline_verification_with_a_refreshed_bundle_refuses_a_revoked_device(client, make_user, auth):
    """What a scanner does with no network: verify with the bundle's keys and lists only."""
    place = make_place()
    _, token = make_scanner(place)
    user = make_user()
    device = make_device(user)
    code = codes.from_text(personal_text(device))

    def offline_verify(bundle):
        keys = {k["kid"]: codes_key(k["public_key"]) for k in bundle["keys"]}
        return codes.verify_personal(code, keys=keys, now=time.time(),
                                     revoked_devices=set(bundle["revoked_credentials"]))

    stale = client.get("/api/scanner/bundle", headers={"X-Device-Token": token}).get_json()
    assert offline_verify(stale).user_id == user.id
    client.delete(f"/api/me/devices/{device.id}", headers=auth(user))
    fresh = client.get("/api/scanner/bundle", headers={"X-Device-Token": token}).get_json()
    with pytest.raises(codes.CodeError) as err:
        offline_verify(fresh)
    assert err.value.code == "revoked"


def codes_key(b64):
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))


@pytest.fixture
def fresh_keyring(session):
    """The app's key ring; what a test rotates or retires is in its transaction, rolled back after."""
    return keyring()


def test_keys_endpoint_lists_active_keys_and_rotation_keeps_old_codes_valid(client, fresh_keyring):
    old_code = signing.sign_text(CodeType.place, {"place_id": 7})
    before = client.get("/api/keys")
    assert [k["kid"] for k in before.get_json()] == [1]
    assert client.get("/api/keys", headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    assert fresh_keyring.rotate() == 2
    after = client.get("/api/keys", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and [k["kid"] for k in after.get_json()] == [1, 2]
    assert signing.verify(old_code, expect="place").fields == {"place_id": 7}  # old key still verifies
    new_code = signing.sign_text(CodeType.place, {"place_id": 7})
    assert codes.parse_signed(codes.from_text(new_code)).kid == 2
    fresh_keyring.retire(1)
    with pytest.raises(DomainError) as err:
        signing.verify(old_code, expect="place")
    assert err.value.code == "unknown_key"
    assert [k["kid"] for k in client.get("/api/keys").get_json()] == [2]


def test_scanner_verify_online(client, make_user):
    place = make_place()
    _, token = make_scanner(place)
    device = make_device(make_user(name="李四"))
    response = client.post("/api/scanner/verify", headers={"X-Device-Token": token},
                           json={"code": personal_text(device)})
    assert response.get_json()["user"]["name_masked"] == "李*"
    wrong = client.post("/api/scanner/verify", headers={"X-Device-Token": token},
                        json={"code": personal_text(device), "expect": "ticket"})
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "wrong_type"


def test_setup_rows_are_single_use_in_the_database(session, make_user):
    place = make_place()
    make_scanner(place)
    assert session.scalar(sa.select(ScannerSetup.used_at)) is not None
    assert session.scalar(sa.select(sa.func.count()).select_from(Revocation)) == 0


# --- naming scanners; the demo station's own setup code ------------------------------------------

def test_rename_a_scanner_is_audited_and_shown_with_its_place_name(client, make_user, auth, session):
    import sqlalchemy as sa

    from backend.core.audit import AuditLog

    admin, place = make_user("admin"), make_place(name="创贷之家·改名驿站")
    device, _ = make_scanner(place)
    renamed = client.patch(f"/api/scanners/{device.id}", headers=auth(admin), json={"name": "  前台二号手机 "})
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["name"] == "前台二号手机" and renamed.get_json()["place_name"] == "创贷之家·改名驿站"
    listed = client.get(f"/api/places/{place.id}/scanners", headers=auth(admin)).get_json()
    assert [(s["name"], s["place_name"]) for s in listed] == [("前台二号手机", "创贷之家·改名驿站")]
    entry = session.scalars(sa.select(AuditLog).where(AuditLog.action == "scanner.rename")).one()
    assert entry.actor_id == admin.id and entry.after == {"name": "前台二号手机"}
    for bad in ("", "   ", "长" * 65):
        refused = client.patch(f"/api/scanners/{device.id}", headers=auth(admin), json={"name": bad})
        assert refused.status_code == 422 and refused.get_json()["code"] == "validation_error"
    session.refresh(device)
    assert device.name == "前台二号手机"


def test_only_managers_rename(client, make_user, auth):
    place, other = make_place(), make_place(name="创贷之家·别处驿站")
    device, _ = make_scanner(place)
    organiser_here = make_user("organiser", place=place)
    assert client.patch(f"/api/scanners/{device.id}", headers=auth(organiser_here), json={"name": "新名"}).status_code == 200
    elsewhere = make_user("organiser", place=other)
    answer = client.patch(f"/api/scanners/{device.id}", headers=auth(elsewhere), json={"name": "新名"})
    assert answer.status_code == 403 and answer.get_json()["code"] == "forbidden"
    assert client.patch("/api/scanners/999999", headers=auth(make_user("admin")), json={"name": "x"}).status_code == 404


def test_provisioning_answers_the_place_name(client, make_user, auth):
    place = make_place(name="创贷之家·名称驿站")
    setup = client.post(f"/api/places/{place.id}/scanner-setups", headers=auth(make_user("admin"))).get_json()
    device = client.post("/api/scanner/provision", json={"setup_code": setup["setup_code"], "name": "前台"}).get_json()
    assert device["device"]["place_name"] == "创贷之家·名称驿站"


def test_demo_station_staff_gets_a_setup_code_for_their_own_place(client, make_user, auth, app, monkeypatch):
    place = make_place(name="创贷之家·演示驿站")
    staff = make_user("station_staff", place=place)
    answer = client.post("/api/scanner/demo-setup", headers=auth(staff))
    assert answer.status_code == 201, answer.get_json()
    provisioned = client.post("/api/scanner/provision", json={"setup_code": answer.get_json()["setup_code"],
                                                              "name": "演示前台手机"})
    assert provisioned.status_code == 201 and provisioned.get_json()["device"]["place_id"] == place.id
    monkeypatch.setitem(app.config, "DEMO_LOGIN", False)  # production: no such thing
    off = client.post("/api/scanner/demo-setup", headers=auth(staff))
    assert off.status_code == 404 and off.get_json()["code"] == "demo_disabled"
