"""Signing up through the API: seats, waitlist in arrival order, approval, cancelling and promotion."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.core.db import utcnow
from backend.events import registrations
from backend.events.models import Registration
from backend.extensions import db
from backend.notifications.models import Notification
from tests.core.queries import get_counting
from tests.factories import complete_profile, make_entrepreneur, make_event


def sign_up(client, auth, user, event):
    return client.post(f"/api/events/{event.id}/registrations", headers=auth(user))


def states(event):
    return [r.state.value for r in db.session.query(Registration).filter_by(event_id=event.id).order_by(Registration.id)]


def test_seats_then_waitlist_in_arrival_order(client, auth):
    event = make_event(capacity=2)
    people = [make_entrepreneur() for _ in range(4)]
    answers = [sign_up(client, auth, person, event) for person in people]
    assert [a.status_code for a in answers] == [201] * 4
    assert [a.get_json()["state"] for a in answers] == ["registered", "registered", "waitlisted", "waitlisted"]
    assert [a.get_json()["waitlist_position"] for a in answers] == [None, None, 1, 2]
    assert answers[0].get_json()["ticket"]["code"]
    assert answers[2].get_json()["ticket"] is None
    detail = client.get(f"/api/events/{event.id}", headers=auth(people[0])).get_json()
    assert detail["seats_left"] == 0 and detail["my_registration"]["state"] == "registered"
    assert registrations.check_invariants() == []


def test_signing_up_twice_returns_the_same_registration(client, auth):
    event = make_event()
    person = make_entrepreneur()
    first = sign_up(client, auth, person, event)
    again = sign_up(client, auth, person, event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert states(event) == ["registered"]


def test_cancelled_seat_goes_to_first_on_waitlist_who_is_told(client, auth):
    event = make_event(capacity=1)
    holder, first, second = (make_entrepreneur() for _ in range(3))
    seat = sign_up(client, auth, holder, event).get_json()
    waiting = [sign_up(client, auth, p, event).get_json() for p in (first, second)]
    answer = client.post(f"/api/me/registrations/{seat['id']}/cancel", headers=auth(holder))
    assert answer.status_code == 200 and answer.get_json()["state"] == "cancelled"
    assert answer.get_json()["ticket"] is None
    assert states(event) == ["cancelled", "registered", "waitlisted"]
    told = db.session.query(Notification).filter_by(user_id=first.id, kind="event_promoted").one()
    assert "候补成功" in told.title and f"id={waiting[0]['id']}" in told.link
    assert db.session.query(Notification).filter_by(user_id=second.id, kind="event_promoted").count() == 0
    mine = client.get(f"/api/me/registrations/{waiting[1]['id']}", headers=auth(second)).get_json()
    assert mine["waitlist_position"] == 1
    assert registrations.check_invariants() == []


def test_cancel_after_cancel_is_refused_and_frees_nothing(client, auth):
    event = make_event(capacity=1)
    person = make_entrepreneur()
    seat = sign_up(client, auth, person, event).get_json()
    assert client.post(f"/api/me/registrations/{seat['id']}/cancel", headers=auth(person)).status_code == 200
    again = client.post(f"/api/me/registrations/{seat['id']}/cancel", headers=auth(person))
    assert again.status_code == 409 and again.get_json()["code"] == "registration_not_live"
    db.session.refresh(event)
    assert event.seats_taken == 0


def test_a_waiting_person_promoted_while_cancelling_is_cancelled_and_the_seat_passes_on(client, auth):
    """The race CI once caught: someone else's cancellation promotes this person between reading
    their registration and cancelling it. The cancellation still succeeds, from the new state."""
    import sqlalchemy as sa
    event = make_event(capacity=1)
    holder, waiter, next_one = (make_entrepreneur() for _ in range(3))
    seat, mine, theirs = (sign_up(client, auth, p, event).get_json() for p in (holder, waiter, next_one))
    stale = db.session.get(Registration, mine["id"])  # held, so this request's copy says "waitlisted"
    assert stale.state.value == "waitlisted"
    # another request, meanwhile: the holder cancels and the waiter is promoted
    db.session.execute(sa.update(Registration).where(Registration.id == seat["id"]).values(state="cancelled")
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Registration).where(Registration.id == mine["id"]).values(state="registered")
                       .execution_options(synchronize_session=False))
    cancelled = registrations.cancel_mine(user=waiter, id=mine["id"])
    assert cancelled.state.value == "cancelled"
    assert states(event) == ["cancelled", "cancelled", "registered"]
    db.session.refresh(event)
    assert event.seats_taken == 1
    assert db.session.query(Notification).filter_by(user_id=next_one.id, kind="event_promoted").count() == 1


def test_signing_up_again_after_cancelling_goes_to_the_back(client, auth):
    event = make_event(capacity=1)
    person, other = make_entrepreneur(), make_entrepreneur()
    seat = sign_up(client, auth, person, event).get_json()
    client.post(f"/api/me/registrations/{seat['id']}/cancel", headers=auth(person))
    sign_up(client, auth, other, event)
    again = sign_up(client, auth, person, event)
    assert again.status_code == 201 and again.get_json()["state"] == "waitlisted"
    assert again.get_json()["id"] != seat["id"]


def test_full_without_waitlist_refuses_and_writes_nothing(client, auth):
    event = make_event(capacity=1, waitlist=False)
    sign_up(client, auth, make_entrepreneur(), event)
    late = make_entrepreneur()
    answer = sign_up(client, auth, late, event)
    assert answer.status_code == 409 and answer.get_json()["code"] == "event_full"
    assert answer.get_json()["message"] == "名额已满"
    assert states(event) == ["registered"]


@pytest.mark.parametrize("change,code", [
    ({"signup_opens_at": utcnow() + timedelta(days=1)}, "signup_not_open"),
    ({"signup_closes_at": utcnow() - timedelta(minutes=1), "signup_opens_at": utcnow() - timedelta(days=1)},
     "signup_closed"),
    ({"audience": {"subject_types": ["tech_startup"], "districts": []}}, "not_eligible"),
    ({"audience": {"subject_types": [], "districts": ["370881"]}}, "not_eligible"),
])
def test_refusals_have_a_code_and_chinese_message(client, auth, change, code):
    event = make_event(**change)
    answer = sign_up(client, auth, make_entrepreneur(), event)
    assert answer.status_code in (409, 422) and answer.get_json()["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.get_json()["message"])
    assert states(event) == []


def test_audience_match_lets_in(client, auth):
    event = make_event(audience={"subject_types": ["tech_startup"], "districts": ["370811"]})
    person = complete_profile(make_entrepreneur(), subject_type="tech_startup", district="370811")
    assert sign_up(client, auth, person, event).status_code == 201


def test_draft_and_unknown_events_are_not_found(client, auth):
    draft = make_event(state="draft")
    assert sign_up(client, auth, make_entrepreneur(), draft).get_json()["code"] == "event_not_found"
    assert client.get(f"/api/events/{draft.id}").status_code == 404
    assert client.post("/api/events/999999/registrations", headers=auth(make_entrepreneur())).status_code == 404


def test_approval_holds_a_seat_only_once_approved(client, auth):
    event = make_event(capacity=1, approval_required=True)
    organiser = event_organiser(event)
    a, b = make_entrepreneur(), make_entrepreneur()
    ra = sign_up(client, auth, a, event).get_json()
    rb = sign_up(client, auth, b, event).get_json()
    assert (ra["state"], rb["state"]) == ("pending", "pending")
    db.session.refresh(event)
    assert event.seats_taken == 0
    base = f"/api/organiser/events/{event.id}/registrations"
    assert client.post(f"{base}/{rb['id']}/approve", headers=auth(organiser)).get_json()["state"] == "registered"
    assert client.post(f"{base}/{ra['id']}/approve", headers=auth(organiser)).get_json()["state"] == "waitlisted"
    again = client.post(f"{base}/{ra['id']}/approve", headers=auth(organiser))
    assert again.status_code == 409 and again.get_json()["code"] == "registration_not_pending"
    assert registrations.check_invariants() == []


def test_rejected_person_cannot_sign_up_again(client, auth):
    event = make_event(approval_required=True)
    organiser = event_organiser(event)
    person = make_entrepreneur()
    mine = sign_up(client, auth, person, event).get_json()
    answer = client.post(f"/api/organiser/events/{event.id}/registrations/{mine['id']}/reject",
                         json={"reason": "名额优先留给本区创业者"}, headers=auth(organiser))
    assert answer.status_code == 200 and answer.get_json()["state"] == "rejected"
    again = sign_up(client, auth, person, event)
    assert again.status_code == 409 and again.get_json()["code"] == "registration_rejected"
    assert db.session.query(Notification).filter_by(user_id=person.id, kind="event_rejected").count() == 1


def test_raising_capacity_promotes_the_waitlist(client, auth):
    event = make_event(capacity=1)
    people = [make_entrepreneur() for _ in range(3)]
    for person in people:
        sign_up(client, auth, person, event)
    answer = client.patch(f"/api/organiser/events/{event.id}", json={"capacity": 2}, headers=auth(event_organiser(event)))
    assert answer.status_code == 200 and answer.get_json()["seats_taken"] == 2
    assert states(event) == ["registered", "registered", "waitlisted"]
    lower = client.patch(f"/api/organiser/events/{event.id}", json={"capacity": 1}, headers=auth(event_organiser(event)))
    assert lower.status_code == 409 and lower.get_json()["code"] == "capacity_below_taken"


def test_turning_waitlist_off_releases_the_queue(client, auth):
    event = make_event(capacity=1)
    for person in [make_entrepreneur() for _ in range(2)]:
        sign_up(client, auth, person, event)
    answer = client.patch(f"/api/organiser/events/{event.id}", json={"waitlist": False}, headers=auth(event_organiser(event)))
    assert answer.status_code == 200
    assert states(event) == ["registered", "cancelled"]


def event_organiser(event):
    from backend.accounts.models import User

    return db.session.get(User, event.organiser_id)


def test_my_registrations_list_upcoming_and_past(client, auth):
    person = make_entrepreneur()
    soon = make_event()
    sign_up(client, auth, person, soon)
    page = client.get("/api/me/registrations", headers=auth(person))
    assert page.status_code == 200
    assert [r["event"]["id"] for r in page.get_json()] == [soon.id]
    assert client.get("/api/me/registrations?when=past", headers=auth(person)).get_json() == []
    assert page.headers["X-Pagination"]




def test_cancelling_a_seat_of_a_cancelled_event_promotes_nobody(client, auth):
    event = make_event(capacity=1)
    holder, waiting = make_entrepreneur(), make_entrepreneur()
    seat = sign_up(client, auth, holder, event).get_json()
    sign_up(client, auth, waiting, event)
    client.post(f"/api/organiser/events/{event.id}/cancel", json={"reason": "场地维修"}, headers=auth(event_organiser(event)))
    assert client.post(f"/api/me/registrations/{seat['id']}/cancel", headers=auth(holder)).status_code == 200
    assert states(event) == ["cancelled", "waitlisted"]
    assert db.session.query(Notification).filter_by(user_id=waiting.id, kind="event_promoted").count() == 0


def test_the_list_says_full_by_the_same_rule_as_signing_up(client, auth):
    """'Full' is one rule (Event.full): the list says so exactly when signing up would be refused."""
    full = make_event(capacity=1, waitlist=False)
    queue = make_event(capacity=1, waitlist=True)
    approval = make_event(capacity=1, waitlist=False, approval_required=True)
    for event in (full, queue):
        assert sign_up(client, auth, make_entrepreneur(), event).status_code == 201
    person = make_entrepreneur()
    listed = {e["id"]: (e["can_sign_up"], e["reason_code"], e["reason"]) for e in
              client.get("/api/events", headers=auth(person)).get_json()}
    assert listed[full.id] == (False, "event_full", "名额已满")
    assert listed[queue.id] == (True, None, None) and listed[approval.id] == (True, None, None)
    assert sign_up(client, auth, person, full).get_json()["code"] == "event_full"
    assert sign_up(client, auth, person, queue).get_json()["state"] == "waitlisted"
    mine = client.get(f"/api/events/{queue.id}", headers=auth(person)).get_json()
    assert mine["reason_code"] == "already_registered" and mine["my_registration"]["state"] == "waitlisted"


def test_a_page_of_events_and_of_my_waitlist_places_costs_the_same_few_queries(client, auth):
    person = make_entrepreneur()

    def add(n):
        for _ in range(n):
            event = make_event(capacity=1)
            sign_up(client, auth, make_entrepreneur(), event)
            sign_up(client, auth, make_entrepreneur(), event)
            assert sign_up(client, auth, person, event).get_json()["waitlist_position"] == 2

    add(1)
    few_events, _ = get_counting(client, "/api/events", auth(person))
    few_mine, _ = get_counting(client, "/api/me/registrations", auth(person))
    add(5)
    many_events, events = get_counting(client, "/api/events", auth(person))
    many_mine, mine = get_counting(client, "/api/me/registrations", auth(person))
    assert (many_events, many_mine) == (few_events, few_mine)
    assert len(mine) == 6 and {r["waitlist_position"] for r in mine} == {2}
    assert sum(e["reason_code"] == "already_registered" for e in events) == 6


def test_a_sign_up_answers_the_seats_it_left_and_costs_two_statements(client, auth):
    """The answer's seat count comes from the guarded UPDATE itself (no reload), waitlisted answers show
    the event full, and the service runs the event read and one write (PostgreSQL; SQLite two writes)."""
    event = make_event(capacity=2)
    people = [make_entrepreneur() for _ in range(3)]
    answers = [sign_up(client, auth, person, event).get_json() for person in people[:2]]
    assert [(a["event"]["seats_taken"], a["event"]["seats_left"]) for a in answers] == [(1, 1), (2, 0)]
    late, event_id = make_entrepreneur(), event.id
    db.session.flush()
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement[:60])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        registration, created = registrations.sign_up(user=late, event_id=event_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert created and registration.state.value == "waitlisted"
    assert (registration.event.seats_taken, registration.event.seats_left) == (2, 0)
    assert len(seen) == (2 if db.engine.dialect.name == "postgresql" else 3), seen
    assert registrations.check_invariants() == []
