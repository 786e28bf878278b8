from __future__ import annotations

import re
from datetime import datetime, timezone

from marshmallow import ValidationError, validate, validates_schema

from backend.accounts.enums import SubjectType
from backend.core import fields
from backend.core.regions import DISTRICTS
from backend.core.schemas import Schema
from backend.core.validators import mask_name, mask_phone
from backend.events.enums import EventKind, EventState, RegistrationState

ID = fields.Id()
DISTRICT = fields.String(validate=validate.OneOf(list(DISTRICTS), error="区县代码不正确"))
KIND = fields.Enum(EventKind, error_messages={"unknown": "活动类型不正确"})
NONCE = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_\-]{16,64}$",
                                                              error="扫码编号应为 16 到 64 位字母、数字、- 或 _"))


class AudienceIn(Schema):
    subject_types = fields.List(fields.String(validate=validate.OneOf([s.value for s in SubjectType],
                                                                      error="主体类型不正确")), load_default=list)
    districts = fields.List(DISTRICT, load_default=list)


class EventIn(Schema):
    place_id = fields.Id(required=True, error_messages={"out_of_range": "请选择场所"})
    title = fields.String(required=True, validate=validate.Length(min=2, max=64, error="标题为 2 到 64 个字"))
    kind = fields.Enum(EventKind, required=True, error_messages={"unknown": "活动类型不正确"})
    description = fields.String(load_default="", multiline=True,
                                validate=validate.Length(max=5000, error="介绍不能超过 5000 字"))
    cover_id = fields.Id(load_default=None, allow_none=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    signup_opens_at = fields.AwareDateTime(required=True)
    signup_closes_at = fields.AwareDateTime(required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(1, 100_000, error="名额应在 1 到 100000 之间"))
    waitlist = fields.Boolean(load_default=True)
    approval_required = fields.Boolean(load_default=False)
    audience = fields.Nested(AudienceIn, load_default=lambda: {"subject_types": [], "districts": []})


class EventPatchIn(EventIn):
    """EventIn, every field optional (loaded with partial=True)."""


class CancelIn(Schema):
    reason = fields.String(required=True, multiline=True,
                           validate=validate.Length(min=2, max=200, error="请填写 2 到 200 字的原因"))


class PublicQueryIn(Schema):
    district = DISTRICT
    kind = KIND
    place_id = ID
    q = fields.String(validate=validate.Length(min=1, max=64))
    date_from = fields.Date()
    date_to = fields.Date()
    when = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "past"],
                                                                          error="只能是 upcoming 或 past"))


class OrganiserQueryIn(Schema):
    state = fields.Enum(EventState, error_messages={"unknown": "状态不正确"})
    place_id = ID


class MineQueryIn(Schema):
    when = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "past"],
                                                                          error="只能是 upcoming 或 past"))


class AttendeeQueryIn(Schema):
    state = fields.Enum(RegistrationState, error_messages={"unknown": "状态不正确"})
    checked_in = fields.Boolean()


