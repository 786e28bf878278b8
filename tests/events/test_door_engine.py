"""The door as a channel of the one check-in engine: the device clock corrected by sent_at, the
earliest scan holds the check-in whichever batch comes first, two devices meeting one ticket offline
are a conflict, rejected offline scans are kept, and a revoked scanner's upload is forced, reviewed,
unless the ticket is not its place's (authority first)."""
import secrets
from datetime import datetime, timedelta

import pytest

from backend.checkins.models import Scan
from backend.core.db import utcnow
from backend.events.enums import RegistrationState
from backend.events.models import Registration
from backend.extensions import db
from tests.events.test_door import organiser_of
from tests.factories import make_entrepreneur, make_event, make_scanner, make_space, make_user


def nonce():
    return secrets.token_urlsafe(16)


def scan(client, headers, *items, sent_at=None, event_id=None):
    body = {"items": list(items)}
    if sent_at is not None:
        body["sent_at"] = sent_at.isoformat()
    if event_id is not None:
        body["event_id"] = event_id
    answer = client.post("/api/events/checkins", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def at(code, when, offline=True):
    return {"nonce": nonce(), "code": code, "scanned_at": when.isoformat(), "offline": offline}


def door_rows():
    return {s.nonce: (s.result.value, s.reason, s.conflict)
            for s in db.session.query(Scan).filter_by(channel="door").populate_existing()}


@pytest.fixture
def door(client, auth):
    """An event starting in an hour (its tickets open 3 hours before), one registered person, two door scanners."""
    now = utcnow()
    event = make_event(starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                       signup_closes_at=now + timedelta(hours=1))
    person = make_entrepreneur()
    registration = client.post(f"/api/events/{event.id}/registrations", headers=auth(person)).get_json()
    one, one_token = make_scanner(event.place, name="东门扫码枪")
    two, two_token = make_scanner(event.place, name="西门扫码枪")
    return {"event": event, "person": person, "id": registration["id"], "code": registration["ticket"]["code"],
            "one": (one, {"X-Device-Token": one_token}), "two": (two, {"X-Device-Token": two_token})}


def test_the_earliest_scan_holds_the_check_in_when_the_later_batch_arrives_first(client, auth, door):
    now = utcnow()
    (one, one_headers), (two, two_headers) = door["one"], door["two"]
    later, earlier = at(door["code"], now - timedelta(minutes=5)), at(door["code"], now - timedelta(minutes=20))
    first = scan(client, one_headers, later)[0]
    assert (first["result"], first["conflict"]) == ("ok", False)
    second = scan(client, two_headers, earlier)[0]
    assert (second["result"], second["conflict"]) == ("ok", False)
    registration = db.session.get(Registration, door["id"], populate_existing=True)
    assert registration.checkin_nonce == earlier["nonce"]
    assert abs((registration.checked_in_at - (now - timedelta(minutes=20))).total_seconds()) < 1
    assert door_rows() == {later["nonce"]: ("duplicate", None, True), earlier["nonce"]: ("ok", None, False)}
    again = scan(client, one_headers, later)[0]
    assert (again["result"], again["conflict"], again["replayed"]) == ("duplicate", True, True)
    assert again["message"].startswith("已签到（")
    review = client.get("/api/admin/checkin-scans?kind=conflict&channel=door",
                        headers=auth(make_user("admin"))).get_json()
    assert [(r["nonce"], r["device_name"], r["event_title"], r["person_name"], r["result_label"]) for r in review] == [
        (later["nonce"], "东门扫码枪", door["event"].title, "测***", "已签到（多台设备重复）")]
    assert client.get("/api/admin/checkin-scans?kind=conflict&channel=place",
                      headers=auth(make_user("admin"))).get_json() == []


def test_two_devices_meeting_one_ticket_offline_are_a_conflict_the_same_device_is_not(client, door):
    now = utcnow()
    (_, one_headers), (_, two_headers) = door["one"], door["two"]
    first = scan(client, one_headers, at(door["code"], now - timedelta(minutes=9)))[0]
    same = scan(client, one_headers, at(door["code"], now - timedelta(minutes=8)))[0]
    other = scan(client, two_headers, at(door["code"], now - timedelta(minutes=7)))[0]
    online = scan(client, two_headers, {"nonce": nonce(), "code": door["code"]})[0]
    assert [(r["result"], r["conflict"]) for r in (first, same, other, online)] == [
        ("ok", False), ("duplicate", False), ("duplicate", True), ("duplicate", True)]


def test_the_door_clock_is_corrected_by_sent_at(client, door):
    now = utcnow()
    behind = timedelta(hours=5)  # the scanner's clock says five hours earlier: before the ticket opens
    _, headers = door["one"]
    answer = client.post("/api/events/checkins", headers=headers, json={
        "items": [at(door["code"], now - behind - timedelta(minutes=2))], "sent_at": (now - behind).isoformat()})
    result = answer.get_json()["results"][0]
    assert result["result"] == "ok"
    assert abs((datetime.fromisoformat(answer.get_json()["server_time"]) - now).total_seconds()) < 5
    checked = db.session.get(Registration, door["id"], populate_existing=True).checked_in_at
    assert abs((checked - (now - timedelta(minutes=2))).total_seconds()) < 5
    # a clock ahead is moved back the same way, so the scan is not refused as from the future
    person = make_entrepreneur()
    from tests.events.test_door import registered, ticket_text_of  # noqa: PLC0415

    code = ticket_text_of(registered(door["event"], person))
    ahead = timedelta(hours=2)
    result = scan(client, headers, at(code, now + ahead - timedelta(minutes=1)), sent_at=now + ahead)[0]
    assert result["result"] == "ok"


def test_a_rejected_offline_door_scan_is_kept_and_reviewed(client, auth, door):
    _, headers = door["one"]
    forged = door["code"][:-4] + ("AAAA" if not door["code"].endswith("AAAA") else "BBBB")
    results = scan(client, headers, at("CY:THIS-IS-NOT-A-TICKET", utcnow()), at(forged, utcnow()))
    assert [r["result"] for r in results] == ["rejected", "rejected"]
    assert results[0]["code"] == "malformed" and results[0]["registration"] is None
    stored = db.session.query(Scan).filter_by(channel="door", result="rejected").all()
    assert sorted(s.nonce for s in stored) == sorted(r["nonce"] for r in results)
    assert {s.place_id for s in stored} == {door["event"].place_id}
    rejected = client.get("/api/admin/checkin-scans?kind=rejected&channel=door",
                          headers=auth(make_user("admin"))).get_json()
    assert sorted(r["nonce"] for r in rejected) == sorted(r["nonce"] for r in results)
    first = next(r for r in rejected if r["nonce"] == results[0]["nonce"])
    assert (first["channel_label"], first["device_name"], first["place_name"], first["reason_label"]) == (
        "活动签到", "东门扫码枪", door["event"].place.name, "二维码无法识别（不是本平台的码，或内容不完整）")
    assert first["code_excerpt"].startswith("CY:") and first["offline"] is True
    # a registration refused online is in the log too, with whose it was
    db.session.get(Registration, door["id"]).state = RegistrationState.cancelled
    db.session.flush()
    online = scan(client, headers, {"nonce": nonce(), "code": door["code"]})[0]
    assert (online["result"], online["code"], online["registration"]["id"]) == (
        "rejected", "registration_cancelled", door["id"])
    assert db.session.query(Scan).filter_by(nonce=online["nonce"]).one().registration_id == door["id"]


def test_a_revoked_door_scanner_hands_in_its_scans_as_forced_every_one_reviewed(client, auth, door):
    (one, headers), _ = door["one"], door["two"]
    admin = make_user("admin")
    assert client.delete(f"/api/scanners/{one.id}", headers=auth(admin)).status_code == 200
    now = utcnow()  # after the revocation
    batch = [at(door["code"], now), at(door["code"], now + timedelta(seconds=1)),
             {"nonce": nonce(), "code": door["code"]}]  # even "online": a revoked device hands in what it scanned
    results = scan(client, headers, *batch)
    assert [(r["result"], r["code"]) for r in results] == [("forced", "device_revoked")] * 3
    assert all(r["message"].startswith("离线时已放行，已记录待核查") for r in results)
    assert all(r["registration"]["id"] == door["id"] for r in results)
    assert db.session.get(Registration, door["id"], populate_existing=True).checked_in_at is None
    forced = client.get("/api/admin/checkin-scans?kind=forced&channel=door", headers=auth(admin)).get_json()
    assert sorted(r["nonce"] for r in forced) == sorted(i["nonce"] for i in batch)
    assert {(r["reason"], r["reason_label"], r["device_name"]) for r in forced} == {
        ("device_revoked", "扫码设备停用后仍在扫码", "东门扫码枪")}
    # authority first: another place's ticket from the revoked device is refused, never forced
    elsewhere = make_event(place=make_space(name="喵小创·别处空间"))
    stranger = make_entrepreneur()
    other = client.post(f"/api/events/{elsewhere.id}/registrations", headers=auth(stranger)).get_json()
    refused = scan(client, headers, at(other["ticket"]["code"], utcnow()))[0]
    assert (refused["result"], refused["code"], refused["registration"]) == ("rejected", "wrong_place", None)
    assert db.session.query(Scan).filter_by(registration_id=other["id"]).count() == 0
    # scans made before the revocation still count
    early = scan(client, headers, at(door["code"], now - timedelta(minutes=10)))[0]
    assert early["result"] == "ok"


def test_an_organiser_phone_files_a_scan_naming_no_event_under_the_door_pages_event_place(client, auth, door):
    """No scanner device, so no device place: the event the door page names says where the door stands."""
    organiser = organiser_of(door["event"])
    [answer] = scan(client, auth(organiser), at("CY:THIS-IS-NOT-A-TICKET", utcnow()), event_id=door["event"].id)
    assert (answer["result"], answer["code"], answer["registration"]) == ("rejected", "malformed", None)
    stored = db.session.query(Scan).filter_by(nonce=answer["nonce"]).one()
    assert (stored.place_id, stored.device_id, stored.staff_id) == (door["event"].place_id, None, organiser.id)
    [listed] = [r for r in client.get("/api/admin/checkin-scans?kind=rejected&channel=door",
                                      headers=auth(make_user("admin"))).get_json() if r["nonce"] == answer["nonce"]]
    assert listed["place_name"] == door["event"].place.name


def test_two_organisers_own_phones_meeting_one_ticket_offline_are_a_conflict_one_phone_is_not(client, auth, door):
    """No scanner device on either side: the staff member's own phone is the device."""
    now = utcnow()
    event = door["event"]
    first_phone = auth(organiser_of(event))
    second_phone = auth(make_user("organiser", place=event.place, name="钱组织"))
    first = scan(client, first_phone, at(door["code"], now - timedelta(minutes=9)), event_id=event.id)[0]
    same = scan(client, first_phone, at(door["code"], now - timedelta(minutes=8)), event_id=event.id)[0]
    other = scan(client, second_phone, at(door["code"], now - timedelta(minutes=7)), event_id=event.id)[0]
    assert [(r["result"], r["conflict"]) for r in (first, same, other)] == [
        ("ok", False), ("duplicate", False), ("duplicate", True)]
