"""Who may organise events at a place, and the event an organiser manages (404 if missing, 403 if
someone else's). Below both the events service and registrations, which each ask it."""
from __future__ import annotations

import sqlalchemy as sa

from backend.core.errors import Forbidden, NotFound
from backend.events.models import Event
from backend.extensions import db
from backend.places import service as places


def organiser_place_ids(user) -> list[int] | None:
    """The places this user organises events at; None means every place (a province administrator;
    a city or district administrator: the places of their region)."""
    own = {g.place_id for g in user.grants if g.role.value == "organiser" and g.place_id is not None}
    if user.has_role("admin"):
        regional = places.ids_in_scope(user)
        return None if regional is None else sorted(own | set(regional))
    return sorted(own)


def can_organise(user, place_id: int) -> bool:
    places = organiser_place_ids(user)
    return places is None or place_id in places


def ensure_organiser(user, place_id: int) -> None:
    if not can_organise(user, place_id):
        raise Forbidden("只有该场所的活动组织者或管理员可以管理这里的活动", code="forbidden")


def managed(*, user, id: int, lock: bool = False) -> Event:
    """An event the user organises (404 if it does not exist, 403 if it is someone else's)."""
    query = sa.select(Event).where(Event.id == id)
    event = db.session.scalar(query.with_for_update(of=Event) if lock else query)
    if event is None:
        raise NotFound("活动不存在", code="event_not_found")
    ensure_organiser(user, event.place_id)
    return event