class ExportIn(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"], error="格式只能是 xlsx 或 csv"))


class FiguresIn(Schema):
    year = fields.Integer(validate=validate.Range(2020, 2100, error="年份不正确"))
    group = fields.String(load_default="district", validate=validate.OneOf(["district", "place"],
                                                                            error="只能按 district 或 place 汇总"))
    district = DISTRICT


class RejectIn(Schema):
    reason = fields.String(required=True, multiline=True,
                           validate=validate.Length(min=2, max=200, error="请填写 2 到 200 字的原因"))


class DoorScanIn(Schema):
    nonce = NONCE
    code = fields.String(required=True, validate=validate.Length(min=10, max=600, error="票码不正确"))
    scanned_at = fields.AwareDateTime(load_default=None, allow_none=True)
    offline = fields.Boolean(load_default=False)


_SCAN = DoorScanIn()
_NONCE_FULL = re.compile(r"[A-Za-z0-9_\-]{16,64}")
_CODE_LENGTH = (_SCAN.fields["code"].validators[0].min, _SCAN.fields["code"].validators[0].max)
# the times a door page sends (JavaScript's toISOString, or an ISO time with its offset); any other
# spelling goes through marshmallow
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?(Z|[+-]\d\d:\d\d)")
_EARLIEST, _LATEST = _SCAN.fields["scanned_at"].earliest, _SCAN.fields["scanned_at"].latest
_SCANNED_BOUNDS = (datetime(_EARLIEST.year, _EARLIEST.month, _EARLIEST.day, tzinfo=timezone.utc),
                   datetime(_LATEST.year, _LATEST.month, _LATEST.day, 23, 59, 59, 999999, tzinfo=timezone.utc))


def plain_scan(raw) -> dict | None:
    """A door item as ``DoorScanIn`` loads it, by plain checks, when it has the shape the door page sends
    (the four fields, strings, a bool, a usual ISO time); None for anything else, which then goes through
    ``DoorScanIn`` itself. Accepts only what ``DoorScanIn`` accepts, and builds the same dict."""
    if type(raw) is not dict or not raw.keys() <= {"nonce", "code", "scanned_at", "offline"}:
        return None
    nonce, code, offline = raw.get("nonce"), raw.get("code"), raw.get("offline", False)
    if type(nonce) is not str or not _NONCE_FULL.fullmatch(nonce) or type(offline) is not bool:
        return None
    if type(code) is not str or not _CODE_LENGTH[0] <= len(code) <= _CODE_LENGTH[1] or fields.text_problem(code):
        return None
    scanned_at = raw.get("scanned_at")
    if scanned_at is not None:
        if type(scanned_at) is not str or not _ISO_TIME.fullmatch(scanned_at):
            return None
        scanned_at = datetime.fromisoformat(scanned_at)
        if not _SCANNED_BOUNDS[0] <= scanned_at <= _SCANNED_BOUNDS[1]:
            return None
    return {"nonce": nonce, "code": code, "scanned_at": scanned_at, "offline": offline}


class ScanBatchIn(Schema):
    items = fields.PlainFirstList(fields.Nested(DoorScanIn), plain=plain_scan, required=True,
                                  validate=validate.Length(min=1, max=500, error="每次上传 1 到 500 条"))
    event_id = ID
    sent_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "the device's clock when it sent the batch"})

    @validates_schema
    def _unique_nonces(self, data, **kwargs):
        nonces = [item["nonce"] for item in data.get("items", [])]
        if len(set(nonces)) != len(nonces):
            raise ValidationError("同一批中扫码编号不能重复", field_name="items")


# --- out ------------------------------------------------------------------------------------------

class PlaceBriefOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.enum_value("kind", required=True)
    district = fields.String(required=True)
    district_label = fields.Function(lambda p: DISTRICTS.get(p.district), allow_none=True)
    address = fields.String(required=True)


def _cover(event, size):
    return f"/api/events/{event.id}/cover/{size}?v={event.cover_id}" if event.cover_id else None


class EventOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.enum_value("kind", required=True)
    kind_label = fields.enum_label("kind", required=True)
    description = fields.String(required=True)
    place = fields.Nested(PlaceBriefOut, required=True)
    cover_id = fields.Integer(allow_none=True)
    cover_card = fields.Function(lambda e: _cover(e, "card"), allow_none=True)
    cover_full = fields.Function(lambda e: _cover(e, "full"), allow_none=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    signup_opens_at = fields.DateTime(required=True)
    signup_closes_at = fields.DateTime(required=True)
    capacity = fields.Integer(required=True)
    seats_taken = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)
    waitlist = fields.Boolean(required=True)
    approval_required = fields.Boolean(required=True)
    audience = fields.Dict(required=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.enum_label("state", required=True)
    cancel_reason = fields.String(required=True)


class OrganiserEventOut(EventOut):
    checked_in_count = fields.Integer(required=True)


class EventForMeOut(EventOut):
    """An event as an entrepreneur sees it: may I sign up, and my registration if I have one
    (``event.standing``, set by registrations.with_standing)."""

    can_sign_up = fields.Function(lambda e: e.standing.reason_code is None, required=True)
    reason_code = fields.Function(lambda e: e.standing.reason_code, allow_none=True)
    reason = fields.Function(lambda e: e.standing.reason, allow_none=True)
    my_registration = fields.Function(lambda e: _brief(e.standing.registration), allow_none=True)


def _brief(registration) -> dict | None:
    if registration is None:
        return None
    return {"id": registration.id, "state": registration.state.value,
            "state_label": registration.state.label}


class RegistrationOut(Schema):
    id = fields.Integer(required=True)
    event = fields.Nested(EventOut, required=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.enum_label("state", required=True)
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    checked_in_at = fields.DateTime(allow_none=True)
    # set by registrations.with_positions
    waitlist_position = fields.Integer(allow_none=True)


class TicketOut(Schema):
    code = fields.String(required=True)
    not_before = fields.DateTime(required=True)
    not_after = fields.DateTime(required=True)


class RegistrationDetailOut(RegistrationOut):
    """A registration as its holder sees it (``registration.ticket``, set by door.with_tickets)."""

    ticket = fields.Function(lambda r: TicketOut().dump(r.ticket) if r.ticket else None, allow_none=True)


class AttendeeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.Function(lambda r: mask_name(r.user.name) or "未填姓名", required=True)
    phone = fields.Function(lambda r: mask_phone(r.user.phone), allow_none=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.enum_label("state", required=True)
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    checked_in_at = fields.DateTime(allow_none=True)


class CountsOut(Schema):
    pending = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    waitlisted = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)
    capacity = fields.Integer(required=True)
    seats_taken = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)


class CancelOut(Schema):
    event = fields.Nested(EventOut, required=True)
    told = fields.Integer(required=True)


class ScanWhoOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    event_id = fields.Integer(required=True)
    event_title = fields.String(required=True)


class ScanResultOut(Schema):
    nonce = fields.String(required=True)
    result = fields.String(required=True, metadata={"enum": ["ok", "duplicate", "forced", "rejected"]})
    code = fields.String(allow_none=True)
    message = fields.String(required=True)
    registration = fields.Nested(ScanWhoOut, allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    conflict = fields.Boolean(metadata={"description": "another device met this ticket, one of them offline"})
    replayed = fields.Boolean()


class ScanBatchOut(Schema):
    results = fields.List(fields.Nested(ScanResultOut), required=True)
    server_time = fields.DateTime(metadata={"description": "the server's clock, for the device to compare"})


class DoorScanOut(Schema):
    id = fields.Integer(required=True)
    nonce = fields.String(required=True)
    registration_id = fields.Integer(required=True)
    name = fields.Function(lambda s: mask_name(s.registration.user.name) or "未填姓名", required=True)
    result = fields.enum_value("result", required=True)
    reason = fields.String(allow_none=True)
    scanned_at = fields.DateTime(required=True)
    received_at = fields.DateTime(required=True)
    offline = fields.Boolean(required=True)
    conflict = fields.Boolean(required=True)
    device_id = fields.Integer(allow_none=True)


class DoorListOut(Schema):
    event = fields.Nested(EventOut, required=True)
    registered = fields.List(fields.Integer(), required=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    checked_in = fields.Dict(keys=fields.String(), values=fields.DateTime(), required=True)
    generated_at = fields.DateTime(required=True)


class FiguresRowOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    held = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_month = fields.List(fields.Integer(), required=True)
    signups = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)
    attendance_rate = fields.Float(allow_none=True)


class FiguresTotalOut(FiguresRowOut):
    key = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class FiguresOut(Schema):
    year = fields.Integer(required=True)
    group = fields.String(required=True)
    rows = fields.List(fields.Nested(FiguresRowOut), required=True)
    total = fields.Nested(FiguresTotalOut, required=True)
    kinds = fields.List(fields.Dict(), required=True)
    targets = fields.Dict(required=True)
