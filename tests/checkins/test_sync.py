"""The scanner's batch upload: replayed batches, cross-device duplicates, revoked device and
credential, blocked people, clock-skewed devices, malformed items among good ones, notes."""
import secrets
import time
from datetime import timedelta

import pytest

from backend.checkins.models import Scan, Visit, VisitNote
from backend.core import codes
from backend.core.codes import Purpose
from backend.core.db import utcnow
from backend.extensions import db
from tests.factories import make_device, make_entrepreneur, make_place, make_scanner, make_user, pay_code


def nonce():
    return secrets.token_urlsafe(16)


def personal(device, at=None):
    return pay_code(device, ts=int(at if at is not None else time.time()), purpose=Purpose.identify)


def item(code, purpose="loan", **extra):
    return {"nonce": nonce(), "code": code, "purpose": purpose, **extra}


def sync(client, token, *items, **extra):
    answer = client.post("/api/checkins/sync", json={"items": list(items), **extra}, headers={"X-Device-Token": token})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


@pytest.fixture
def station():
    place = make_place()
    _, token = make_scanner(place)
    return place, token


def person():
    user = make_entrepreneur()
    return user, make_device(user)


def test_online_scan_records_a_visit_and_a_second_is_a_duplicate(client, station):
    place, token = station
    user, phone = person()
    first = sync(client, token, item(personal(phone)))[0]
    assert first["result"] == "ok" and first["message"] == "签到成功"
    assert first["visit"]["name"] == "测***" and first["visit"]["purpose_label"] == "贷款咨询"
    again = sync(client, token, item(personal(phone), purpose="policy"))[0]
    assert again["result"] == "duplicate" and again["message"].startswith("今日已到访（")
    assert again["visit"]["id"] == first["visit"]["id"] and again["conflict"] is False
    assert db.session.query(Visit).count() == 1


def test_the_same_batch_twice_changes_nothing(client, station):
    place, token = station
    people = [person() for _ in range(3)]
    batch = [item(personal(phone), offline=True, scanned_at=(utcnow() - timedelta(seconds=5)).isoformat(),
                  note={"text": "贷款预审", "loan_amount": 5_000_000, "business_type": "餐饮", "referred_bank": "济宁银行"})
             for _, phone in people]
    first = sync(client, token, *batch)
    counts = (db.session.query(Visit).count(), db.session.query(Scan).count(), db.session.query(VisitNote).count())
    again = sync(client, token, *batch)
    assert [r["result"] for r in first] == ["ok"] * 3
    assert [(r["result"], r["visit"]["id"]) for r in again] == [(r["result"], r["visit"]["id"]) for r in first]
    assert all(r["replayed"] for r in again) and not any(r["replayed"] for r in first)
    assert (db.session.query(Visit).count(), db.session.query(Scan).count(),
            db.session.query(VisitNote).count()) == counts == (3, 3, 3)


def test_malformed_items_do_not_spoil_the_good_ones(client, station):
    place, token = station
    user, phone = person()
    good = personal(phone)
    forged = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    results = sync(client, token, item("CY:this-is-not-a-code"), item(forged), item(good))
    assert [r["result"] for r in results] == ["rejected", "rejected", "ok"]
    assert results[0]["code"] == "malformed"
    failed = db.session.query(Scan).filter_by(result="rejected").all()
    assert len(failed) == 2 and failed[0].code_excerpt.startswith("CY:")


def test_two_offline_devices_meeting_the_same_person_are_flagged(client, station, auth):
    place, token = station
    _, other_token = make_scanner(place, name="二号扫码枪")
    user, phone = person()
    morning = utcnow() - timedelta(minutes=4)  # credentials are good from 5 minutes before they were issued
    one = sync(client, token, item(personal(phone, morning.timestamp()), offline=True, scanned_at=morning.isoformat()))
    two = sync(client, other_token, item(personal(phone, morning.timestamp() + 60), offline=True,
                                         scanned_at=(morning + timedelta(seconds=60)).isoformat()))
    assert one[0]["result"] == "ok" and two[0]["result"] == "duplicate" and two[0]["conflict"] is True
    review = client.get("/api/admin/checkin-scans?kind=conflict", headers=auth(make_user("admin"))).get_json()
    assert [r["nonce"] for r in review] == [two[0]["nonce"]]
    # the same device twice is an ordinary duplicate, not a conflict
    three = sync(client, token, item(personal(phone), offline=True))
    assert three[0]["result"] == "duplicate" and three[0]["conflict"] is False


def test_revoked_credential_forced_offline_and_rejected_online(client, station, auth):
    place, token = station
    user, phone = person()
    code = personal(phone)
    client.delete(f"/api/me/devices/{phone.id}", headers=auth(user))
    online = sync(client, token, item(code))[0]
    assert online["result"] == "rejected" and online["code"] == "revoked"
    offline = sync(client, token, item(code, offline=True))[0]
    assert offline["result"] == "forced" and offline["code"] == "revoked" and "待核查" in offline["message"]
    visit = db.session.get(Visit, offline["visit"]["id"])
    assert visit.forced_reason == "revoked"
    forced = client.get("/api/admin/checkin-scans?kind=forced", headers=auth(make_user("admin"))).get_json()
    assert [r["nonce"] for r in forced] == [offline["nonce"]]


