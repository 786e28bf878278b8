"""One check-in engine for every scanning channel: the station scanner (a person's visit to a place)
and the event door (a registration's attendance). pretix's ``perform_checkin`` is the model.

A batch of items ``{nonce, code, scanned_at, offline}`` with the batch's ``sent_at`` goes in; per item
one of ``ok`` / ``duplicate`` / ``forced`` / ``rejected`` comes out, with ``conflict`` when the same
subject was met by two devices and one of them was offline. The rules, the same for every channel:

- **Clock**: a scan's time is the device's, moved by ``server_now - sent_at`` (the device's clock
  error); a scan still in the future by more than ``FUTURE_TOLERANCE`` is refused (``clock_skew``).
- **Authority first**: the channel decides whether the caller may act for the subject before anything
  else; such a refusal is rejected and names nobody, whatever the device let through.
- **Forced**: a refusal an offline device could not have known about (``enums.FORCEABLE``) is kept as
  forced with its reason, every time, never turned into a plain duplicate; a revoked device hands in
  only what it scanned offline, and what it scanned after its revocation is forced ``device_revoked``.
- **Earliest scan wins**: the subject (visit, check-in) keeps the earliest scan — its time, device and
  purpose — whichever batch reached the server first; the later scans are duplicates, and conflicts
  when another device made them offline.
- **Every item is stored** (the failed-scan log) once, keyed by its nonce: a batch sent again writes
  nothing and answers from what is stored.

Set-based: a batch costs a handful of statements whatever its size (one query for the replays, one
upsert of the subjects in a sorted lock order, one INSERT of the scans, one UPDATE that turns the
displaced scans into duplicates, one read of the answers). A channel is an adapter (``Channel``
below): what its subject is, how a code names one, which rows it writes, what the answer looks like."""
from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from backend.accounts.models import User
from backend.checkins.enums import FORCEABLE, Channel as ChannelName, ScanResult
from backend.checkins.models import Scan
from backend.core import codes, ops
from backend.core.db import utcnow
from backend.extensions import db

FUTURE_TOLERANCE = timedelta(minutes=10)

# what the phone is told when a scan is refused (REASON_LABELS are the administrator's longer words)
MESSAGES = {
    **codes.MESSAGES,
    "user_blocked": "该用户已被停用",
    "device_revoked": "扫码设备已停用，离线期间的扫码已记录待核查",
    "clock_skew": "扫码设备的时间不准确，请校准后重试",
    "no_place": "未指定场所",
    "wrong_event": "这张票不是本场活动的",
    "wrong_place": "这张票不是本场所的活动",
    "registration_cancelled": "该报名已取消",
    "event_cancelled": "活动已取消",
    "not_registered": "该报名尚未成功（待审核或候补中）",
    "registration_not_found": "报名记录不存在",
    "nonce_reused": "扫码编号已被使用，请重新扫码",
}
FORCED_PREFIX = "离线时已放行，已记录待核查："


def message(reason: str | None) -> str:
    return MESSAGES.get(reason or "", reason or "")


@dataclass
class Item:
    """One scan on its way through the engine."""
    nonce: str
    code: str
    scanned_at: datetime  # corrected by the device's clock error, never after the server's now
    offline: bool
    index: int
    raw: dict
    reason: str | None = None
    key: Any = None  # the subject this scan names (None: nobody, or nobody the caller may see)
    user_id: int | None = None
    device_key_id: int | None = None  # a personal code's phone (the station channel)
    result: ScanResult | None = None
    columns: dict = field(default_factory=dict)  # the channel's own columns of the scan row


class Channel(Protocol):
    name: ChannelName
    forced_counts: bool  # a forced scan makes the subject (a visit) or only records (a door)

    def identify(self, items: list[Item]) -> None:
        """Set each item's ``key``, ``user_id`` and channel ``columns``, or its ``reason``: authority first.
        Items that come with a reason already (``clock_skew``) are only given their columns."""

    def claim(self, items: list[Item], *, now: datetime) -> dict[Any, tuple[int, str]]:
        """Upsert the subjects for the earliest item of each key (sorted lock order, the earlier scan
        replaces a later one); return key -> (subject id, nonce of the scan that holds it now)."""

    def link(self, item: Item, subject_id: int | None) -> None:
        """Put the subject on the item's scan row (``item.columns``)."""

    def after(self, items: list[Item], *, now: datetime) -> None:
        """Rows hanging off the scans this call stored (e.g. a station's service notes)."""

    def subject_column(self) -> sa.Column:
        """The scan's column that names the subject (for the duplicates' UPDATE)."""

    def maker_nonce(self) -> sa.ScalarSelect:
        """The nonce of the scan that holds the subject of ``Scan``'s row (correlated)."""

    def answers(self, scans: list[Scan]) -> dict[str, dict]:
        """nonce -> the channel's answer for each stored scan."""


