"""Places registry: 喵小创 spaces, startup streets, markets and 创贷之家 stations."""
from __future__ import annotations

import math

import sqlalchemy as sa

from backend.accounts import scope
from backend.accounts import service as accounts
from backend.accounts.models import RoleGrant
from backend.core import audit
from backend.core.errors import NotFound
from backend.extensions import db
from backend.places.models import Place

EDITABLE = ("kind", "name", "district", "address", "lat", "lng", "opening_hours", "services", "operator", "phone",
            "is_active")


def get_or_raise(*, id: int, include_inactive: bool = False) -> Place:
    place = db.session.get(Place, id)
    if place is None or (not place.is_active and not include_inactive):
        raise NotFound("场所不存在", code="place_not_found")
    return place


def admin_query(*, actor, kind=None, district=None, q=None, state=None) -> sa.Select:
    """Places for the administrators' console, inside the administrator's region: open and closed,
    or only one state."""
    query = scope.limit(list_query(kind=kind, district=district, q=q, include_inactive=True), Place.district,
                        user=actor)
    if state:
        query = query.where(Place.is_active.is_(state == "open"))
    return query


@accounts.finds_places  # a role bound to a place needs an open place
def _place_for_role(place_id: int) -> Place:
    return get_or_raise(id=place_id)


def list_query(*, kind=None, district=None, q=None, lat=None, lng=None, include_inactive=False) -> sa.Select:
    """A Select of places; nearest first when a location is given, else by kind and name."""
    query = sa.select(Place)
    if not include_inactive:
        query = query.where(Place.is_active.is_(True))
    if kind:
        query = query.where(Place.kind == kind)
    if district:
        query = query.where(Place.district == district)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(sa.or_(Place.name.ilike(f"%{escaped}%", escape="\\"),
                                   Place.address.ilike(f"%{escaped}%", escape="\\")))
    if lat is not None and lng is not None:
        # equirectangular approximation: good for ordering within a province, portable SQL
        scale = math.cos(math.radians(lat))
        dist2 = (Place.lat - lat) * (Place.lat - lat) + (Place.lng - lng) * scale * (Place.lng - lng) * scale
        query = query.order_by(Place.lat.is_(None), dist2, Place.id)
    else:
        query = query.order_by(Place.kind, Place.name, Place.id)
    return query


def distance_m(place: Place, lat: float | None, lng: float | None) -> int | None:
    """Great-circle distance in metres (haversine)."""
    if None in (lat, lng, place.lat, place.lng):
        return None
    p1, p2 = math.radians(lat), math.radians(place.lat)
    dp, dl = p2 - p1, math.radians(place.lng - lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6_371_000 * math.asin(math.sqrt(h)))


def _snapshot(place: Place) -> dict:
    data = {key: getattr(place, key) for key in EDITABLE}
    data["kind"] = str(place.kind)
    return data


def ids_in_scope(user) -> list[int] | None:
    """Places an administrator's region holds (closed ones too); None for a province administrator."""
    allowed = scope.districts(user)
    if allowed is None:
        return None
    return list(db.session.scalars(sa.select(Place.id).where(Place.district.in_(sorted(allowed)))))


def administered(*, actor, id: int) -> Place:
    """A place (open or closed) in the administrator's region: 404 otherwise."""
    place = get_or_raise(id=id, include_inactive=True)
    scope.check(place.district, user=actor, message="场所不存在", error="place_not_found")
    return place


def create(*, actor, data: dict) -> Place:
    scope.check_region(data["district"], user=actor)
    place = Place(**{k: v for k, v in data.items() if k in EDITABLE})
    db.session.add(place)
    db.session.flush()
    audit.record(actor=actor, action="place.create", target_type="place", target_id=place.id, after=_snapshot(place))
    return place


def update(*, actor, place: Place, data: dict) -> Place:
    scope.check(place.district, user=actor, message="场所不存在", error="place_not_found")
    if "district" in data:
        scope.check_region(data["district"], user=actor)
    before = _snapshot(place)
    for key, value in data.items():
        if key in EDITABLE:
            setattr(place, key, value)
    db.session.flush()
    audit.record_changes(actor=actor, action="place.update", target_type="place", target_id=place.id,
                         before=before, after=_snapshot(place))
    return place


def with_distances(*, page: list[Place], lat: float | None, lng: float | None) -> list[Place]:
    """Set ``place.distance_m`` from (lat, lng) on each place of a list."""
    for place in page:
        place.distance_m = distance_m(place, lat, lng)
    return page


def with_staff_count(place: Place) -> Place:
    place.staff_count = staff_count(place=place)
    return place


def with_staff_counts(page: list[Place]) -> list[Place]:
    """``staff_count`` on each place of a page, in one query."""
    ids = [place.id for place in page]
    counts = dict(db.session.execute(
        sa.select(RoleGrant.place_id, sa.func.count(sa.distinct(RoleGrant.user_id)))
        .where(RoleGrant.place_id.in_(ids)).group_by(RoleGrant.place_id)).all()) if ids else {}
    for place in page:
        place.staff_count = counts.get(place.id, 0)
    return page


def staff_count(*, place: Place) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(RoleGrant.user_id))).where(RoleGrant.place_id == place.id)
    )
