"""Check-in at streets, markets, spaces and 创贷之家 stations: the entrepreneur's own poster scan,
who may scan at a place, today's visits, the programme's figures, and the review of scans that went
wrong (rejected, forced, or the same person met by two offline devices)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from backend.accounts.models import User
from backend.checkins import engine
from backend.checkins.enums import PURPOSE_LABELS, Channel, ScanResult, VisitPurpose, VisitSource
from backend.checkins.models import Scan, Visit, VisitNote
from backend.core import audit, signing, tables
from backend.core.db import utcnow
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.core.regions import DISTRICTS
from backend.core.validators import mask_name
from backend.extensions import db
from backend.places.enums import KIND_LABELS
from backend.places import service as places
from backend.places.models import Place
from backend.core.localtime import LOCAL


def today() -> date:
    return datetime.now(LOCAL).date()


# --- who scans where ------------------------------------------------------------------------------

def staff_place_ids(user) -> list[int] | None:
    """Places this person may record visits at; None: every place (a province administrator; a city
    or district administrator: the places of their region)."""
    own = {g.place_id for g in user.grants if g.role.value == "station_staff" and g.place_id is not None}
    if user.has_role("admin"):
        regional = places.ids_in_scope(user)
        return None if regional is None else sorted(own | set(regional))
    return sorted(own)


def scanning_place(*, device, staff, place_id: int | None) -> int:
    if device is not None:
        if place_id is not None and place_id != device.place_id:
            raise DomainError("扫码设备只能在开通它的场所使用", code="wrong_place", status=422)
        return device.place_id
    places = staff_place_ids(staff)
    if places is not None and not places:
        raise Forbidden("您还没有被分配到驿站、街区或空间", code="forbidden")
    if place_id is None:
        if places is None or len(places) != 1:
            raise DomainError("请指定场所", code="no_place", status=422, details={"field": "place_id"})
        return places[0]
    if places is not None and place_id not in places:
        raise Forbidden("您不是该场所的工作人员", code="forbidden")
    return place_id


# --- the entrepreneur scans the poster ------------------------------------------------------------

def self_check_in(*, user, code: str, purpose: VisitPurpose, nonce: str) -> tuple[Visit, bool]:
    """Record my visit from the place's poster; the same place again today returns the first visit."""
    replay = db.session.scalar(sa.select(Scan).where(Scan.nonce == nonce))
    if replay is not None:
        if replay.user_id != user.id or replay.visit_id is None:
            raise DomainError("请求编号已被使用，请重新扫码", code="nonce_reused", status=409)
        return db.session.get(Visit, replay.visit_id), replay.result == ScanResult.ok
    parsed = signing.verify(code, expect="place")
    place = db.session.get(Place, parsed.fields["place_id"])
    if place is None or not place.is_active:
        raise DomainError("该场所已停用", code="place_inactive", status=422)
    now = utcnow()
    day = now.astimezone(LOCAL).date()
    made = db.session.execute(engine.insert(Visit).values(
        place_id=place.id, user_id=user.id, day=day, purpose=purpose, source=VisitSource.self_scan, visited_at=now,
        received_at=now, offline=False, scan_nonce=nonce)
        .on_conflict_do_nothing(index_elements=["place_id", "user_id", "day"]).returning(Visit.id)).scalar()
    visit = db.session.get(Visit, made) if made else db.session.scalar(sa.select(Visit).where(
        Visit.place_id == place.id, Visit.user_id == user.id, Visit.day == day))
    db.session.execute(engine.insert(Scan).values(
        nonce=nonce, result=ScanResult.ok if made else ScanResult.duplicate, place_id=place.id, user_id=user.id,
        visit_id=visit.id, purpose=purpose, scanned_at=now, received_at=now).on_conflict_do_nothing(
        index_elements=["nonce"]))
    return visit, made is not None


def my_visits_query(*, user) -> sa.Select:
    return sa.select(Visit).where(Visit.user_id == user.id).order_by(Visit.visited_at.desc(), Visit.id.desc())


# --- what staff see -------------------------------------------------------------------------------

def today_at(*, place_id: int) -> dict:
    day = today()
    rows = db.session.execute(sa.select(Visit.purpose, sa.func.count()).where(
        Visit.place_id == place_id, Visit.day == day).group_by(Visit.purpose)).all()
    by_purpose = {p.value: 0 for p in VisitPurpose}
    for purpose, count in rows:
        by_purpose[purpose.value] = count
    last = db.session.scalar(sa.select(sa.func.max(Scan.received_at)).where(Scan.place_id == place_id,
                                                                            Scan.channel == Channel.place))
    return {"place": db.session.get(Place, place_id), "day": day, "total": sum(by_purpose.values()),
            "by_purpose": by_purpose, "last_received_at": last}


def visits_query(*, place_ids: list[int] | None, day_from=None, day_to=None, purpose=None, district=None) -> sa.Select:
    query = sa.select(Visit).join(Place, Place.id == Visit.place_id).order_by(Visit.visited_at.desc(), Visit.id.desc())
    if place_ids is not None:
        query = query.where(Visit.place_id.in_(place_ids or [-1]))
    if day_from:
        query = query.where(Visit.day >= day_from)
    if day_to:
        query = query.where(Visit.day <= day_to)
    if purpose:
        query = query.where(Visit.purpose == purpose)
    if district:
        query = query.where(Place.district == district)
    return query


# --- figures --------------------------------------------------------------------------------------

