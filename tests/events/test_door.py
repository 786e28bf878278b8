"""Tickets at the door: online scans, second scans, offline queues replayed, forced entries."""
import secrets
from datetime import timedelta

import pytest

from backend.core import signing
from backend.core.codes import CodeType
from backend.core.db import utcnow
from backend.events import registrations
from backend.events.enums import EventState, RegistrationState
from backend.checkins.models import Scan
from backend.events.models import Registration
from backend.extensions import db
from tests.factories import make_entrepreneur, make_event, make_scanner, make_space, make_user


def nonce():
    return secrets.token_urlsafe(16)


def organiser_of(event):
    from backend.accounts.models import User

    return db.session.get(User, event.organiser_id)


def door_scans():
    return db.session.query(Scan).filter_by(channel="door")


def ticket_of(client, auth, person, registration_id):
    return client.get(f"/api/me/registrations/{registration_id}", headers=auth(person)).get_json()["ticket"]["code"]


@pytest.fixture
def seated(client, auth):
    """An event starting in an hour with one registered person: (event, person, registration id, ticket)."""
    now = utcnow()
    event = make_event(starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                       signup_closes_at=now + timedelta(hours=1))
    person = make_entrepreneur()
    registration = client.post(f"/api/events/{event.id}/registrations", headers=auth(person)).get_json()
    return event, person, registration["id"], registration["ticket"]["code"]


