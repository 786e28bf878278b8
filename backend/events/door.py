"""Tickets and the door.

A ticket is a signed code (event, registration, valid from 3 hours before the start to 1 hour
after the end) that the phone keeps and shows offline. The door sends scans as a batch — one item
online, a queue of them after being offline — each with the scanner's nonce and the moment it was
scanned, and the batch with the device's clock (``sent_at``). The door is a channel of the one
check-in engine (``backend/checkins/engine.py``): the subject is a registration, its check-in the
earliest scan of its ticket; every scan is kept in the check-in scan log and its review queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from backend.accounts.models import User
from backend.checkins import engine
from backend.checkins.enums import Channel, ScanResult
from backend.checkins.models import Scan
from backend.core import codes, signing
from backend.core.codes import CodeError, CodeType
from backend.core.db import UTCDateTime, utcnow
from backend.core.keys import keyring
from backend.core.localtime import LOCAL
from backend.core.validators import mask_name
from backend.events import access
from backend.events.enums import EventState, RegistrationState
from backend.events.models import Event, Registration
from backend.extensions import db

OPENS_BEFORE = timedelta(hours=3)
CLOSES_AFTER = timedelta(hours=1)
# a ticket's window is the event's, not the phone's clock: say so at the door (the code's own words
# blame the phone's time, which is right for personal codes)
TICKET_MESSAGES = {
    "not_yet_valid": f"电子票尚未生效：活动开始前 {OPENS_BEFORE.seconds // 3600} 小时起可签到",
    "expired": f"电子票已过期：活动结束 {CLOSES_AFTER.seconds // 3600} 小时后不能再签到",
}


def ticket_text(registration: Registration) -> str:
    event = registration.event
    return signing.sign_text(CodeType.ticket, {"event_id": event.id, "registration_id": registration.id},
                             not_before=int((event.starts_at - OPENS_BEFORE).timestamp()),
                             not_after=int((event.ends_at + CLOSES_AFTER).timestamp()))


def ticket(*, registration: Registration) -> dict | None:
    if registration.state != RegistrationState.registered or registration.event.state != EventState.published:
        return None
    event = registration.event
    return {"code": ticket_text(registration), "not_before": event.starts_at - OPENS_BEFORE,
            "not_after": event.ends_at + CLOSES_AFTER}


def with_tickets(*, page: list[Registration]) -> list[Registration]:
    """Set ``registration.ticket`` on each: the signed ticket while it holds a seat, else None."""
    for registration in page:
        registration.ticket = ticket(registration=registration)
    return page


def check_in(*, items: list[dict], event_id: int | None = None, sent_at: datetime | None = None, staff=None,
             device=None) -> list[dict]:
    """Record door scans; ``event_id`` narrows to one event (the organiser's door page)."""
    channel = DoorChannel(event_id=event_id, staff=staff, device=device)
    channel.prefetch(items)
    # where the door stands: the scanner's place, else the place of the event the door page names (a
    # scan whose code names no event is still filed under that place for review)
    place_id = device.place_id if device is not None else channel.place_of(event_id) if event_id else None
    return engine.perform(items=items, channel=channel, sent_at=sent_at, device=device, staff=staff,
                          place_id=place_id)


@dataclass
class Seat:
    """What the door needs of a registration, read as one Core row with its event and holder's name."""
    id: int
    event_id: int
    user_id: int
    state: RegistrationState
    checked_in_at: datetime | None
    place_id: int
    event_state: EventState
    event_title: str
    name: str | None


@cache
def _seats_query() -> sa.Select:
    r, e, u = Registration.__table__, Event.__table__, User.__table__
    return (sa.select(r.c.id, r.c.event_id, r.c.user_id, r.c.state, r.c.checked_in_at, e.c.place_id, e.c.state,
                      e.c.title, u.c.name)
            .join(e, e.c.id == r.c.event_id).outerjoin(u, u.c.id == r.c.user_id)
            .where(r.c.id.in_(sa.bindparam("ids", expanding=True))))


def _seats(ids) -> dict[int, Seat]:
    return {row[0]: Seat(*row) for row in db.session.execute(_seats_query(), {"ids": sorted(ids)})} if ids else {}


@cache
def _claim_statement() -> sa.TextClause:
    """PostgreSQL, one statement: lock the batch's registrations in id order, let each scan earlier than
    the one holding its registration (or the first) take it, and answer who holds each now. The arrays
    travel as three parameters whatever the batch size."""
    return sa.text(
        "WITH locked AS (SELECT id, checked_in_at, checkin_nonce FROM registration WHERE id = ANY(:ids) "
        "ORDER BY id FOR UPDATE), "
        "batch AS (SELECT * FROM unnest(:ids, :ats, :nonces) AS b(id, at, nonce)), "
        "taken AS (UPDATE registration SET checked_in_at = batch.at, checkin_nonce = batch.nonce "
        "FROM batch JOIN locked ON locked.id = batch.id WHERE registration.id = batch.id "
        "AND (locked.checked_in_at IS NULL OR locked.checked_in_at > batch.at) "
        "RETURNING registration.id, registration.checked_in_at, registration.checkin_nonce) "
        "SELECT locked.id, coalesce(taken.checked_in_at, locked.checked_in_at) AS checked_in_at, "
        "coalesce(taken.checkin_nonce, locked.checkin_nonce) AS checkin_nonce "
        "FROM locked LEFT JOIN taken ON taken.id = locked.id"
    ).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)),
                 sa.bindparam("ats", type_=postgresql.ARRAY(sa.DateTime(timezone=True))),
                 sa.bindparam("nonces", type_=postgresql.ARRAY(sa.String))) \
        .columns(sa.column("id", sa.Integer), sa.column("checked_in_at", UTCDateTime),
                 sa.column("checkin_nonce", sa.String))


