"""Every event endpoint × every role + anonymous (+ a scanner device at the door): who gets in,
the exact status each caller gets (tests/matrix.py); one who may not gets exactly 401 unauthorized /
403 forbidden. Organisers get in only at their own
space: an organiser of another place is refused on every organiser endpoint of this event."""
import secrets

import pytest

from backend.accounts.enums import Role
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules
from tests.vouchers.test_uploads import png_bytes

ROLES = [r.value for r in Role]
ANYONE = {"anonymous", *ROLES}
ENTREPRENEUR = {"entrepreneur"}
ORGANISERS = {"organiser", "admin"}
DOOR = {"organiser", "admin", "device"}

EVENT = {"place_id": "{place}", "title": "权限测试活动", "kind": "salon", "starts_at": "2030-01-02T14:00:00+08:00",
         "ends_at": "2030-01-02T16:00:00+08:00", "signup_opens_at": "2029-12-01T00:00:00+08:00",
         "signup_closes_at": "2030-01-02T12:00:00+08:00", "capacity": 10}

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("GET", "/api/events", None, ANYONE, 200),
    ("GET", "/api/events/{event}", None, ANYONE, 200),
    ("GET", "/api/events/{event}/cover/card", None, ANYONE, 200),
    ("POST", "/api/events/{open_event}/registrations", None, ENTREPRENEUR, 201),
    ("POST", "/api/events/checkins", {"items": [{"nonce": "{nonce}", "code": "{ticket}"}]}, DOOR, 200),
    ("GET", "/api/me/registrations", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/registrations/{registration}", None, ENTREPRENEUR, 200),
    ("POST", "/api/me/registrations/{registration}/cancel", None, ENTREPRENEUR, 200),
    ("GET", "/api/organiser/places", None, ORGANISERS, 200),
    ("GET", "/api/organiser/events", None, ORGANISERS, 200),
    ("POST", "/api/organiser/events", EVENT, ORGANISERS, 201),
    ("GET", "/api/organiser/events/{event}", None, ORGANISERS, 200),
    ("PATCH", "/api/organiser/events/{event}", {"title": "改个标题"}, ORGANISERS, 200),
    ("POST", "/api/organiser/events/{draft}/publish", None, ORGANISERS, 200),
    ("POST", "/api/organiser/events/{event}/cancel", {"reason": "权限测试取消"}, ORGANISERS, 200),
    ("GET", "/api/organiser/events/{event}/registrations", None, ORGANISERS, 200),
    ("POST", "/api/organiser/events/{event}/registrations/{pending}/approve", None, ORGANISERS, 200),
    ("POST", "/api/organiser/events/{event}/registrations/{pending}/reject", {"reason": "权限测试"}, ORGANISERS, 200),
    ("GET", "/api/organiser/events/{event}/counts", None, ORGANISERS, 200),
    ("GET", "/api/organiser/events/{event}/scans", None, ORGANISERS, 200),
    ("GET", "/api/organiser/events/{event}/door-list", None, ORGANISERS, 200),
    ("GET", "/api/organiser/events/{event}/export?format=csv", None, ORGANISERS, 200),
    ("GET", "/api/organiser/figures", None, ORGANISERS, 200),
]
PLACEHOLDERS = {"{event}": "event_id", "{open_event}": "event_id", "{draft}": "event_id",
                "{registration}": "registration_id", "{pending}": "registration_id"}
SCOPED = [e[:4] for e in ENDPOINTS if "/api/organiser/events/{" in e[1]]


def world(caller, place=None):
    from backend.core import uploads
    from backend.events import registrations, service
    from tests.factories import make_entrepreneur, make_event, make_space, make_user

    place = place or make_space()
    organiser = caller if caller is not None and caller.has_role("organiser") else make_user(Role.organiser, place=place)
    if caller is not None and caller.has_role("organiser") and not any(g.place_id == place.id for g in caller.grants):
        from backend.accounts import service as accounts

        accounts.grant_role(actor=None, user=caller, role=Role.organiser, place_id=place.id)
    cover = uploads.store(owner=organiser, data=png_bytes(), filename="cover.png")
    event = make_event(place=place, organiser=organiser, approval_required=True, cover_id=cover.id)
    draft = make_event(place=place, organiser=organiser, state="draft")
    holder = caller if caller is not None and caller.has_role("entrepreneur") else make_entrepreneur()
    mine, _ = registrations.sign_up(user=holder, event_id=event.id)
    pending, _ = registrations.sign_up(user=make_entrepreneur(), event_id=event.id)
    from datetime import timedelta

    from backend.core.db import utcnow

    soon = utcnow() + timedelta(hours=1)
    open_event = make_event(place=place, organiser=organiser, starts_at=soon, ends_at=soon + timedelta(hours=2),
                            signup_closes_at=soon)
    seat, _ = registrations.sign_up(user=make_entrepreneur(), event_id=open_event.id)
    from backend.events import door

    return {"place": place.id, "event": event.id, "draft": draft.id, "registration": mine.id,
            "pending": pending.id, "open_event": open_event.id, "ticket": door.ticket_text(seat),
            "nonce": secrets.token_urlsafe(16), "_place": place, "_service": service}




def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses(ENDPOINTS, {"anonymous", *ROLES})


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed, status):
    caller = None if who == "anonymous" else make_user(who)
    ids = world(caller)
    url = path.format(**{k: v for k, v in ids.items() if not k.startswith("_")})
    headers = {} if caller is None else auth(caller)
    response = client.open(url, method=method, json=fill(body, ids), headers=headers)
    assert_permission(response, who, allowed, status)


def test_a_scanner_device_of_the_place_works_the_door(client):
    from tests.factories import make_scanner

    ids = world(None)
    _, token = make_scanner(ids["_place"])
    answer = client.post("/api/events/checkins", json=fill(ENDPOINTS[4][2], ids), headers={"X-Device-Token": token})
    assert answer.status_code == 200 and answer.get_json()["results"][0]["result"] == "ok"
    refused = client.post("/api/events/checkins", json=fill(ENDPOINTS[4][2], ids), headers={"X-Device-Token": "nope"})
    assert refused.status_code == 401 and refused.get_json()["code"] == "device_unauthorized"


@pytest.mark.parametrize("method,path,body,allowed", SCOPED, ids=[f"{m} {p}" for m, p, _, _ in SCOPED])
def test_an_organiser_of_another_place_is_refused(client, make_user, auth, method, path, body, allowed):
    from tests.factories import make_space

    ids = world(None)
    stranger = make_user("organiser", place=make_space(name="喵小创·别处空间"))
    url = path.format(**{k: v for k, v in ids.items() if not k.startswith("_")})
    response = client.open(url, method=method, json=fill(body, ids), headers=auth(stranger))
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_every_event_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    prefixes = ("/api/events", "/api/me/registrations", "/api/organiser")
    routes = app_rules(app, prefixes)
    assert routes - table == set()
    assert table - routes == set()
