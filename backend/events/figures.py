"""The numbers the yearly targets are counted in: events held by month and type per space and per
district, sign-ups and attendance; and the attendance sheet an organiser downloads."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from backend.accounts.enums import SUBJECT_LABELS
from backend.accounts.models import User
from backend.core import regions, tables, targets
from backend.core.db import utcnow
from backend.core.regions import DISTRICTS
from backend.core.validators import mask_name, mask_phone
from backend.events import access
from backend.events.enums import KIND_LABELS, REGISTRATION_LABELS, EventKind, EventState, RegistrationState
from backend.events.models import Event, Registration
from backend.extensions import db
from backend.places.models import Place
from backend.core.localtime import LOCAL

# The yearly targets are data (the programme's targets, core/targets.py). These figures count the
# organisers' spaces, which are Jining's: its plan's targets, unless a district of another city is asked.
TARGET_CITY = "370800"


def _blank() -> dict:
    return {"held": 0, "by_kind": {kind.value: 0 for kind in EventKind}, "by_month": [0] * 12, "signups": 0,
            "registered": 0, "checked_in": 0}


def _rate(row: dict) -> dict:
    row["attendance_rate"] = round(row["checked_in"] / row["registered"], 4) if row["registered"] else None
    return row


def figures(*, user, year: int, group: str = "district", district: str | None = None) -> dict:
    """Events held (published, started by now) in ``year``, Asia/Shanghai months."""
    start, end = datetime(year, 1, 1, tzinfo=LOCAL), datetime(year + 1, 1, 1, tzinfo=LOCAL)
    tally = (sa.select(Registration.event_id, sa.func.count().label("signups"),
                       sa.func.count().filter(Registration.state == RegistrationState.registered).label("registered"),
                       sa.func.count(Registration.checked_in_at).label("checked_in"))
             .group_by(Registration.event_id).subquery())
    query = (sa.select(Event.kind, Event.starts_at, Place.id, Place.name, Place.district,
                       sa.func.coalesce(tally.c.signups, 0), sa.func.coalesce(tally.c.registered, 0),
                       sa.func.coalesce(tally.c.checked_in, 0))
             .join(Place, Place.id == Event.place_id).outerjoin(tally, tally.c.event_id == Event.id)
             .where(Event.state == EventState.published, Event.starts_at >= start, Event.starts_at < end,
                    Event.starts_at <= utcnow()))
    places = access.organiser_place_ids(user)
    if places is not None:
        query = query.where(Event.place_id.in_(places or [-1]))
    if district:
        query = query.where(Place.district == district)
    rows: dict[str, dict] = {}
    total = _blank()
    for kind, starts_at, place_id, place_name, place_district, signups, registered, checked_in in db.session.execute(query):
        key, name = (str(place_id), place_name) if group == "place" else (place_district, DISTRICTS.get(place_district, place_district))
        row = rows.setdefault(key, {"key": key, "name": name, **_blank()})
        month = starts_at.astimezone(LOCAL).month - 1
        for target in (row, total):
            target["held"] += 1
            target["by_kind"][kind.value] += 1
            target["by_month"][month] += 1
            target["signups"] += signups
            target["registered"] += registered
            target["checked_in"] += checked_in
    ordered = sorted(rows.values(), key=lambda r: (-r["held"], r["key"]))
    return {"year": year, "group": group, "rows": [_rate(r) for r in ordered], "total": _rate(total),
            "kinds": [{"value": k.value, "label": label} for k, label in KIND_LABELS.items()],
            "targets": {**_targets(year, district), "events_held": total["held"],
                        "mentor_visits_held": total["by_kind"]["mentor_visit"]}}


def _targets(year: int, district: str | None) -> dict:
    city = (regions.parent_of(district) if district else None) or TARGET_CITY
    return {"events": targets.value(year=year, region=city, measure="events_held"),
            "mentor_visits": targets.value(year=year, region=city, measure="mentor_visits")}


HEADER = ["报名编号", "姓名", "手机", "主体类型", "报名状态", "报名时间", "签到时间"]


def attendance_export(*, actor, event_id: int, fmt: str) -> tuple[bytes, str, str]:
    event = access.managed(user=actor, id=event_id)
    registrations = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)
                                       .options(selectinload(Registration.user).selectinload(User.profile))
                                       .order_by(Registration.id)).all()
    rows = []
    for r in registrations:
        profile = r.user.profile
        rows.append([r.id, mask_name(r.user.name) or "", mask_phone(r.user.phone) or "",
                     SUBJECT_LABELS.get(profile.subject_type, "") if profile and profile.subject_type else "",
                     REGISTRATION_LABELS[r.state], _local(r.created_at), _local(r.checked_in_at)])
    title = f"{event.title}（{_local(event.starts_at)}）签到表"
    return tables.export(name=f"event-{event.id}-attendance", header=HEADER, rows=rows, fmt=fmt, title=title,
                         widths=[10, 10, 14, 12, 10, 20, 20])


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if moment else ""
