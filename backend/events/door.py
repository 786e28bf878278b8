"""Tickets and the door.

A ticket is a signed code (event, registration, valid from 3 hours before the start to 1 hour
after the end) that the phone keeps and shows offline. The door sends scans as a batch — one item
online, a queue of them after being offline — each with the scanner's nonce and the moment it was
scanned. The answer is per item; the nonce makes an upload sent twice change nothing."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backend.accounts.models import User
from backend.core import codes, signing
from backend.core.codes import CodeError, CodeType
from backend.core.keys import keyring
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.validators import mask_name
from backend.events import service as events
from backend.events.enums import CheckinResult, EventState, RegistrationState
from backend.events.models import DoorScan, Registration
from backend.extensions import db
from backend.core.localtime import LOCAL

OPENS_BEFORE = timedelta(hours=3)
CLOSES_AFTER = timedelta(hours=1)
FUTURE_TOLERANCE = timedelta(minutes=10)  # a scanner's clock running ahead by more than this is not believed

# refusals an offline scanner may already have let through; the server keeps them as "forced"
FORCEABLE = {"revoked", "registration_cancelled", "event_cancelled", "not_yet_valid", "expired", "device_revoked"}
# refusals for lack of authority: answered as rejected, never stored, whatever the scanner let through
UNFORCEABLE = {"wrong_event", "wrong_place"}

MESSAGES = {
    "wrong_event": "这张票不是本场活动的",
    "wrong_place": "这张票不是本场所的活动",
    "registration_cancelled": "该报名已取消",
    "event_cancelled": "活动已取消",
    "not_registered": "该报名尚未成功（待审核或候补中）",
    "registration_not_found": "报名记录不存在",
    "clock_skew": "扫码设备的时间不准确，请校准后重试",
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


class Refused(Exception):
    def __init__(self, code: str, message: str | None = None, registration: Registration | None = None):
        super().__init__(code)
        self.code, self.message, self.registration = code, message or MESSAGES.get(code, code), registration


def check_in(*, items: list[dict], event_id: int | None = None, staff=None, device=None) -> list[dict]:
    """Record door scans; ``event_id`` narrows to one event (the organiser's door page)."""
    results = []
    for item in items:
        try:
            with db.session.begin_nested():
                results.append(_one(item, event_id=event_id, staff=staff, device=device))
        except Refused as refusal:
            results.append(_refusal(item, refusal, staff=staff, device=device))
        except IntegrityError:
            # the same nonce arrived in a concurrent upload: answer what that one recorded
            results.append(_replayed(db.session.scalar(sa.select(DoorScan).where(DoorScan.nonce == item["nonce"]))))
    return results


def _replayed(scan: DoorScan) -> dict:
    return {**_answer(scan.result.value, scan.registration, reason=scan.reason, checked_in_at=scan.registration.checked_in_at),
            "nonce": scan.nonce, "replayed": True}


def _one(item: dict, *, event_id, staff, device) -> dict:
    previous = db.session.scalar(sa.select(DoorScan).where(DoorScan.nonce == item["nonce"]))
    if previous is not None:
        return _replayed(previous)
    now = utcnow()
    scanned_at = item.get("scanned_at") or now
    if scanned_at > now + FUTURE_TOLERANCE:
        raise Refused("clock_skew")
    scanned_at = min(scanned_at, now)
    # Whose ticket, and may this caller act for its event? Decided before anything else: a refusal
    # for lack of authority is never kept as "forced", whatever the scanner says it let through.
    registration = _registration_behind(item["code"])
    if registration is not None:
        _ensure_authority(registration, event_id=event_id, staff=staff, device=device)
    try:
        parsed = signing.verify(item["code"], expect="ticket", now=scanned_at.timestamp())
    except DomainError as exc:
        # the signature is good but the time is wrong: we can still say whose ticket it was
        raise Refused(exc.code, exc.message, registration=registration) from None
    if registration is None or registration.id != parsed.fields["registration_id"] \
            or registration.event_id != parsed.fields["event_id"]:
        raise Refused("registration_not_found")
    event = registration.event
    if event.state == EventState.cancelled:
        raise Refused("event_cancelled", registration=registration)
    if registration.state == RegistrationState.cancelled:
        raise Refused("registration_cancelled", registration=registration)
    if registration.state != RegistrationState.registered:
        raise Refused("not_registered", registration=registration)
    first = db.session.execute(sa.update(Registration).where(Registration.id == registration.id,
                                                             Registration.checked_in_at.is_(None))
                               .values(checked_in_at=scanned_at).execution_options(synchronize_session=False))
    result = CheckinResult.ok if first.rowcount == 1 else CheckinResult.duplicate
    _record(item, registration, result, scanned_at=scanned_at, staff=staff, device=device)
    db.session.refresh(registration)
    return {**_answer(result.value, registration, checked_in_at=registration.checked_in_at), "nonce": item["nonce"]}


def _ensure_authority(registration: Registration, *, event_id, staff, device) -> None:
    """The door may check in tickets of its own event (the organiser's door page names one) at its own
    place; the refusals raised here carry no registration, so they can never be kept as forced."""
    event = registration.event
    if event_id is not None and event.id != event_id:
        raise Refused("wrong_event")
    if device is not None and device.place_id != event.place_id:
        raise Refused("wrong_place")
    if staff is not None and not events.can_organise(staff, event.place_id):
        raise Refused("wrong_place")


def _registration_behind(text: str) -> Registration | None:
    """The registration of an authentic ticket, whatever its time window says."""
    try:
        parsed = codes.authentic(codes.from_text(text), keys=keyring().public_keys())
    except CodeError:
        return None
    if parsed.type != CodeType.ticket:
        return None
    return db.session.get(Registration, parsed.fields["registration_id"])


def _record(item, registration, result: CheckinResult, *, scanned_at, staff, device, reason=None) -> None:
    db.session.add(DoorScan(nonce=item["nonce"], event_id=registration.event_id, registration_id=registration.id,
                            result=result, reason=reason, scanned_at=scanned_at, offline=item.get("offline", False),
                            device_id=device.id if device else None, staff_id=staff.id if staff else None))
    db.session.flush()


def _refusal(item: dict, refusal: Refused, *, staff, device) -> dict:
    """A scan the server refuses. One an offline scanner already let through is kept as *forced*."""
    registration = refusal.registration
    if item.get("offline") and refusal.code in FORCEABLE and refusal.code not in UNFORCEABLE \
            and registration is not None:
        try:
            with db.session.begin_nested():
                scanned_at = min(item.get("scanned_at") or utcnow(), utcnow())
                _record(item, registration, CheckinResult.forced, scanned_at=scanned_at, staff=staff, device=device,
                        reason=refusal.code)
        except IntegrityError:
            return _replayed(db.session.scalar(sa.select(DoorScan).where(DoorScan.nonce == item["nonce"])))
        return {**_answer("forced", registration, reason=refusal.code, message="离线时已放行，已记录：" + refusal.message),
                "nonce": item["nonce"]}
    return {"nonce": item["nonce"], "result": "rejected", "code": refusal.code, "message": refusal.message,
            "registration": _who(registration) if registration is not None else None}


def _who(registration: Registration) -> dict:
    user = registration.user
    return {"id": registration.id, "name": mask_name(user.name) or "未填姓名", "event_id": registration.event_id,
            "event_title": registration.event.title}


def _answer(result: str, registration: Registration, *, reason=None, message=None, checked_in_at=None) -> dict:
    if result == "ok":
        message = "签到成功"
    elif result == "duplicate":
        message = f"已签到（{checked_in_at.astimezone(LOCAL):%H:%M}）"
    elif message is None:
        message = "离线时已放行，已记录：" + MESSAGES.get(reason, codes.MESSAGES.get(reason, reason or ""))
    return {"result": result, "code": reason, "message": message, "registration": _who(registration),
            "checked_in_at": checked_in_at}


def scans_query(*, actor, event_id: int) -> sa.Select:
    event = events.managed(user=actor, id=event_id)
    return sa.select(DoorScan).where(DoorScan.event_id == event.id).order_by(DoorScan.id.desc())


def door_list(*, actor, event_id: int) -> dict:
    """What an organiser's phone keeps to check tickets in offline: who holds a seat now, who is in."""
    event = events.managed(user=actor, id=event_id)
    rows = db.session.execute(sa.select(Registration.id, Registration.checked_in_at, User.name)
                              .join(User, User.id == Registration.user_id).where(
        Registration.event_id == event.id, Registration.state == RegistrationState.registered)).all()
    return {"event": event, "registered": [rid for rid, _, _ in rows],
            "names": {str(rid): mask_name(name) or "未填姓名" for rid, _, name in rows},
            "checked_in": {str(rid): at for rid, at, _ in rows if at is not None}, "generated_at": utcnow()}