def figures(*, place_ids: list[int] | None, day_from: date, day_to: date, group: str = "district",
            bucket: str = "month") -> dict:
    """Visits per place or district (and purpose) per day or month, with forced ones counted apart."""
    if (day_to - day_from).days > 366 * 3:
        raise DomainError("时间范围不能超过三年", code="range_too_long", status=422)
    period = (sa.func.strftime("%Y-%m", Visit.day) if db.session.get_bind().dialect.name == "sqlite"
              else sa.func.to_char(Visit.day, "YYYY-MM")) if bucket == "month" else Visit.day
    key = Place.district if group == "district" else Place.id
    query = (sa.select(key, period.label("period"), Visit.purpose, sa.func.count(),
                       sa.func.count(Visit.forced_reason), sa.func.count(sa.distinct(Visit.user_id)))
             .join(Place, Place.id == Visit.place_id)
             .where(Visit.day >= day_from, Visit.day <= day_to)
             .group_by(key, period, Visit.purpose))
    if place_ids is not None:
        query = query.where(Visit.place_id.in_(place_ids or [-1]))
    names = {}
    if group == "place":
        names = {p.id: p.name for p in db.session.scalars(sa.select(Place))}
    rows: dict[str, dict] = {}
    periods: set[str] = set()
    for group_key, when, purpose, count, forced, people in db.session.execute(query):
        when = str(when)
        periods.add(when)
        name = DISTRICTS.get(group_key, group_key) if group == "district" else names.get(group_key, str(group_key))
        row = rows.setdefault(str(group_key), {"key": str(group_key), "name": name, "total": 0, "forced": 0,
                                               "by_purpose": {p.value: 0 for p in VisitPurpose}, "by_period": {}})
        row["total"] += count
        row["forced"] += forced
        row["by_purpose"][purpose.value] += count
        row["by_period"][when] = row["by_period"].get(when, 0) + count
    ordered = sorted(rows.values(), key=lambda r: (-r["total"], r["key"]))
    return {"from": day_from, "to": day_to, "group": group, "bucket": bucket, "periods": sorted(periods),
            "rows": ordered, "total": sum(r["total"] for r in ordered),
            "purposes": [{"value": p.value, "label": label} for p, label in PURPOSE_LABELS.items()]}


EXPORT_HEADER = ["到访编号", "日期", "时间", "场所", "场所类型", "区县", "姓名", "目的", "方式", "离线", "待核查原因",
                 "服务记录"]


def export(*, place_ids, day_from, day_to, fmt: str) -> tuple[bytes, str, str]:
    query = (visits_query(place_ids=place_ids, day_from=day_from, day_to=day_to)
             .add_columns(User.name).join(User, User.id == Visit.user_id).limit(200_000))
    visits = db.session.execute(query).all()
    notes: dict[int, list[str]] = {}
    ids = [visit.id for visit, _ in visits]
    for start in range(0, len(ids), 5000):
        for note in db.session.scalars(sa.select(VisitNote).where(VisitNote.visit_id.in_(ids[start:start + 5000]))):
            notes.setdefault(note.visit_id, []).append(note.summary)
    rows = []
    for visit, name in visits:
        place = visit.place
        at = visit.visited_at.astimezone(LOCAL)
        rows.append([visit.id, visit.day.isoformat(), at.strftime("%H:%M"), place.name, KIND_LABELS[place.kind],
                     DISTRICTS.get(place.district, place.district), mask_name(name) or "", PURPOSE_LABELS[visit.purpose],
                     "扫场所码" if visit.source == VisitSource.self_scan else "工作人员扫码", "是" if visit.offline else "否",
                     visit.forced_reason or "", "；".join(notes.get(visit.id, []))])
    return tables.export(name=f"visits-{day_from}-{day_to}", header=EXPORT_HEADER, rows=rows, fmt=fmt,
                         title=f"到访记录 {day_from} 至 {day_to}", widths=[10, 12, 8, 28, 12, 10, 10, 10, 14, 6, 14, 40])


# --- review ---------------------------------------------------------------------------------------

def review_query(*, kind: str, reviewed: bool | None = None, channel: Channel | None = None,
                 place_ids=None) -> sa.Select:
    """One queue for places and doors. kind: rejected (the failed-scan log), forced, conflict;
    channel: place or door (both when None)."""
    query = sa.select(Scan).order_by(Scan.reviewed_at.is_(None).desc(), Scan.id.desc())  # waiting ones first
    if kind == "conflict":
        query = query.where(Scan.conflict.is_(True))
    else:
        query = query.where(Scan.result == ScanResult(kind))
    if channel is not None:
        query = query.where(Scan.channel == channel)
    if reviewed is not None:
        query = query.where(Scan.reviewed_at.is_not(None) if reviewed else Scan.reviewed_at.is_(None))
    if place_ids is not None:
        query = query.where(Scan.place_id.in_(place_ids or [-1]))
    return query


def review(*, actor, id: int, note: str) -> Scan:
    scan = db.session.get(Scan, id)
    regional = places.ids_in_scope(actor)
    if scan is not None and regional is not None and scan.place_id not in regional:
        scan = None  # another region's scan: as if it did not exist
    if scan is None or not (scan.conflict or scan.result in (ScanResult.rejected, ScanResult.forced)):
        raise NotFound("待核查记录不存在", code="scan_not_found")
    if scan.reviewed_at is not None:
        raise DomainError("该记录已核查", code="already_reviewed", status=409)
    scan.reviewed_at, scan.reviewed_by_id, scan.review_note = utcnow(), actor.id, note
    audit.record(actor=actor, action="checkin_scan.review", target_type="checkin_scan", target_id=scan.id,
                 after={"note": note, "result": scan.result.value, "conflict": scan.conflict})
    return scan

