"""The scanner's upload: a batch of scans, each with the scanner's nonce, the moment it was scanned
(the device's clock) and whether the device accepted it offline. The answer is per item.

One batch costs a handful of statements whatever its size: the replays are found by nonce in one
query, the codes are verified in Python, the people behind them are checked in one query, visits,
scans and notes are each written by one multi-row INSERT … ON CONFLICT DO NOTHING. The same batch
sent twice (even at the same moment) writes nothing the second time and answers the same."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from backend.accounts.models import User
from backend.checkins.enums import PURPOSE_LABELS, ScanResult, VisitPurpose, VisitSource
from backend.checkins.models import Scan, Visit, VisitNote
from backend.core import codes
from backend.core.codes import CodeError
from backend.core.db import utcnow
from backend.core.keys import keyring
from backend.core.validators import mask_name
from backend.devices.models import PersonalDevice
from backend.extensions import db
from backend.core.localtime import LOCAL

FUTURE_TOLERANCE = timedelta(minutes=10)
# refusals an offline scanner could not have known about: the visit happened, kept with the reason
FORCEABLE = {"revoked", "user_blocked", "device_revoked"}

MESSAGES = {
    **codes.MESSAGES,
    "user_blocked": "该用户已被停用",
    "device_revoked": "扫码设备已停用，离线期间的扫码已记录待核查",
    "clock_skew": "扫码设备的时间不准确，请校准后重试",
    "no_place": "未指定场所",
}


@dataclass
class Item:
    nonce: str
    code: str
    purpose: VisitPurpose
    scanned_at: datetime
    offline: bool
    note: dict | None
    index: int
    user_id: int | None = None
    device_key_id: int | None = None  # the phone (personal device) that made the code
    reason: str | None = None
    answer: dict = field(default_factory=dict)


def _insert(model):
    return (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(model)


def _array_type(column_type):
    if isinstance(column_type, sa.Enum):
        return sa.String()
    if isinstance(column_type, sa.types.TypeDecorator):
        return column_type.impl
    return column_type


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def bulk_insert(model, rows: list[dict], *, conflict: list[str], returning=()) -> list:
    """INSERT many rows … ON CONFLICT DO NOTHING [RETURNING]. On PostgreSQL the rows travel as one
    array per column (``SELECT unnest(…), unnest(…)``): a short statement whatever the batch size,
    instead of a VALUES list of thousands of parameters that the driver and the server must parse."""
    if not rows:
        return []
    table = model.__table__
    names = list(rows[0])
    if db.session.get_bind().dialect.name == "postgresql":
        columns = [sa.func.unnest(sa.bindparam(f"col_{name}", [_plain(row[name]) for row in rows],
                                               type_=postgresql.ARRAY(_array_type(table.c[name].type))))
                   for name in names]
        statement = postgresql.insert(table).from_select(names, sa.select(*columns))
    else:
        statement = sqlite.insert(table).values(rows)
    statement = statement.on_conflict_do_nothing(index_elements=conflict)
    if returning:
        return db.session.execute(statement.returning(*returning)).all()
    db.session.execute(statement)
    return []


def clock_offset(sent_at: datetime | None, now: datetime) -> timedelta:
    """How far the device's clock is behind the server's (its scan times are moved by this)."""
    return now - sent_at if sent_at is not None else timedelta(0)


def ingest(*, items: list[dict], place_id: int, sent_at: datetime | None = None, device=None, staff=None) -> list[dict]:
    now = utcnow()
    offset = clock_offset(sent_at, now)
    nonces = [raw["nonce"] for raw in items]
    stored = {scan.nonce: scan for scan in db.session.scalars(sa.select(Scan).where(Scan.nonce.in_(nonces)))}
    fresh = []
    for index, raw in enumerate(items):
        if raw["nonce"] in stored:
            continue
        scanned = (raw.get("scanned_at") or now) + offset
        fresh.append(Item(raw["nonce"], raw["code"], raw["purpose"], min(scanned, now), raw.get("offline", False),
                          raw.get("note"), index))
        if scanned > now + FUTURE_TOLERANCE:
            fresh[-1].reason = "clock_skew"
    device_revoked_at = device.revoked_at if device is not None else None
    _verify(fresh, device_revoked_at)
    _people(fresh)
    written = _write(fresh, place_id=place_id, device=device, staff=staff, now=now)
    answers = []
    replays = _replay_answers(set(nonces) - written - {i.nonce for i in fresh if i.answer.get("result") == "rejected"})
    by_nonce = {item.nonce: item.answer for item in fresh}
    for raw in items:
        nonce = raw["nonce"]
        answers.append(replays.get(nonce) or by_nonce[nonce])
    return answers


def _verify(items: list[Item], device_revoked_at: datetime | None) -> None:
    cfg = current_app.config
    keys = keyring().public_keys()
    for item in items:
        if item.reason:
            continue
        try:
            personal = codes.verify_personal(codes.from_text(item.code), keys=keys, now=item.scanned_at.timestamp(),
                                             window=cfg["PERSONAL_CODE_WINDOW"], skew=cfg["PERSONAL_CODE_SKEW"])
        except CodeError as exc:
            item.reason = exc.code
            continue
        item.user_id, item.device_key_id = personal.user_id, personal.device_id
        if device_revoked_at is not None and item.scanned_at >= device_revoked_at:
            item.reason = "device_revoked"


def _people(items: list[Item]) -> None:
    """Revoked phones and disabled people, for the whole batch in one query."""
    ids = {item.device_key_id for item in items if item.user_id is not None}
    if not ids:
        return
    rows = db.session.execute(sa.select(PersonalDevice.id, PersonalDevice.user_id, PersonalDevice.revoked_at,
                                        User.is_active).join(User, User.id == PersonalDevice.user_id)
                              .where(PersonalDevice.id.in_(ids))).all()
    found = {row.id: row for row in rows}
    for item in items:
        if item.user_id is None or item.reason:
            continue
        row = found.get(item.device_key_id)
        if row is None or row.user_id != item.user_id or row.revoked_at is not None:
            item.reason = "revoked"
        elif not row.is_active:
            item.reason = "user_blocked"


def _write(items: list[Item], *, place_id: int, device, staff, now: datetime) -> set[str]:
    """Write visits, scans and notes; returns the nonces this call stored."""
    device_id, staff_id = (device.id if device else None), (staff.id if staff else None)
    counted = []  # items that make or meet a visit
    for item in items:
        if item.reason and not (item.offline and item.reason in FORCEABLE and item.user_id is not None):
            item.answer = {"nonce": item.nonce, "result": "rejected", "code": item.reason,
                           "message": MESSAGES.get(item.reason, item.reason), "visit": None}
            continue
        counted.append(item)
    visits = _visits(counted, place_id=place_id, device_id=device_id, staff_id=staff_id, now=now)
    rows = []
    for item in items:
        visit, made, conflict = visits.get(item.nonce, (None, False, False))
        if item.answer.get("result") == "rejected":
            result = ScanResult.rejected
        elif made:
            result = ScanResult.forced if item.reason else ScanResult.ok
        else:
            result = ScanResult.duplicate
        if result != ScanResult.rejected:
            item.answer = _answer(item.nonce, result, visit, reason=item.reason, conflict=conflict)
        rows.append({"nonce": item.nonce, "result": result, "reason": item.reason, "place_id": place_id,
                     "user_id": item.user_id, "visit_id": visit["id"] if visit else None, "device_id": device_id,
                     "staff_id": staff_id, "purpose": item.purpose, "scanned_at": item.scanned_at, "received_at": now,
                     "offline": item.offline, "conflict": conflict,
                     "code_excerpt": item.code[:48] if result == ScanResult.rejected else "",
                     "review_note": ""})
    if not rows:
        return set()
    stored = {nonce for nonce, in bulk_insert(Scan, rows, conflict=["nonce"], returning=[Scan.nonce])}
    notes = [{"visit_id": visits[i.nonce][0]["id"], "staff_id": staff_id, "nonce": i.nonce, "created_at": now,
              "text": i.note.get("text", ""), "loan_amount": i.note.get("loan_amount"),
              "business_type": i.note.get("business_type", ""), "referred_bank": i.note.get("referred_bank", "")}
             for i in counted if i.note and i.nonce in stored]
    bulk_insert(VisitNote, notes, conflict=["nonce"])
    return stored


def _visits(items: list[Item], *, place_id, device_id, staff_id, now) -> dict[str, tuple[dict, bool, bool]]:
    """nonce -> (visit, made by this item, conflict): one visit per person, place and local day."""
    if not items:
        return {}
    first: dict[tuple, Item] = {}
    for item in items:
        first.setdefault((item.user_id, item.scanned_at.astimezone(LOCAL).date()), item)
    values = [{"place_id": place_id, "user_id": user_id, "day": day, "purpose": item.purpose,
               "source": VisitSource.staff_scan, "visited_at": item.scanned_at, "received_at": now,
               "device_id": device_id, "staff_id": staff_id, "offline": item.offline, "forced_reason": item.reason}
              for (user_id, day), item in first.items()]
    made = {(user_id, day): visit_id for visit_id, user_id, day in bulk_insert(
        Visit, values, conflict=["place_id", "user_id", "day"], returning=[Visit.id, Visit.user_id, Visit.day])}
    missing = [key for key in first if key not in made]
    existing = {}
    if missing:
        users = {user_id for user_id, _ in missing}
        days = {day for _, day in missing}
        for visit in db.session.scalars(sa.select(Visit).where(Visit.place_id == place_id, Visit.user_id.in_(users),
                                                               Visit.day.in_(days))):
            existing[(visit.user_id, visit.day)] = visit
    names = dict(db.session.execute(sa.select(User.id, User.name).where(
        User.id.in_({item.user_id for item in items}))).all())
    out = {}
    for item in items:
        key = (item.user_id, item.scanned_at.astimezone(LOCAL).date())
        name = mask_name(names.get(item.user_id)) or "未填姓名"
        if key in made:
            mine = first[key] is item
            visit = {"id": made[key], "name": name, "purpose": first[key].purpose, "visited_at": first[key].scanned_at}
            out[item.nonce] = (visit, mine, False)
        else:
            old = existing[key]
            conflict = old.device_id != device_id and (old.offline or item.offline)
            visit = {"id": old.id, "name": name, "purpose": old.purpose, "visited_at": old.visited_at}
            out[item.nonce] = (visit, False, conflict)
    return out


def _answer(nonce: str, result: ScanResult, visit: dict, *, reason=None, conflict=False, replayed=False) -> dict:
    when = visit["visited_at"].astimezone(LOCAL)
    message = {
        ScanResult.ok: "签到成功",
        ScanResult.duplicate: f"今日已到访（{when:%H:%M}），不重复计数",
        ScanResult.forced: "离线时已放行，已记录待核查：" + MESSAGES.get(reason or "", reason or ""),
    }[result]
    purpose = VisitPurpose(visit["purpose"])
    return {"nonce": nonce, "result": result.value, "code": reason, "message": message, "conflict": conflict,
            "replayed": replayed, "visit": {"id": visit["id"], "name": visit["name"], "purpose": purpose.value,
                                            "purpose_label": PURPOSE_LABELS[purpose], "visited_at": visit["visited_at"]}}


def _replay_answers(nonces: set[str]) -> dict[str, dict]:
    """What the server answered the first time for scans it already holds."""
    if not nonces:
        return {}
    rows = db.session.execute(sa.select(Scan, Visit, User.name).outerjoin(Visit, Visit.id == Scan.visit_id)
                              .outerjoin(User, User.id == Scan.user_id).where(Scan.nonce.in_(nonces))).all()
    out = {}
    for scan, visit, name in rows:
        if scan.result == ScanResult.rejected or visit is None:
            out[scan.nonce] = {"nonce": scan.nonce, "result": scan.result.value, "code": scan.reason,
                               "message": MESSAGES.get(scan.reason or "", scan.reason or ""), "visit": None,
                               "conflict": scan.conflict, "replayed": True}
            continue
        out[scan.nonce] = _answer(scan.nonce, scan.result, {"id": visit.id, "name": mask_name(name) or "未填姓名",
                                                             "purpose": visit.purpose, "visited_at": visit.visited_at},
                                  reason=scan.reason, conflict=scan.conflict, replayed=True)
    return out