def test_blocked_person_is_forced_offline(client, station, auth):
    place, token = station
    user, phone = person()
    code = personal(phone)
    client.patch(f"/api/admin/users/{user.id}", json={"is_active": False}, headers=auth(make_user("admin")))
    result = sync(client, token, item(code, offline=True))[0]
    assert result["result"] == "forced" and result["code"] == "user_blocked"


def test_a_cached_credential_is_refused_as_soon_as_its_phone_is_revoked_or_its_person_blocked(client, station, auth):
    """Verified credentials are remembered per process (codes.authentic), but revocation is not a property
    of the signature: the engine reads the batch's phones and people from the database every time
    (station._people), so a revoked phone or a blocked person is refused from the next batch on."""
    place, token = station
    user, phone = person()
    other, other_phone = person()
    codes.forget_verified()
    first = sync(client, token, item(personal(phone)), item(personal(other_phone)))
    assert [r["result"] for r in first] == ["ok", "ok"]
    assert codes.from_text(phone.credential) in codes._verified  # both credentials now cached
    assert codes.from_text(other_phone.credential) in codes._verified
    client.delete(f"/api/me/devices/{phone.id}", headers=auth(user))
    client.patch(f"/api/admin/users/{other.id}", json={"is_active": False}, headers=auth(make_user("admin")))
    later = sync(client, token, item(personal(phone)), item(personal(other_phone)))
    assert [(r["result"], r["code"]) for r in later] == [("rejected", "revoked"), ("rejected", "user_blocked")]


def test_revoked_device_hands_in_its_offline_scans(client, station, auth):
    place, token = station
    user, phone = person()
    before = utcnow() - timedelta(minutes=3)
    early = item(personal(phone, before.timestamp()), scanned_at=before.isoformat())
    device_id = client.get("/api/scanner/bundle", headers={"X-Device-Token": token}).get_json()["device"]["id"]
    admin = make_user("admin")
    assert client.delete(f"/api/scanners/{device_id}", headers=auth(admin)).status_code < 300
    other, other_phone = person()
    late = item(personal(other_phone))
    results = sync(client, token, early, late)
    assert results[0]["result"] == "ok"  # scanned while the device was still good
    assert results[1]["result"] == "forced" and results[1]["code"] == "device_revoked"
    refused = client.get("/api/checkins/today", headers={"X-Device-Token": token})
    assert refused.status_code == 401 and refused.get_json()["code"] == "device_revoked"


def test_a_device_clock_running_behind_is_corrected(client, station):
    place, token = station
    user, phone = person()
    now = utcnow()
    behind = timedelta(hours=2)  # the scanner's clock says two hours earlier than it is
    code = personal(phone, now.timestamp() - 20)  # the entrepreneur's phone is right
    result = sync(client, token, item(code, offline=True, scanned_at=(now - behind - timedelta(seconds=20)).isoformat()),
                  sent_at=(now - behind).isoformat())[0]
    assert result["result"] == "ok"
    visited = db.session.get(Visit, result["visit"]["id"]).visited_at
    assert abs((visited - (now - timedelta(seconds=20))).total_seconds()) < 5
    uncorrected = sync(client, token, item(personal(make_device(make_entrepreneur()), now.timestamp() - 20), offline=True,
                                           scanned_at=(now - behind).isoformat()))[0]
    assert uncorrected["result"] == "rejected" and uncorrected["code"] == "not_yet_valid"


def test_a_device_clock_far_ahead_is_refused(client, station):
    place, token = station
    user, phone = person()
    result = sync(client, token, item(personal(phone), scanned_at=(utcnow() + timedelta(hours=1)).isoformat()))[0]
    assert result["result"] == "rejected" and result["code"] == "clock_skew"


def test_duplicate_nonces_in_a_batch_are_refused_and_nothing_written(client, station):
    place, token = station
    user, phone = person()
    same = item(personal(phone))
    answer = client.post("/api/checkins/sync", json={"items": [same, same]}, headers={"X-Device-Token": token})
    assert answer.status_code == 422 and db.session.query(Scan).count() == 0


def test_station_staff_scan_with_their_account(client, auth):
    place = make_place()
    staff = make_user("station_staff", place=place)
    user, phone = person()
    answer = client.post("/api/checkins/sync", json={"items": [item(personal(phone))]}, headers=auth(staff))
    assert answer.status_code == 200 and answer.get_json()["results"][0]["result"] == "ok"
    visit = db.session.query(Visit).one()
    assert visit.staff_id == staff.id and visit.place_id == place.id and visit.device_id is None
    elsewhere = make_place(name="创贷之家·别处")
    answer = client.post("/api/checkins/sync", json={"items": [item(personal(phone))], "place_id": elsewhere.id},
                         headers=auth(staff))
    assert answer.status_code == 403
    today = client.get("/api/checkins/today", headers=auth(staff)).get_json()
    assert today["total"] == 1 and today["by_purpose"]["loan"] == 1


def test_today_for_a_device(client, station):
    place, token = station
    for purpose in ("loan", "policy", "loan"):
        _, phone = person()
        sync(client, token, item(personal(phone), purpose=purpose))
    today = client.get("/api/checkins/today", headers={"X-Device-Token": token}).get_json()
    assert today["total"] == 3 and today["by_purpose"] == {"policy": 1, "guidance": 0, "loan": 2, "event": 0, "other": 0}
    assert today["place"]["id"] == place.id and today["last_received_at"]