def perform(*, items: list[dict], channel: Channel, sent_at: datetime | None = None, device=None, staff=None,
            place_id: int | None = None, now: datetime | None = None) -> list[dict]:
    """Check in a batch; answers in the order of ``items``."""
    now = now or utcnow()
    offset = now - sent_at if sent_at is not None else timedelta(0)
    revoked_at = device.revoked_at if device is not None else None
    nonces = [raw["nonce"] for raw in items]
    known = dict(db.session.execute(sa.select(Scan.nonce, Scan.channel).where(among(Scan.nonce, nonces))).all())
    refused: dict[str, dict] = {}  # answers for nonces another channel holds: nothing stored
    fresh = []
    for index, raw in enumerate(items):
        if raw["nonce"] in known:
            if known[raw["nonce"]] != channel.name:
                refused[raw["nonce"]] = {"nonce": raw["nonce"], "result": ScanResult.rejected.value,
                                         "code": "nonce_reused", "message": message("nonce_reused"),
                                         "conflict": False, "replayed": False, "visit": None, "registration": None}
            continue
        scanned = (raw.get("scanned_at") or now) + offset
        # a revoked device hands in only what it scanned offline
        item = Item(raw["nonce"], raw["code"], min(scanned, now), bool(raw.get("offline")) or revoked_at is not None,
                    index, raw)
        if scanned > now + FUTURE_TOLERANCE:
            item.reason = "clock_skew"
        fresh.append(item)
    channel.identify(fresh)
    for item in fresh:
        if item.reason is None and revoked_at is not None and item.scanned_at >= revoked_at:
            item.reason = "device_revoked"
        if item.reason is None:
            continue
        if item.offline and item.reason in FORCEABLE and item.key is not None:
            item.result = ScanResult.forced
        else:
            item.result = ScanResult.rejected
    counting = [item for item in fresh if item.result is None
                or (item.result == ScanResult.forced and channel.forced_counts)]
    earliest: dict[Any, Item] = {}
    for item in sorted(counting, key=lambda i: (i.scanned_at, i.index)):
        earliest.setdefault(item.key, item)
    held = channel.claim(list(earliest.values()), now=now) if earliest else {}
    for item in fresh:
        subject_id, maker = held.get(item.key, (None, None)) if item.result != ScanResult.rejected else (None, None)
        if item.result is None:
            item.result = ScanResult.ok if maker == item.nonce else ScanResult.duplicate
        channel.link(item, subject_id)
    stored = _store(fresh, channel=channel, device=device, staff=staff, place_id=place_id, now=now)
    channel.after([item for item in fresh if item.nonce in stored], now=now)
    if held:
        _duplicates(channel, [subject_id for subject_id, _ in held.values()])
    scans = stored_scans([nonce for nonce in nonces if nonce not in refused])
    answers = channel.answers(scans)
    for scan in scans:
        answers[scan.nonce]["replayed"] = scan.nonce not in stored
    answers.update(refused)
    result = [answers[nonce] for nonce in nonces]
    outcomes = Counter("replayed" if answer["replayed"] else getattr(answer["result"], "value", answer["result"])
                       for answer in result)
    for outcome, count in outcomes.items():  # one increment per outcome (each one a write to a shared file)
        ops.CHECKIN_ITEMS.labels(getattr(channel.name, "value", channel.name), outcome).inc(count)
    return result


CHANNEL_COLUMNS = {"visit_id": None, "purpose": None, "event_id": None, "registration_id": None}


class StoredScan:
    """A stored scan as the channels' ``answers`` read it: the row's columns as attributes, and
    ``user`` (with its ``name``) for the person it named. Read as plain rows: hydrating a few hundred
    ``Scan`` objects with their five joined relationships was a third of a batch's CPU."""

    __slots__ = ("_row", "user")

    def __init__(self, row: sa.Row):
        self._row = row
        self.user = _Person(row.user_name) if row.user_id is not None else None

    def __getattr__(self, name: str):
        return getattr(self._row, name)


class _Person:
    __slots__ = ("name",)

    def __init__(self, name: str | None):
        self.name = name


def stored_scans(nonces: list[str]) -> list[StoredScan]:
    """The scans stored under these nonces, with the name of the person each one named."""
    if not nonces:
        return []
    if dialect() == "postgresql":  # built once, the nonces its one parameter
        rows = db.session.execute(_stored_scans_statement(), {"nonces": list(nonces)}).all()
    else:
        rows = db.session.execute(sa.select(*Scan.__table__.c, User.name.label("user_name"))
                                  .outerjoin(User, User.id == Scan.user_id).where(Scan.nonce.in_(nonces))).all()
    return [StoredScan(row) for row in rows]


@functools.cache
def _stored_scans_statement():
    nonces = sa.bindparam("nonces", type_=postgresql.ARRAY(_array_type(Scan.nonce.type)))
    return sa.select(*Scan.__table__.c, User.name.label("user_name")) \
        .outerjoin(User, User.id == Scan.user_id).where(Scan.nonce == sa.any_(nonces))


