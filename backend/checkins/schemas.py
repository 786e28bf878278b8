from __future__ import annotations

import re
from datetime import datetime, timezone

from marshmallow import ValidationError, validate, validates_schema

from backend.checkins.enums import REASON_LABELS, Channel, VisitPurpose, VisitSource, result_label
from backend.core import fields
from backend.core.regions import DISTRICTS
from backend.core.schemas import Schema
from backend.core.validators import mask_name

ID = fields.Id()
NONCE_PATTERN = r"^[A-Za-z0-9_\-]{16,64}$"
NONCE = fields.String(required=True, validate=validate.Regexp(NONCE_PATTERN,
                                                              error="扫码编号应为 16 到 64 位字母、数字、- 或 _"))
PURPOSE = fields.Enum(VisitPurpose, required=True, error_messages={"unknown": "请选择到访目的"})
DISTRICT = fields.String(validate=validate.OneOf(list(DISTRICTS), error="区县代码不正确"))


class SelfCheckInIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=10, max=600, error="场所码不正确"))
    purpose = PURPOSE
    nonce = NONCE


class VisitNoteIn(Schema):
    text = fields.String(load_default="", multiline=True,
                         validate=validate.Length(max=500, error="服务记录不能超过 500 字"))
    loan_amount = fields.Fen(load_default=None, allow_none=True,
                                 validate=validate.Range(0, 10**11, error="拟贷金额不正确（单位：分）"))
    business_type = fields.String(load_default="", validate=validate.Length(max=64, error="经营类型不能超过 64 字"))
    referred_bank = fields.String(load_default="", validate=validate.Length(max=64, error="推荐银行不能超过 64 字"))


class SyncItemIn(Schema):
    nonce = NONCE
    code = fields.String(required=True, validate=validate.Length(min=10, max=800, error="个人码不正确"))
    purpose = PURPOSE
    scanned_at = fields.AwareDateTime(load_default=None, allow_none=True)
    offline = fields.Boolean(load_default=False)
    note = fields.Nested(VisitNoteIn, load_default=None, allow_none=True)


_ITEM = SyncItemIn()
_NONCE_FULL = re.compile(NONCE_PATTERN.rstrip("$"))  # fullmatch: no trailing newline either
_CODE_LENGTH = (_ITEM.fields["code"].validators[0].min, _ITEM.fields["code"].validators[0].max)
_PURPOSES = dict(VisitPurpose.__members__)
_EARLIEST, _LATEST = _ITEM.fields["scanned_at"].earliest, _ITEM.fields["scanned_at"].latest  # as fields._Bounded
_SCANNED_BOUNDS = (datetime(_EARLIEST.year, _EARLIEST.month, _EARLIEST.day, tzinfo=timezone.utc),
                   datetime(_LATEST.year, _LATEST.month, _LATEST.day, 23, 59, 59, 999999, tzinfo=timezone.utc))


def _plain_item(raw) -> dict | None:
    """A scanner's item as ``SyncItemIn`` loads it, by plain checks, when it is of the shape scanners
    send (strings, a bool, an aware ISO time, no note); None for anything else, which then goes through
    ``SyncItemIn`` itself. Accepts only what ``SyncItemIn`` accepts, and builds the same dict."""
    if type(raw) is not dict:
        return None
    nonce, code, purpose = raw.get("nonce"), raw.get("code"), raw.get("purpose")
    if type(nonce) is not str or not _NONCE_FULL.fullmatch(nonce):
        return None
    if type(code) is not str or not _CODE_LENGTH[0] <= len(code) <= _CODE_LENGTH[1] or fields.text_problem(code):
        return None
    if type(purpose) is not str or purpose not in _PURPOSES:
        return None
    offline = raw.get("offline", False)
    if type(offline) is not bool or raw.get("note") is not None:
        return None
    scanned_at = raw.get("scanned_at")
    if scanned_at is not None:
        if type(scanned_at) is not str:
            return None
        try:
            scanned_at = datetime.fromisoformat(scanned_at)
        except ValueError:
            return None
        if scanned_at.tzinfo is None or scanned_at.utcoffset() is None \
                or not _SCANNED_BOUNDS[0] <= scanned_at <= _SCANNED_BOUNDS[1]:
            return None
    return {"nonce": nonce, "code": code, "purpose": _PURPOSES[purpose], "scanned_at": scanned_at,
            "offline": offline, "note": None}


