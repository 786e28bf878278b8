"""The one check-in engine at a station: the earliest scan holds the visit whichever batch comes
first, and every scan of a revoked phone stays forced and in the review queue with its reason."""
import secrets
from datetime import timedelta

import pytest

from backend.checkins.models import Scan, Visit
from backend.core.codes import Purpose
from backend.core.db import utcnow
from backend.extensions import db
from tests.factories import make_device, make_entrepreneur, make_place, make_scanner, make_user, pay_code


def item(phone, at, purpose, **extra):
    code = pay_code(phone, ts=int(at.timestamp()), purpose=Purpose.identify)
    return {"nonce": secrets.token_urlsafe(16), "code": code, "purpose": purpose, "scanned_at": at.isoformat(), "offline": True, **extra}


def sync(client, token, *items, sent_at=None):
    body = {"items": list(items)}
    if sent_at is not None:
        body["sent_at"] = sent_at.isoformat()
    answer = client.post("/api/checkins/sync", json=body, headers={"X-Device-Token": token})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


@pytest.fixture
def desks():
    place = make_place()
    one, one_token = make_scanner(place, name="一号桌")
    two, two_token = make_scanner(place, name="二号桌")
    return place, (one, one_token), (two, two_token)


def test_the_earliest_scan_holds_the_visit_when_the_later_batch_arrives_first(client, auth, desks):
    place, (one, one_token), (two, two_token) = desks
    person = make_entrepreneur()
    phone = make_device(person)
    now = utcnow()
    later = item(phone, now - timedelta(minutes=1), "loan")  # desk one, uploaded first
    earlier = item(phone, now - timedelta(minutes=3), "policy")  # desk two, uploaded second
    first = sync(client, one_token, later)[0]
    assert (first["result"], first["conflict"]) == ("ok", False)
    second = sync(client, two_token, earlier)[0]
    assert (second["result"], second["conflict"]) == ("ok", False)
    assert second["visit"]["id"] == first["visit"]["id"] and second["visit"]["purpose"] == "policy"
    visit = db.session.get(Visit, first["visit"]["id"], populate_existing=True)
    assert (visit.device_id, visit.purpose.value, visit.scan_nonce) == (two.id, "policy", earlier["nonce"])
    assert abs((visit.visited_at - (now - timedelta(minutes=3))).total_seconds()) < 1
    stored = {s.nonce: (s.result.value, s.conflict) for s in db.session.query(Scan).populate_existing()}
    assert stored == {later["nonce"]: ("duplicate", True), earlier["nonce"]: ("ok", False)}
    # desk one's batch sent again now answers what is true: its scan is the duplicate and the conflict
    again = sync(client, one_token, later)[0]
    assert (again["result"], again["conflict"], again["replayed"]) == ("duplicate", True, True)
    assert again["visit"]["purpose"] == "policy" and again["message"].startswith("今日已到访（")
    review = client.get("/api/admin/checkin-scans?kind=conflict&channel=place",
                        headers=auth(make_user("admin"))).get_json()
    assert [(r["nonce"], r["device_name"], r["person_name"]) for r in review] == [(later["nonce"], "一号桌", "测***")]
    assert db.session.query(Visit).count() == 1


def test_in_one_batch_the_earliest_scan_counts_whatever_the_order(client, desks):
    place, (one, one_token), _ = desks
    phone = make_device(make_entrepreneur())
    now = utcnow()
    late, early = item(phone, now - timedelta(minutes=1), "loan"), item(phone, now - timedelta(minutes=2), "guidance")
    results = sync(client, one_token, late, early)
    assert [(r["result"], r["conflict"]) for r in results] == [("duplicate", False), ("ok", False)]
    assert results[0]["visit"]["purpose"] == "guidance"