def scan(client, headers, *items, event_id=None):
    body = {"items": list(items)}
    if event_id:
        body["event_id"] = event_id
    answer = client.post("/api/events/checkins", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"]


def test_first_scan_checks_in_and_second_says_when(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    first = scan(client, staff, {"nonce": nonce(), "code": code})[0]
    assert first["result"] == "ok" and first["message"] == "签到成功"
    assert first["registration"]["id"] == registration_id and first["registration"]["name"] == "测***"
    second = scan(client, staff, {"nonce": nonce(), "code": code})[0]
    assert second["result"] == "duplicate" and second["message"].startswith("已签到（")
    counts = client.get(f"/api/organiser/events/{event.id}/counts", headers=staff).get_json()
    assert counts["checked_in"] == 1 and counts["registered"] == 1


def test_replayed_batch_changes_nothing(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    scanned_at = (utcnow() - timedelta(minutes=5)).isoformat()
    batch = [{"nonce": nonce(), "code": code, "scanned_at": scanned_at, "offline": True},
             {"nonce": nonce(), "code": code, "scanned_at": scanned_at, "offline": True}]
    first = scan(client, staff, *batch)
    rows = door_scans().count()
    again = scan(client, staff, *batch)
    assert [r["result"] for r in first] == ["ok", "duplicate"]
    assert [r["result"] for r in again] == ["ok", "duplicate"] and all(r["replayed"] for r in again)
    assert door_scans().count() == rows == 2
    checked = db.session.get(Registration, registration_id, populate_existing=True).checked_in_at
    assert abs((checked - utcnow()).total_seconds() - (-300)) < 5  # the original scan time, not the upload's


def test_malformed_items_do_not_spoil_the_good_ones(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    forged = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    results = scan(client, staff, {"nonce": nonce(), "code": "not-a-ticket-at-all"},
                   {"nonce": nonce(), "code": forged}, {"nonce": nonce(), "code": code})
    assert [r["result"] for r in results] == ["rejected", "rejected", "ok"]
    assert results[0]["code"] == "malformed" and results[1]["code"] in ("bad_signature", "malformed")


def test_cancelled_ticket_refused_online_and_forced_when_let_in_offline(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    client.post(f"/api/me/registrations/{registration_id}/cancel", headers=auth(person))
    online = scan(client, staff, {"nonce": nonce(), "code": code})[0]
    assert online["result"] == "rejected" and online["code"] == "registration_cancelled"
    offline = scan(client, staff, {"nonce": nonce(), "code": code, "offline": True})[0]
    assert offline["result"] == "forced" and offline["code"] == "registration_cancelled"
    assert "已记录" in offline["message"]
    stored = door_scans().filter_by(registration_id=registration_id, result="forced").one()
    assert stored.result.value == "forced" and stored.reason == "registration_cancelled"
    assert db.session.get(Registration, registration_id, populate_existing=True).checked_in_at is None


def test_ticket_of_another_place_is_refused_for_device_and_organiser(client, auth, seated):
    event, person, registration_id, code = seated
    other = make_space(name="喵小创·别处空间")
    _, token = make_scanner(other)
    answer = scan(client, {"X-Device-Token": token}, {"nonce": nonce(), "code": code})[0]
    assert answer["result"] == "rejected" and answer["code"] == "wrong_place"
    stranger = make_user("organiser", place=other)
    assert scan(client, auth(stranger), {"nonce": nonce(), "code": code})[0]["code"] == "wrong_place"
    _, home_token = make_scanner(event.place)
    assert scan(client, {"X-Device-Token": home_token}, {"nonce": nonce(), "code": code})[0]["result"] == "ok"


@pytest.mark.parametrize("refusal", ["not_yet_valid", "expired", "registration_cancelled", "event_cancelled"])
@pytest.mark.parametrize("offline", [False, True])
def test_no_door_writes_for_another_places_event_whatever_the_ticket_says(client, auth, refusal, offline):
    """Authority first: a ticket of place P at place Q's door (its organiser, its scanner, an organiser
    naming Q's own event) is rejected for lack of authority, offline or not, and nothing is stored —
    even when the ticket would also be refused for its time or state, which offline would be forced."""
    now = utcnow()
    starts = now + timedelta(days=4) if refusal == "not_yet_valid" else now + timedelta(hours=1)
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=2), signup_closes_at=starts)
    if refusal == "expired":  # held yesterday
        event.starts_at, event.ends_at = now - timedelta(days=1), now - timedelta(hours=22)
    person = make_entrepreneur()
    registration = registered(event, person)
    code = ticket_text_of(registration)
    if refusal == "registration_cancelled":
        registration.state = RegistrationState.cancelled
    elif refusal == "event_cancelled":
        event.state = EventState.cancelled
    db.session.flush()
    other = make_space(name="喵小创·别处空间")
    stranger = make_user("organiser", place=other)
    _, device_token = make_scanner(other)
    own_event = make_event(place=other, organiser=stranger)
    callers = [(auth(stranger), None), ({"X-Device-Token": device_token}, None), (auth(stranger), own_event.id)]
    for headers, event_id in callers:
        answer = scan(client, headers, {"nonce": nonce(), "code": code, "offline": offline,
                                        "scanned_at": now.isoformat()}, event_id=event_id)[0]
        assert answer["result"] == "rejected", answer
        assert answer["code"] == ("wrong_event" if event_id else "wrong_place")
        assert answer["registration"] is None  # nothing about another place's registrant
    assert door_scans().filter_by(registration_id=registration.id).count() == 0
    assert db.session.get(Registration, registration.id, populate_existing=True).checked_in_at is None
    # the event's own organiser offline, for the same ticket: the time or state refusal is kept as forced
    home = scan(client, auth(organiser_of(event)), {"nonce": nonce(), "code": code, "offline": True,
                                                    "scanned_at": now.isoformat()})[0]
    assert (home["result"], home["code"]) == ("forced", refusal)


def registered(event, person):
    """A registered seat, whatever the event's time (written directly: sign-up would refuse a past event)."""
    registration = Registration(event_id=event.id, user_id=person.id, state=RegistrationState.registered)
    db.session.add(registration)
    db.session.flush()
    return registration


def ticket_text_of(registration):
    from backend.events import door

    return door.ticket_text(registration)


def test_wrong_event_at_the_door_page(client, auth, seated):
    event, person, registration_id, code = seated
    other = make_event(place=event.place, organiser=organiser_of(event))
    answer = scan(client, auth(organiser_of(event)), {"nonce": nonce(), "code": code}, event_id=other.id)[0]
    assert answer["code"] == "wrong_event" and answer["message"] == "这张票不是本场活动的"


def test_ticket_window_uses_the_scan_time_and_clock_skew_is_refused(client, auth):
    now = utcnow()
    event = make_event(starts_at=now + timedelta(days=4), ends_at=now + timedelta(days=4, hours=2))
    person = make_entrepreneur()
    registration = client.post(f"/api/events/{event.id}/registrations", headers=auth(person)).get_json()
    staff = auth(organiser_of(event))
    early = scan(client, staff, {"nonce": nonce(), "code": registration["ticket"]["code"]})[0]
    assert early["result"] == "rejected" and early["code"] == "not_yet_valid"
    # the ticket's window is the event's: the door says when it opens, not that a phone's clock is wrong
    assert early["message"] == "电子票尚未生效：活动开始前 3 小时起可签到"
    ahead = scan(client, staff, {"nonce": nonce(), "code": registration["ticket"]["code"],
                                 "scanned_at": (now + timedelta(days=4, minutes=10)).isoformat()})[0]
    assert ahead["code"] == "clock_skew"


def test_pending_and_waitlisted_have_no_ticket_and_a_forged_one_is_not_registered(client, auth):
    event = make_event(capacity=1)
    client.post(f"/api/events/{event.id}/registrations", headers=auth(make_entrepreneur()))
    waiting = client.post(f"/api/events/{event.id}/registrations", headers=auth(make_entrepreneur())).get_json()
    assert waiting["state"] == "waitlisted" and waiting["ticket"] is None
    # a correctly signed ticket for a registration that holds no seat (e.g. issued before a change)
    code = signing.sign_text(CodeType.ticket, {"event_id": event.id, "registration_id": waiting["id"]})
    answer = scan(client, auth(organiser_of(event)), {"nonce": nonce(), "code": code})[0]
    assert answer["code"] == "not_registered"


def test_cancelling_the_event_revokes_tickets_and_tells_everyone(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    answer = client.post(f"/api/organiser/events/{event.id}/cancel", json={"reason": "场地临时维修"}, headers=staff)
    assert answer.status_code == 200 and answer.get_json()["told"] == 1
    assert scan(client, staff, {"nonce": nonce(), "code": code})[0]["code"] == "event_cancelled"
    _, token = make_scanner(event.place)
    bundle = client.get("/api/scanner/bundle", headers={"X-Device-Token": token}).get_json()
    assert registration_id in bundle["revoked_tickets"]
    detail = client.get(f"/api/me/registrations/{registration_id}", headers=auth(person)).get_json()
    assert detail["ticket"] is None and detail["event"]["state"] == "cancelled"
    assert detail["event"]["cancel_reason"] == "场地临时维修"


def test_door_list_and_scans(client, auth, seated):
    event, person, registration_id, code = seated
    staff = auth(organiser_of(event))
    door = client.get(f"/api/organiser/events/{event.id}/door-list", headers=staff).get_json()
    assert door["registered"] == [registration_id] and door["checked_in"] == {}
    assert door["names"] == {str(registration_id): "测***"}
    scan(client, staff, {"nonce": nonce(), "code": code})
    door = client.get(f"/api/organiser/events/{event.id}/door-list", headers=staff).get_json()
    assert list(door["checked_in"]) == [str(registration_id)]
    listed = client.get("/api/organiser/events", headers=staff).get_json()
    assert [(e["id"], e["checked_in_count"]) for e in listed] == [(event.id, 1)]
    scans = client.get(f"/api/organiser/events/{event.id}/scans", headers=staff).get_json()
    assert [s["result"] for s in scans] == ["ok"] and scans[0]["name"] == "测***"


def test_duplicate_nonces_in_one_batch_are_refused_whole(client, auth, seated):
    event, person, registration_id, code = seated
    same = nonce()
    answer = client.post("/api/events/checkins", json={"items": [{"nonce": same, "code": code}, {"nonce": same, "code": code}]},
                         headers=auth(organiser_of(event)))
    assert answer.status_code == 422
    assert door_scans().count() == 0
    assert registrations.check_invariants() == []


@pytest.mark.parametrize("raw", [
    {"nonce": "n" * 16, "code": "CY:" + "A" * 40},
    {"nonce": "a-b_c" * 4, "code": "CY:" + "B" * 40, "offline": True, "scanned_at": "2026-12-05T01:02:03.456Z"},
    {"nonce": "x" * 64, "code": "C" * 600, "offline": False, "scanned_at": "2026-12-05T09:02:03+08:00"},
    {"nonce": "y" * 20, "code": "C" * 10, "scanned_at": "2026-12-05T09:02:03.123456-05:30"},
    {"nonce": "y" * 20, "code": "C" * 10, "scanned_at": None},
])
def test_the_door_pages_usual_item_loads_as_the_schema_loads_it(raw):
    from backend.events.schemas import DoorScanIn, plain_scan

    assert plain_scan(raw) == DoorScanIn().load(raw)


@pytest.mark.parametrize("raw", [
    {"nonce": "short", "code": "CY:" + "A" * 40},  # refused by the schema
    {"nonce": "n" * 16 + "\n", "code": "CY:" + "A" * 40},
    {"nonce": "n" * 16, "code": "CY:A\u202e" + "A" * 40},
    {"nonce": "n" * 16, "code": "C" * 601},
    {"nonce": "n" * 16, "code": "C" * 40, "offline": "true"},  # the schema decides these
    {"nonce": "n" * 16, "code": "C" * 40, "scanned_at": "2026-12-05 01:02:03Z"},
    {"nonce": "n" * 16, "code": "C" * 40, "scanned_at": "1999-12-05T01:02:03Z"},
    {"nonce": "n" * 16, "code": "C" * 40, "extra": 1},
    ["n" * 16],
])
def test_any_other_item_goes_through_the_schema(raw):
    from backend.events.schemas import plain_scan

    assert plain_scan(raw) is None


def test_a_bad_item_is_named_by_its_index_among_good_ones(client, auth, seated):
    event, person, registration_id, code = seated
    items = [{"nonce": nonce(), "code": code}, {"nonce": "bad", "code": code}, {"nonce": nonce(), "code": code, "offline": 1}]
    answer = client.post("/api/events/checkins", json={"items": items}, headers=auth(organiser_of(event)))
    assert answer.status_code == 422
    errors = answer.get_json()["details"]["json"]["items"]
    assert set(errors) == {"1"} and "扫码编号" in errors["1"]["nonce"][0]
