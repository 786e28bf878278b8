"""Tickets and the door.

A ticket is a signed code (event, registration, valid from 3 hours before the start to 1 hour
after the end) that the phone keeps and shows offline. The door sends scans as a batch — one item
online, a queue of them after being offline — each with the scanner's nonce and the moment it was
scanned, and the batch with the device's clock (``sent_at``). The door is a channel of the one
check-in engine (``backend/checkins/engine.py``): the subject is a registration, its check-in the
earliest scan of its ticket; every scan is kept in the check-in scan log and its review queue."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.checkins import engine
from backend.checkins.enums import Channel, ScanResult
from backend.checkins.models import Scan
from backend.core import codes, signing
from backend.core.codes import CodeError, CodeType
from backend.core.db import utcnow
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
    # where the door stands: the scanner's place, else the place of the event the door page names (a
    # scan whose code names no event is still filed under that place for review)
    place_id = device.place_id if device is not None else (
        db.session.scalar(sa.select(Event.place_id).where(Event.id == event_id)) if event_id else None)
    return engine.perform(items=items, channel=channel, sent_at=sent_at, device=device, staff=staff,
                          place_id=place_id)


class DoorChannel:
    name = Channel.door
    forced_counts = False  # a ticket the server refuses is recorded, never checked in

    def __init__(self, *, event_id: int | None, staff, device):
        self.event_id, self.staff, self.device = event_id, staff, device

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
        ids = {ticket.fields["registration_id"] for ticket in parsed.values()}
        found = {registration.id: registration for registration in db.session.scalars(
            sa.select(Registration).where(Registration.id.in_(ids)))} if ids else {}
        for item in items:
            ticket = parsed.get(item.nonce)
            if ticket is None:
                continue
            registration = found.get(ticket.fields["registration_id"])
            if registration is None or registration.event_id != ticket.fields["event_id"]:
                item.reason = "registration_not_found"
                continue
            # Decided before anything else: a refusal for lack of authority names nobody and is never
            # kept as forced, whatever the scanner says it let through.
            item.reason = self._authority(registration)
            if item.reason:
                continue
            event = registration.event
            item.key, item.user_id = registration.id, registration.user_id
            item.columns = {"event_id": event.id, "registration_id": registration.id, "place_id": event.place_id}
            item.reason = self._refusal(ticket, registration, at=item.scanned_at)

    def _authority(self, registration: Registration) -> str | None:
        """The door may check in tickets of its own event (the organiser's door page names one) at its
        own place."""
        event = registration.event
        if self.event_id is not None and event.id != self.event_id:
            return "wrong_event"
        if self.device is not None and self.device.place_id != event.place_id:
            return "wrong_place"
        if self.staff is not None and not access.can_organise(self.staff, event.place_id):
            return "wrong_place"
        return None

    @staticmethod
    def _refusal(ticket, registration: Registration, *, at: datetime) -> str | None:
        now = at.timestamp()
        if ticket.not_before is not None and now < ticket.not_before:
            return "not_yet_valid"
        if ticket.not_after is not None and now > ticket.not_after:
            return "expired"
        if registration.event.state == EventState.cancelled:
            return "event_cancelled"
        if registration.state == RegistrationState.cancelled:
            return "registration_cancelled"
        if registration.state != RegistrationState.registered:
            return "not_registered"
        return None

    # --- the check-in -----------------------------------------------------------------------------

    def claim(self, items: list[engine.Item], *, now: datetime) -> dict:
        """A registration's check-in is its earliest scan: set it, or replace a later one."""
        items = sorted(items, key=lambda item: item.key)  # the lock order
        ids = [item.key for item in items]
        table = Registration.__table__
        if engine.dialect() == "postgresql":
            db.session.execute(sa.select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update())
            batch = sa.select(
                sa.func.unnest(sa.bindparam("ids", ids, type_=sa.ARRAY(sa.Integer))).label("id"),
                sa.func.unnest(sa.bindparam("ats", [i.scanned_at for i in items],
                                            type_=sa.ARRAY(sa.DateTime(timezone=True)))).label("at"),
                sa.func.unnest(sa.bindparam("nonces", [i.nonce for i in items],
                                            type_=sa.ARRAY(sa.String))).label("nonce")).subquery()
            db.session.execute(sa.update(table).where(
                table.c.id == batch.c.id,
                sa.or_(table.c.checked_in_at.is_(None), table.c.checked_in_at > batch.c.at))
                .values(checked_in_at=batch.c.at, checkin_nonce=batch.c.nonce))
        else:
            at = sa.case({item.key: item.scanned_at for item in items}, value=table.c.id)
            nonce = sa.case({item.key: item.nonce for item in items}, value=table.c.id)
            db.session.execute(sa.update(table).where(
                table.c.id.in_(ids), sa.or_(table.c.checked_in_at.is_(None), table.c.checked_in_at > at))
                .values(checked_in_at=at, checkin_nonce=nonce))
        rows = db.session.execute(sa.select(table.c.id, table.c.checkin_nonce).where(table.c.id.in_(ids))).all()
        return {row.id: (row.id, row.checkin_nonce) for row in rows}

    def link(self, item: engine.Item, subject_id: int | None) -> None:
        pass  # the registration is on the row already (identify)

    def after(self, items: list[engine.Item], *, now: datetime) -> None:
        pass

    def subject_column(self):
        return Scan.registration_id

    def maker_nonce(self):
        return sa.select(Registration.checkin_nonce).where(Registration.id == Scan.registration_id).correlate_except(
            Registration).scalar_subquery()

    # --- the answer -------------------------------------------------------------------------------

    def answers(self, scans: list[Scan]) -> dict[str, dict]:
        ids = {scan.registration_id for scan in scans if scan.registration_id}
        found = {registration.id: registration for registration in db.session.scalars(
            sa.select(Registration).where(Registration.id.in_(ids)).execution_options(populate_existing=True))} \
            if ids else {}
        names = dict(db.session.execute(sa.select(User.id, User.name).where(
            User.id.in_({r.user_id for r in found.values()}))).all()) if found else {}
        return {scan.nonce: answer(scan, found.get(scan.registration_id), names) for scan in scans}


def answer(scan: Scan, registration: Registration | None, names: dict) -> dict:
    """What the door is told about one stored scan (the first time and on every replay)."""
    checked_in_at = registration.checked_in_at if registration is not None else None
    if scan.result == ScanResult.ok:
        text = "签到成功"
    elif scan.result == ScanResult.duplicate:
        text = f"已签到（{checked_in_at.astimezone(LOCAL):%H:%M}）" if checked_in_at else "已签到"
    elif scan.result == ScanResult.forced:
        text = engine.FORCED_PREFIX + (TICKET_MESSAGES.get(scan.reason) or engine.message(scan.reason))
    else:
        text = TICKET_MESSAGES.get(scan.reason) or engine.message(scan.reason)
    who = None
    if registration is not None:
        who = {"id": registration.id, "name": mask_name(names.get(registration.user_id)) or "未填姓名",
               "event_id": registration.event_id, "event_title": registration.event.title}
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
