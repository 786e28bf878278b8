"""Events: who may organise where, create / edit / publish / cancel, covers, and the lists people read."""
from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import sqlalchemy as sa
from PIL import Image, ImageOps
from sqlalchemy.orm import undefer

from backend.core import audit, memo, uploads
from backend.core.db import utcnow
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.devices import service as devices
from backend.events import registrations
from backend.events.access import ensure_organiser as _ensure_organiser, managed, organiser_place_ids
from backend.events.enums import OPEN_STATES, EventState, RegistrationState
from backend.events.models import Event, Registration
from backend.extensions import db
from backend.notifications import service as notifications
from backend.places.enums import PlaceKind
from backend.places.models import Place
from backend.core.localtime import LOCAL

# the sizes the pages show a cover at (width × height, 16:9); made once from the stored upload
COVER_SIZES = {"card": (480, 270), "full": (1200, 675)}
EDITABLE_AFTER_PUBLISH = {"title", "description", "cover_id", "ends_at", "capacity", "waitlist", "signup_closes_at"}


# --- who may organise: backend/events/access.py (registrations use it without this module) ----------

def public(*, id: int) -> Event:
    """An event anyone may read: published or cancelled (a registrant must see that it was cancelled)."""
    event = db.session.get(Event, id)
    if event is None or event.state == EventState.draft:
        raise NotFound("活动不存在或尚未发布", code="event_not_found")
    return event


# --- create, edit, publish, cancel --------------------------------------------------------------

def _check_times(values: dict) -> None:
    if values["ends_at"] <= values["starts_at"]:
        raise DomainError("结束时间应晚于开始时间", code="invalid_times", status=422, details={"field": "ends_at"})
    if values["signup_closes_at"] <= values["signup_opens_at"]:
        raise DomainError("报名截止时间应晚于报名开始时间", code="invalid_times", status=422,
                          details={"field": "signup_closes_at"})
    if values["signup_closes_at"] > values["ends_at"]:
        raise DomainError("报名截止时间不能晚于活动结束时间", code="invalid_times", status=422,
                          details={"field": "signup_closes_at"})


def _snapshot(event: Event) -> dict:
    return {"title": event.title, "state": event.state.value, "capacity": event.capacity,
            "starts_at": event.starts_at.isoformat(), "place_id": event.place_id}


def create(*, actor, data: dict) -> Event:
    place = db.session.get(Place, data["place_id"])
    if place is None or not place.is_active:
        raise DomainError("场所不存在或已停用", code="place_not_found", status=422, details={"field": "place_id"})
    _ensure_organiser(actor, place.id)
    _check_times(data)
    _check_cover(actor, data)
    event = Event(organiser_id=actor.id, **data)
    db.session.add(event)
    db.session.flush()
    audit.record(actor=actor, action="event.create", target_type="event", target_id=event.id, after=_snapshot(event))
    return event


def update(*, actor, id: int, data: dict) -> Event:
    event = managed(user=actor, id=id, lock=True)
    if event.state == EventState.cancelled:
        raise DomainError("活动已取消，不能再修改", code="event_cancelled", status=409)
    if event.state == EventState.published:
        locked = sorted(set(data) - EDITABLE_AFTER_PUBLISH)
        if locked:
            raise DomainError("活动已发布，只能修改标题、介绍、结束时间、报名截止、名额和候补", code="field_locked",
                              status=409, details={"fields": locked})
    if "place_id" in data:
        _ensure_organiser(actor, data["place_id"])
    values = {name: data.get(name, getattr(event, name))
              for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at")}
    _check_times(values)
    if data.get("cover_id") not in (None, event.cover_id):
        _check_cover(actor, data)
    if "capacity" in data and data["capacity"] < event.seats_taken:
        raise DomainError(f"已有 {event.seats_taken} 人报名成功，名额不能少于这个数", code="capacity_below_taken",
                          status=409, details={"seats_taken": event.seats_taken})
    before = _snapshot(event)
    for name, value in data.items():
        setattr(event, name, value)
    db.session.flush()
    if event.state == EventState.published:
        registrations.fill_from_waitlist(event)  # more seats, or the waitlist just turned off
    audit.record(actor=actor, action="event.update", target_type="event", target_id=event.id, before=before,
                 after=_snapshot(event))
    return event


def publish(*, actor, id: int) -> Event:
    event = managed(user=actor, id=id, lock=True)
    if event.state != EventState.draft:
        raise DomainError("只有草稿可以发布", code="invalid_transition", status=409)
    if event.ends_at <= utcnow():
        raise DomainError("活动已经结束，不能发布", code="event_ended", status=409)
    event.state, event.published_at = EventState.published, utcnow()
    audit.record(actor=actor, action="event.publish", target_type="event", target_id=event.id)
    return event


def cancel(*, actor, id: int, reason: str) -> tuple[Event, int]:
    """Cancel the event; every live registrant is told and every ticket revoked. Returns how many were told."""
    event = managed(user=actor, id=id, lock=True)
    if event.state == EventState.cancelled:
        raise DomainError("活动已经取消", code="event_cancelled", status=409)
    was_published = event.state == EventState.published
    event.state, event.cancelled_at, event.cancel_reason = EventState.cancelled, utcnow(), reason
    told = 0
    if was_published:
        live = db.session.scalars(sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.state.in_(OPEN_STATES)).order_by(Registration.id)).all()
        for registration in live:
            if registration.state == RegistrationState.registered:
                devices.revoke_ticket(registration_id=registration.id)
            notifications.notify(user_id=registration.user_id, kind="event_cancelled", title="活动已取消",
                                 body=f"您报名的“{event.title}”已取消：{reason}",
                                 link=f"/pages/event-detail/index?id={event.id}", dedupe=f"event-cancel:{event.id}")
            told += 1
    audit.record(actor=actor, action="event.cancel", target_type="event", target_id=event.id,
                 after={"reason": reason, "told": told})
    return event, told