def _store(items: list[Item], *, channel: Channel, device, staff, place_id, now) -> set[str]:
    rows = [{"nonce": item.nonce, "channel": channel.name, "result": item.result, "reason": item.reason,
             "place_id": place_id, "user_id": item.user_id, "device_id": device.id if device else None,
             "staff_id": staff.id if staff else None, "scanned_at": item.scanned_at, "received_at": now,
             "offline": item.offline, "conflict": False,
             "code_excerpt": item.code[:48] if item.result == ScanResult.rejected else "", "review_note": "",
             **CHANNEL_COLUMNS, **item.columns} for item in items]
    return {nonce for nonce, in bulk_insert(Scan, rows, conflict=["nonce"], returning=[Scan.nonce])}


def _duplicates(channel: Channel, subject_ids: list[int]) -> None:
    """Every scan of these subjects but the one holding it is a duplicate (an earlier scan that came
    later displaces the one that was ok), and a conflict when another device made either offline."""
    key = (type(channel), dialect())
    statement = _DUPLICATES.get(key)
    if statement is None:  # built once per channel and database: building it took a quarter of a door scan
        statement = _DUPLICATES[key] = _duplicates_statement(channel, key[1])
    db.session.execute(statement, {"subject_ids": list(subject_ids)},
                       execution_options={"synchronize_session": False})


_DUPLICATES: dict = {}


def _duplicates_statement(channel: Channel, dialect_name: str):
    maker = aliased(Scan)
    holder = channel.maker_nonce()
    subject = channel.subject_column()
    if dialect_name == "postgresql":
        subjects = subject == sa.any_(sa.bindparam("subject_ids", type_=postgresql.ARRAY(_array_type(subject.type))))
    else:
        subjects = subject.in_(sa.bindparam("subject_ids", expanding=True))
    # another device: another scanner, or, where neither is a scanner, another staff member's own phone
    another = sa.or_(maker.device_id.is_distinct_from(Scan.device_id),
                     sa.and_(maker.device_id.is_(None), Scan.device_id.is_(None),
                             maker.staff_id.is_distinct_from(Scan.staff_id)))
    other_device = sa.exists().where(maker.nonce == holder, another, sa.or_(maker.offline, Scan.offline))
    return (sa.update(Scan).where(subjects, Scan.result != ScanResult.rejected, Scan.nonce != holder)
            .values(result=sa.case((Scan.result == ScanResult.ok, sa.literal(ScanResult.duplicate.value)),
                                   else_=Scan.result),
                    conflict=sa.or_(Scan.conflict, other_device)))


# --- set-based writes, PostgreSQL and SQLite --------------------------------------------------------

def dialect() -> str:
    return db.session.get_bind().dialect.name


def among(column, values: list):
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``: one parameter whatever the batch
    size, instead of hundreds the driver must splice into the statement's text."""
    if dialect() == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(_array_type(column.type))))
    return column.in_(values)


def insert(model):
    return (postgresql.insert if dialect() == "postgresql" else sqlite.insert)(model)


def _array_type(column_type):
    if isinstance(column_type, sa.Enum):
        return sa.String()
    if isinstance(column_type, sa.types.TypeDecorator):
        return column_type.impl
    return column_type


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not a column value")


def rows_statement(model, rows: list[dict]):
    """INSERT of many rows. On PostgreSQL the rows travel as one JSON text read by
    ``json_to_recordset`` with the table's column types: a short statement and one parameter whatever
    the batch size (a VALUES list of thousands of parameters is parsed by the driver and the server;
    one array per column is dumped element by element by the driver, a sixth of a batch's CPU); rows
    go in the order given (the lock order)."""
    if dialect() == "postgresql":
        return _records_insert(model.__table__, tuple(rows[0]), sa.bindparam(None, _records_text(rows), type_=sa.Text()))
    return sqlite.insert(model.__table__).values(rows)


def _records_text(rows: list[dict]) -> str:
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _records_insert(table, names: tuple, records_param):
    records = sa.func.json_to_recordset(sa.cast(records_param, postgresql.JSON)) \
        .table_valued(*(sa.column(name, _array_type(table.c[name].type)) for name in names)) \
        .render_derived(with_types=True)
    return postgresql.insert(table).from_select(list(names), sa.select(*(records.c[name] for name in names)))


_BULK: dict = {}


def bulk_insert(model, rows: list[dict], *, conflict: list[str], returning=()) -> list:
    """INSERT many rows … ON CONFLICT DO NOTHING [RETURNING]. On PostgreSQL the statement is built once
    per table, columns and conflict target (building it was a sixth of a door scan's CPU) and the rows
    are its one parameter."""
    if not rows:
        return []
    if dialect() == "postgresql":
        names = tuple(rows[0])
        key = (model.__table__.name, names, tuple(conflict), tuple(column.key for column in returning))
        statement = _BULK.get(key)
        if statement is None:
            statement = _records_insert(model.__table__, names, sa.bindparam("records", type_=sa.Text())) \
                .on_conflict_do_nothing(index_elements=conflict)
            if returning:
                statement = statement.returning(*returning)
            _BULK[key] = statement
        result = db.session.execute(statement, {"records": _records_text(rows)})
        return result.all() if returning else []
    statement = rows_statement(model, rows).on_conflict_do_nothing(index_elements=conflict)
    if returning:
        return db.session.execute(statement.returning(*returning)).all()
    db.session.execute(statement)
    return []