def test_every_scan_of_a_revoked_phone_is_forced_and_listed_for_review(client, auth, desks):
    place, (one, one_token), (two, two_token) = desks
    person = make_entrepreneur()
    phone = make_device(person)
    now = utcnow()
    scans = [item(phone, now - timedelta(minutes=3), "loan"), item(phone, now - timedelta(minutes=2), "loan")]
    other = item(phone, now - timedelta(minutes=1), "policy")
    client.delete(f"/api/me/devices/{phone.id}", headers=auth(person))
    results = sync(client, one_token, *scans) + sync(client, two_token, other)
    assert [(r["result"], r["code"]) for r in results] == [("forced", "revoked")] * 3
    assert all(r["message"].startswith("离线时已放行，已记录待核查") for r in results)
    assert {r["visit"]["id"] for r in results} == {db.session.query(Visit).one().id}
    forced = client.get("/api/admin/checkin-scans?kind=forced", headers=auth(make_user("admin"))).get_json()
    assert sorted(r["nonce"] for r in forced) == sorted(s["nonce"] for s in scans + [other])
    assert {(r["reason"], r["reason_label"], r["channel"], r["channel_label"]) for r in forced} == {
        ("revoked", "出示二维码的手机或电子票已被停用", "place", "场所签到")}
    assert {r["place_name"] for r in forced} == {place.name}
    # the same batch again: the same answers, nothing new stored
    assert [r["result"] for r in sync(client, one_token, *scans)] == ["forced", "forced"]
    assert db.session.query(Scan).count() == 3


def test_a_revoked_scanner_s_later_scans_are_all_forced_and_reviewed(client, auth, desks):
    place, (one, one_token), _ = desks
    admin = make_user("admin")
    assert client.delete(f"/api/scanners/{one.id}", headers=auth(admin)).status_code == 200
    phones = [make_device(make_entrepreneur()) for _ in range(2)]
    now = utcnow()  # after the revocation: the device did not know yet
    batch = [item(phones[0], now, "loan"), item(phones[0], now + timedelta(seconds=1), "loan"),
             item(phones[1], now + timedelta(seconds=2), "loan", offline=False)]
    results = sync(client, one_token, *batch)
    assert [(r["result"], r["code"]) for r in results] == [("forced", "device_revoked")] * 3
    forced = client.get("/api/admin/checkin-scans?kind=forced&reviewed=false", headers=auth(admin)).get_json()
    assert sorted(r["nonce"] for r in forced) == sorted(i["nonce"] for i in batch)
    assert {(r["reason_label"], r["device_name"]) for r in forced} == {("扫码设备停用后仍在扫码", "一号桌")}


def test_an_authentic_code_out_of_its_window_is_forced_offline_and_rejected_online(client, auth, desks):
    place, (one, one_token), _ = desks
    phone = make_device(make_entrepreneur())
    now = utcnow()
    stale = now - timedelta(minutes=3)  # a code made three minutes before the scan: a screenshot, or a bad clock
    code = pay_code(phone, ts=int(stale.timestamp()), purpose=Purpose.identify)
    online = sync(client, one_token, {"nonce": secrets.token_urlsafe(16), "code": code, "purpose": "loan"})[0]
    assert (online["result"], online["code"], online["visit"]) == ("rejected", "expired", None)
    offline = sync(client, one_token, {"nonce": secrets.token_urlsafe(16), "code": code, "purpose": "loan",
                                       "scanned_at": now.isoformat(), "offline": True})[0]
    assert (offline["result"], offline["code"]) == ("forced", "expired")
    assert db.session.get(Visit, offline["visit"]["id"]).forced_reason == "expired"
    forced = client.get("/api/admin/checkin-scans?kind=forced", headers=auth(make_user("admin"))).get_json()
    assert [(r["nonce"], r["reason_label"]) for r in forced] == [(offline["nonce"], "二维码已过期（扫码时间晚于有效期）")]


def test_a_nonce_the_door_holds_is_not_taken_by_the_station(client, auth, desks):
    from backend.checkins.enums import Channel

    place, (one, one_token), _ = desks
    phone = make_device(make_entrepreneur())
    taken = secrets.token_urlsafe(16)
    db.session.add(Scan(nonce=taken, channel=Channel.door, result="rejected", reason="malformed", received_at=utcnow()))
    db.session.flush()
    answer = sync(client, one_token, {**item(phone, utcnow(), "loan"), "nonce": taken})[0]
    assert (answer["result"], answer["code"], answer["visit"]) == ("rejected", "nonce_reused", None)
    assert db.session.query(Scan).filter_by(nonce=taken).one().channel == Channel.door
    assert db.session.query(Visit).count() == 0