# --- covers ---------------------------------------------------------------------------------------

def _check_cover(actor, data: dict) -> None:
    """A cover is one of the organiser's own uploaded images; its page sizes are made now (so a broken
    image is refused here) and kept in the process's memory."""
    if data.get("cover_id") is None:
        return
    upload = uploads.owned(user=actor, ids=[data["cover_id"]])[0]
    if upload.kind != "image":
        raise DomainError("封面须为图片（JPG、PNG、WebP）", code="invalid_image", status=422,
                          details={"field": "cover_id"})
    for size in COVER_SIZES:
        _cover_bytes(upload, size)


def _cover_bytes(upload, size: str) -> bytes:
    """The cover at one page size, drawn from the upload's bytes in the database (never on disk)."""
    cache = memo.renders()
    key = ("cover", upload.sha256, size)
    data = cache.get(key)
    if data is None:
        width, height = COVER_SIZES[size]
        with Image.open(BytesIO(uploads.content_of(upload))) as image:
            fitted = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        out = BytesIO()
        fitted.save(out, "JPEG", quality=82, optimize=True, progressive=True)
        data = out.getvalue()
        cache.put(key, data)
    return data


def cover_upload(*, event: Event):
    """The upload an event's cover is drawn from (its content hash makes the ETag)."""
    if event.cover_id is None:
        raise NotFound("该活动没有封面", code="cover_not_found")
    return db.session.get(uploads.Upload, event.cover_id)


def cover_bytes(*, upload, size: str) -> bytes:
    return _cover_bytes(upload, size)


# --- lists ----------------------------------------------------------------------------------------

def public_query(*, district=None, kind=None, q=None, date_from=None, date_to=None, place_id=None,
                 when: str = "upcoming") -> sa.Select:
    """Published events; upcoming (not yet ended) soonest first, or past ones latest first."""
    now = utcnow()
    query = sa.select(Event).join(Place, Place.id == Event.place_id).where(Event.state == EventState.published)
    if when == "past":
        query = query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    if district:
        query = query.where(Place.district == district)
    if kind:
        query = query.where(Event.kind == kind)
    if place_id:
        query = query.where(Event.place_id == place_id)
    if date_from:
        query = query.where(Event.ends_at >= _local_midnight(date_from))
    if date_to:
        query = query.where(Event.starts_at < _local_midnight(date_to) + timedelta(days=1))
    if q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Event.title.ilike(pattern), Place.name.ilike(pattern)))
    return query


def _local_midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL)


def organiser_query(*, user, state=None, place_id=None) -> sa.Select:
    query = sa.select(Event).options(undefer(Event.checked_in_count)).order_by(Event.starts_at.desc(), Event.id.desc())
    places = organiser_place_ids(user)
    if places is not None:
        query = query.where(Event.place_id.in_(places or [-1]))
    if state:
        query = query.where(Event.state == state)
    if place_id:
        query = query.where(Event.place_id == place_id)
    return query


def organiser_places(*, user) -> list[Place]:
    places = organiser_place_ids(user)
    query = sa.select(Place).where(Place.is_active.is_(True)).order_by(Place.kind != PlaceKind.space, Place.name)
    if places is not None:
        query = query.where(Place.id.in_(places or [-1]))
    return db.session.scalars(query.limit(500)).all()