class SyncIn(Schema):
    items = fields.PlainFirstList(fields.Nested(SyncItemIn), plain=_plain_item, required=True,
                                  validate=validate.Length(min=1, max=1000, error="每次上传 1 到 1000 条"))
    sent_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "the device's clock when it sent the batch"})
    place_id = ID

    @validates_schema
    def _unique_nonces(self, data, **kwargs):
        nonces = [item["nonce"] for item in data.get("items", [])]
        if len(set(nonces)) != len(nonces):
            raise ValidationError("同一批中扫码编号不能重复", field_name="items")


class VisitBriefOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    purpose = fields.String(required=True)
    purpose_label = fields.String(required=True)
    visited_at = fields.DateTime(required=True)


class SyncResultOut(Schema):
    nonce = fields.String(required=True)
    result = fields.String(required=True, metadata={"enum": ["ok", "duplicate", "forced", "rejected"]})
    code = fields.String(allow_none=True)
    message = fields.String(required=True)
    conflict = fields.Boolean(required=True)
    replayed = fields.Boolean(required=True)
    visit = fields.Nested(VisitBriefOut, allow_none=True)


_ANSWER_KEYS = ("nonce", "result", "code", "message", "conflict", "replayed")
_ANSWER_TYPES = {"nonce": (str,), "result": (str,), "code": (str, type(None)), "message": (str,),
                 "conflict": (bool,), "replayed": (bool,)}
_VISIT_TYPES = {"id": int, "name": str, "purpose": str, "purpose_label": str, "visited_at": datetime}


def _plain_answer(answer) -> dict | None:
    """An answer as ``SyncResultOut`` dumps it, for the engine's usual shape (plain str, bool and int
    values, the visit's time a datetime); None for anything else, which ``SyncResultOut`` dumps."""
    if type(answer) is not dict:
        return None
    out = {}
    for key in _ANSWER_KEYS:
        if key in answer:
            value = answer[key]
            if type(value) not in _ANSWER_TYPES[key]:
                return None
            out[key] = value
    if "visit" in answer:
        visit = answer["visit"]
        if visit is not None:
            if type(visit) is not dict or any(type(visit.get(key)) is not kind for key, kind in _VISIT_TYPES.items()):
                return None
            visit = {"id": visit["id"], "name": visit["name"], "purpose": visit["purpose"],
                     "purpose_label": visit["purpose_label"], "visited_at": visit["visited_at"].isoformat()}
        out["visit"] = visit
    return out