@cache
def _maker_nonce() -> sa.ScalarSelect:
    return sa.select(Registration.checkin_nonce).where(Registration.id == Scan.registration_id).correlate_except(
        Registration).scalar_subquery()


class DoorChannel:
    name = Channel.door
    forced_counts = False  # a ticket the server refuses is recorded, never checked in

    def __init__(self, *, event_id: int | None, staff, device):
        self.event_id, self.staff, self.device = event_id, staff, device
        self.seats: dict[int, Seat] = {}
        self._places = ...  # the staff member's places, asked once a batch

    def prefetch(self, items: list[dict]) -> None:
        """The registrations the batch's tickets name, with their events and holders, in one query (the
        signatures are checked in ``identify``; a code that does not parse names nobody)."""
        ids = set()
        for raw in items:
            try:
                ids.add(codes.parse_signed(codes.from_text(raw["code"])).fields["registration_id"])
            except (CodeError, KeyError):
                continue
        self.seats = _seats(ids)

    def place_of(self, event_id: int) -> int | None:
        for seat in self.seats.values():
            if seat.event_id == event_id:
                return seat.place_id
        return db.session.scalar(sa.select(Event.place_id).where(Event.id == event_id))

    # --- whose ticket, and may this caller act for its event? ---------------------------------------

    def identify(self, items: list[engine.Item]) -> None:
        keys = keyring().public_keys()
        parsed = {}
        for item in items:
            if item.reason:
                continue
            try:
                ticket = codes.authentic(codes.from_text(item.code), keys=keys)
            except CodeError as exc:
                item.reason = exc.code
                continue
            if ticket.type != CodeType.ticket:
                item.reason = "wrong_type"
                continue
            parsed[item.nonce] = ticket
        missing = {t.fields["registration_id"] for t in parsed.values()} - set(self.seats)
        self.seats.update(_seats(missing))
        for item in items:
            ticket = parsed.get(item.nonce)
            if ticket is None:
                continue
            seat = self.seats.get(ticket.fields["registration_id"])
            if seat is None or seat.event_id != ticket.fields["event_id"]:
                item.reason = "registration_not_found"
                continue
            # Decided before anything else: a refusal for lack of authority names nobody and is never
            # kept as forced, whatever the scanner says it let through.
            item.reason = self._authority(seat)
            if item.reason:
                continue
            item.key, item.user_id = seat.id, seat.user_id
            item.columns = {"event_id": seat.event_id, "registration_id": seat.id, "place_id": seat.place_id}
            item.reason = self._refusal(ticket, seat, at=item.scanned_at)

    def _authority(self, seat: Seat) -> str | None:
        """The door may check in tickets of its own event (the organiser's door page names one) at its
        own place."""
        if self.event_id is not None and seat.event_id != self.event_id:
            return "wrong_event"
        if self.device is not None and self.device.place_id != seat.place_id:
            return "wrong_place"
        if self.staff is not None:
            if self._places is ...:
                self._places = access.organiser_place_ids(self.staff)
            if self._places is not None and seat.place_id not in self._places:
                return "wrong_place"
        return None

    @staticmethod
    def _refusal(ticket, seat: Seat, *, at: datetime) -> str | None:
        now = at.timestamp()
        if ticket.not_before is not None and now < ticket.not_before:
            return "not_yet_valid"
        if ticket.not_after is not None and now > ticket.not_after:
            return "expired"
        if seat.event_state == EventState.cancelled:
            return "event_cancelled"
        if seat.state == RegistrationState.cancelled:
            return "registration_cancelled"
        if seat.state != RegistrationState.registered:
            return "not_registered"
        return None

    # --- the check-in -----------------------------------------------------------------------------

    def claim(self, items: list[engine.Item], *, now: datetime) -> dict:
        """A registration's check-in is its earliest scan: set it, or replace a later one."""
        items = sorted(items, key=lambda item: item.key)  # the lock order
        ids = [item.key for item in items]
        table = Registration.__table__
        if engine.dialect() == "postgresql":
            held = {row.id: (row.id, row.checkin_nonce, row.checked_in_at) for row in db.session.execute(
                _claim_statement(), {"ids": ids, "ats": [i.scanned_at for i in items],
                                     "nonces": [i.nonce for i in items]})}
        else:
            at = sa.case({item.key: item.scanned_at for item in items}, value=table.c.id)
            nonce = sa.case({item.key: item.nonce for item in items}, value=table.c.id)
            db.session.execute(sa.update(table).where(
                table.c.id.in_(ids), sa.or_(table.c.checked_in_at.is_(None), table.c.checked_in_at > at))
                .values(checked_in_at=at, checkin_nonce=nonce))
            held = {row.id: (row.id, row.checkin_nonce, row.checked_in_at) for row in db.session.execute(
                sa.select(table.c.id, table.c.checkin_nonce, table.c.checked_in_at).where(table.c.id.in_(ids)))}
        for key, (_, _, at) in held.items():
            if key in self.seats:
                self.seats[key].checked_in_at = at  # the answers tell the check-in as it is now
        return {key: (subject, nonce) for key, (subject, nonce, _) in held.items()}

    def link(self, item: engine.Item, subject_id: int | None) -> None:
        pass  # the registration is on the row already (identify)

    def after(self, items: list[engine.Item], *, now: datetime) -> None:
        pass

    def subject_column(self):
        return Scan.registration_id

    def maker_nonce(self):
        return _maker_nonce()

    # --- the answer -------------------------------------------------------------------------------

    def answers(self, scans: list[Scan]) -> dict[str, dict]:
        ids = {scan.registration_id for scan in scans if scan.registration_id}
        self.seats.update(_seats(ids - set(self.seats)))
        return {scan.nonce: answer(scan, self.seats.get(scan.registration_id)) for scan in scans}


