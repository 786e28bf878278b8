"""Sign-up bursts and cancel-vs-promote races on a real PostgreSQL database, many threads through
the whole request path. Afterwards: never more seats than the capacity, seats_taken equal to the
registered people, the waitlist promoted first come first served."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.events import registrations
from backend.events.models import Event, Registration
from backend.extensions import db
from tests.factories import make_entrepreneur, make_event
from tests.vouchers.test_concurrency import committed, hammer, pg_app, token  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres_only


def rows(app, event_id):
    with app.app_context():
        return [(r.id, r.user_id, r.state.value) for r in db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event_id).order_by(Registration.id))]


def test_two_thousand_sign_ups_for_a_hundred_seats(pg_app):
    event_id, people = committed(pg_app, lambda: (make_event(capacity=100).id,
                                                  [make_entrepreneur().id for _ in range(2000)]))
    answers = hammer(pg_app, [("POST", f"/api/events/{event_id}/registrations", None, token(pg_app, p))
                              for p in people])
    assert {status for status, _ in answers} == {201}
    states = [body["state"] for _, body in answers]
    assert states.count("registered") == 100 and states.count("waitlisted") == 1900
    stored = rows(pg_app, event_id)
    assert len(stored) == 2000 and len({user for _, user, _ in stored}) == 2000
    with pg_app.app_context():
        assert db.session.get(Event, event_id).seats_taken == 100
        assert registrations.check_invariants() == []
    # the waitlist is served in arrival order: five seats freed go to the five earliest in the queue
    waiting = sorted(rid for rid, _, state in stored if state == "waitlisted")
    by_id = {body["id"]: person for person, (_, body) in zip(people, answers)}
    leaving = [rid for rid, _, state in stored if state == "registered"][:5]
    assert {s for s, _ in hammer(pg_app, [("POST", f"/api/me/registrations/{rid}/cancel", None, token(pg_app, by_id[rid]))
                                          for rid in leaving])} == {200}
    after = dict((rid, state) for rid, _, state in rows(pg_app, event_id))
    assert [rid for rid in waiting if after[rid] == "registered"] == waiting[:5]
    last = client_get(pg_app, f"/api/me/registrations/{waiting[-1]}", by_id[waiting[-1]])
    assert last["waitlist_position"] == 1900 - 5


def client_get(app, url, user_id):
    return app.test_client().get(url, headers=token(app, user_id)).get_json()


def test_the_same_person_twice_at_once_gets_one_registration(pg_app):
    event_id, person = committed(pg_app, lambda: (make_event(capacity=5).id, make_entrepreneur().id))
    answers = hammer(pg_app, [("POST", f"/api/events/{event_id}/registrations", None, token(pg_app, person))] * 16)
    assert {status for status, _ in answers} <= {200, 201}
    assert len({body["id"] for _, body in answers}) == 1
    assert len(rows(pg_app, event_id)) == 1


def test_cancellations_racing_promotions_keep_fifo_and_the_count(pg_app):
    def build():
        event = make_event(capacity=10)
        people = [make_entrepreneur() for _ in range(60)]
        for person in people:
            registrations.sign_up(user=person, event_id=event.id)
        return event.id, [p.id for p in people]

    event_id, people = committed(pg_app, build)
    before = rows(pg_app, event_id)
    seated = [(rid, uid) for rid, uid, state in before if state == "registered"]
    waiting = [(rid, uid) for rid, uid, state in before if state == "waitlisted"]
    assert len(seated) == 10 and len(waiting) == 50
    # every seated person and every other waiting person cancel at once
    leaving = seated + waiting[1::2]
    answers = hammer(pg_app, [("POST", f"/api/me/registrations/{rid}/cancel", None, token(pg_app, uid))
                              for rid, uid in leaving])
    assert {status for status, _ in answers} == {200}
    after = dict((rid, state) for rid, _, state in rows(pg_app, event_id))
    staying = [rid for rid, _ in waiting[0::2]]  # 25 still waiting before the cancellations
    promoted = [rid for rid in staying if after[rid] == "registered"]
    assert len(promoted) == 10
    assert promoted == staying[:10]  # first come, first served
    assert all(after[rid] == "waitlisted" for rid in staying[10:])
    with pg_app.app_context():
        assert db.session.get(Event, event_id).seats_taken == 10
        assert registrations.check_invariants() == []