class SyncResults(fields.List):
    """The answers, each one ``SyncResultOut``, written in one pass (``_plain_answer``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if type(value) is not list:
            return super()._serialize(value, attr, obj, **kwargs)
        return [out if (out := _plain_answer(answer)) is not None else self.inner._serialize(answer, attr, obj, **kwargs)
                for answer in value]


class SyncOut(Schema):
    results = SyncResults(fields.Nested(SyncResultOut), required=True)
    server_time = fields.DateTime(required=True)


class VisitPlaceOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.enum_value("kind", required=True)
    kind_label = fields.enum_label("kind", required=True)
    district = fields.String(required=True)
    district_label = fields.Function(lambda p: DISTRICTS.get(p.district), allow_none=True)


class VisitOut(Schema):
    id = fields.Integer(required=True)
    place = fields.Nested(VisitPlaceOut, required=True)
    name = fields.Function(lambda v: mask_name(v.user.name) or "未填姓名", required=True)
    day = fields.Date(required=True)
    purpose = fields.enum_value("purpose", required=True)
    purpose_label = fields.enum_label("purpose", required=True)
    source = fields.enum_value("source", required=True)
    source_label = fields.Function(lambda v: "扫场所码" if v.source == VisitSource.self_scan else "工作人员扫码",
                                   required=True)
    visited_at = fields.DateTime(required=True)
    offline = fields.Boolean(required=True)
    forced_reason = fields.String(allow_none=True)


class SelfCheckInOut(Schema):
    visit = fields.Nested(VisitOut, required=True)
    created = fields.Boolean(required=True)
    message = fields.String(required=True)


class TodayIn(Schema):
    place_id = ID


class TodayOut(Schema):
    place = fields.Nested(VisitPlaceOut, required=True)
    day = fields.Date(required=True)
    total = fields.Integer(required=True)
    by_purpose = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    last_received_at = fields.DateTime(allow_none=True)


class VisitQueryIn(Schema):
    place_id = ID
    day_from = fields.Date()
    day_to = fields.Date()
    purpose = fields.Enum(VisitPurpose, error_messages={"unknown": "到访目的不正确"})
    district = DISTRICT


class VisitFiguresIn(Schema):
    day_from = fields.Date(required=True)
    day_to = fields.Date(required=True)
    group = fields.String(load_default="district", validate=validate.OneOf(["district", "place"],
                                                                            error="只能按 district 或 place 汇总"))
    bucket = fields.String(load_default="month", validate=validate.OneOf(["day", "month"], error="只能按 day 或 month"))

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("day_from") and data.get("day_to") and data["day_to"] < data["day_from"]:
            raise ValidationError("结束日期不能早于开始日期", field_name="day_to")


class VisitFiguresRowOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    total = fields.Integer(required=True)
    forced = fields.Integer(required=True)
    by_purpose = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_period = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class VisitFiguresOut(Schema):
    day_from = fields.Date(required=True, attribute="from", data_key="from")
    day_to = fields.Date(required=True, attribute="to", data_key="to")
    group = fields.String(required=True)
    bucket = fields.String(required=True)
    periods = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Nested(VisitFiguresRowOut), required=True)
    total = fields.Integer(required=True)
    purposes = fields.List(fields.Dict(), required=True)


class VisitExportIn(Schema):
    day_from = fields.Date(required=True)
    day_to = fields.Date(required=True)
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"], error="格式只能是 xlsx 或 csv"))


class ReviewQueryIn(Schema):
    kind = fields.String(load_default="rejected", validate=validate.OneOf(["rejected", "forced", "conflict"],
                                                                          error="只能是 rejected、forced 或 conflict"))
    channel = fields.Enum(Channel, metadata={"description": "place: visits at places; door: events' doors"},
                          error_messages={"unknown": "只能是 place 或 door"})
    reviewed = fields.Boolean()


class ScanReviewIn(Schema):
    note = fields.String(required=True, multiline=True,
                         validate=validate.Length(min=2, max=200, error="请填写 2 到 200 字的核查说明"))


class CheckinScanOut(Schema):
    id = fields.Integer(required=True)
    nonce = fields.String(required=True)
    result = fields.enum_value("result", required=True)
    result_label = fields.Function(lambda s: result_label(s.channel, s.result, s.conflict), required=True)
    reason = fields.String(allow_none=True)
    reason_label = fields.Function(lambda s: REASON_LABELS.get(s.reason, s.reason) if s.reason else None,
                                   allow_none=True)
    conflict = fields.Boolean(required=True)
    channel = fields.enum_value("channel", required=True)
    channel_label = fields.enum_label("channel", required=True)
    event_id = fields.Integer(allow_none=True)
    event_title = fields.Function(lambda s: s.event.title if s.event else None, allow_none=True)
    registration_id = fields.Integer(allow_none=True)
    person_name = fields.Function(lambda s: (mask_name(s.user.name) or "未填姓名") if s.user else None,
                                  allow_none=True)
    place_id = fields.Integer(allow_none=True)
    place_name = fields.Function(lambda s: s.place.name if s.place else None, allow_none=True)
    user_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    device_id = fields.Integer(allow_none=True)
    device_name = fields.Function(lambda s: s.device.name if s.device else None, allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.Function(lambda s: mask_name(s.staff.name) if s.staff else None, allow_none=True)
    purpose = fields.enum_value("purpose", allow_none=True)
    purpose_label = fields.enum_label("purpose", allow_none=True)
    scanned_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(required=True)
    offline = fields.Boolean(required=True)
    code_excerpt = fields.String(required=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_note = fields.String(required=True)


class VisitNoteOut(Schema):
    id = fields.Integer(required=True)
    visit_id = fields.Integer(required=True)
    summary = fields.Function(lambda n: n.summary, required=True)
    created_at = fields.DateTime(required=True)