def answer(scan: Scan, seat: Seat | None) -> dict:
    """What the door is told about one stored scan (the first time and on every replay)."""
    checked_in_at = seat.checked_in_at if seat is not None else None
    if scan.result == ScanResult.ok:
        text = "签到成功"
    elif scan.result == ScanResult.duplicate:
        text = f"已签到（{checked_in_at.astimezone(LOCAL):%H:%M}）" if checked_in_at else "已签到"
    elif scan.result == ScanResult.forced:
        text = engine.FORCED_PREFIX + (TICKET_MESSAGES.get(scan.reason) or engine.message(scan.reason))
    else:
        text = TICKET_MESSAGES.get(scan.reason) or engine.message(scan.reason)
    who = None
    if seat is not None:
        who = {"id": seat.id, "name": mask_name(seat.name) or "未填姓名", "event_id": seat.event_id,
               "event_title": seat.event_title}
    return {"nonce": scan.nonce, "result": scan.result.value, "code": scan.reason, "message": text,
            "registration": who, "checked_in_at": checked_in_at, "conflict": scan.conflict, "replayed": False}


def scans_query(*, actor, event_id: int) -> sa.Select:
    """Every scan the door accepted for the event (ok, duplicate, forced), newest first; the refused ones
    are in the administrator's review queue."""
    event = access.managed(user=actor, id=event_id)
    return sa.select(Scan).where(Scan.channel == Channel.door, Scan.event_id == event.id,
                                 Scan.registration_id.is_not(None), Scan.result != ScanResult.rejected
                                 ).order_by(Scan.id.desc())


def door_list(*, actor, event_id: int) -> dict:
    """What an organiser's phone keeps to check tickets in offline: who holds a seat now, who is in."""
    event = access.managed(user=actor, id=event_id)
    rows = db.session.execute(sa.select(Registration.id, Registration.checked_in_at, User.name)
                              .join(User, User.id == Registration.user_id).where(
        Registration.event_id == event.id, Registration.state == RegistrationState.registered)).all()
    return {"event": event, "registered": [rid for rid, _, _ in rows],
            "names": {str(rid): mask_name(name) or "未填姓名" for rid, _, name in rows},
            "checked_in": {str(rid): at for rid, at, _ in rows if at is not None}, "generated_at": utcnow()}
