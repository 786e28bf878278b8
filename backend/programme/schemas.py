from __future__ import annotations

from marshmallow import validate

from backend.core import fields
from backend.core.schemas import Schema
from backend.core.regions import REGION_NAMES
from backend.programme.enums import MEASURE_LABELS, MONEY, Measure

YEAR = fields.Integer(validate=validate.Range(2000, 2100, error="年份应在 2000 到 2100 之间"))
REGION = fields.String(validate=validate.OneOf(list(REGION_NAMES), error="地区代码不正确"))
MEASURE = fields.Enum(Measure, error_messages={"unknown": "没有这个指标"})


class TargetValue(fields.Integer):
    """A target: a count, or an amount in fen (a BIGINT column); exact in a JavaScript number."""

    LIMITS = (0, 10**15)
    default_error_messages = {"out_of_range": "目标值应在 0 到 10¹⁵ 之间（金额单位：分）"}


PLAN = fields.String(validate=validate.Length(min=2, max=160, error="出处（文件名称）应为 2 到 160 字"))
NOTE = fields.String(validate=validate.Length(max=120, error="说明不能超过 120 字"))


class DashboardQueryIn(Schema):
    year = YEAR
    region = REGION


class TargetQueryIn(Schema):
    year = YEAR
    region = REGION
    measure = MEASURE


class TargetIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100, error="年份应在 2000 到 2100 之间"))
    region_code = fields.String(required=True, validate=validate.OneOf(list(REGION_NAMES), error="地区代码不正确"))
    measure = fields.Enum(Measure, required=True, error_messages={"unknown": "没有这个指标"})
    value = TargetValue(required=True)
    plan = fields.String(required=True, validate=validate.Length(min=2, max=160,
                                                                 error="出处（文件名称）应为 2 到 160 字"))
    note = fields.String(load_default="", validate=validate.Length(max=120, error="说明不能超过 120 字"))


class TargetPatchIn(Schema):
    value = TargetValue()
    plan = PLAN
    note = NOTE


class TargetOut(Schema):
    id = fields.Integer()
    year = fields.Integer()
    region_code = fields.String()
    region_name = fields.Function(lambda t: REGION_NAMES.get(t.region_code, t.region_code))
    measure = fields.Function(lambda t: t.measure.value)
    measure_label = fields.Function(lambda t: MEASURE_LABELS[t.measure])
    value = fields.Integer()
    unit = fields.String()
    money = fields.Function(lambda t: t.measure in MONEY)
    plan = fields.String()
    note = fields.String()
    updated_at = fields.AwareDateTime()


class RegionRowOut(Schema):
    code = fields.String()
    name = fields.String()
    actual = fields.Integer()
    target = fields.Integer(allow_none=True)
    drill = fields.Boolean()
    people_served = fields.Integer()
    steps = fields.Dict(metadata={"description": "loans: the steps taken in the year (subsidy_paid in fen)"})


class SectionOut(Schema):
    key = fields.String()
    title = fields.String()
    unit = fields.String()
    money = fields.Boolean(metadata={"description": "amounts (target, actual…) are fen"})
    measure = fields.String()
    measure_label = fields.String()
    target = fields.Integer(allow_none=True)
    plan = fields.String(allow_none=True)
    actual = fields.Integer()
    expected_by_now = fields.Integer(allow_none=True, metadata={"description": "target × share of the year gone"})
    ratio = fields.Float(allow_none=True)
    status = fields.String(allow_none=True)
    status_label = fields.String(allow_none=True)
    stock = fields.Boolean(metadata={"description": "a count at each month's end rather than a sum of months"})
    by_month = fields.List(fields.Integer(allow_none=True))
    by_region = fields.List(fields.Nested(RegionRowOut))
    # station_visits
    by_purpose = fields.List(fields.Dict())
    people_served = fields.Integer()
    people_served_by_month = fields.List(fields.Integer())
    people_served_target = fields.Integer(allow_none=True)
    # vouchers (fen)
    budget = fields.Integer()
    issued = fields.Integer()
    redeemed = fields.Integer()
    settled = fields.Integer()
    by_batch = fields.List(fields.Dict())
    by_category = fields.List(fields.Dict())
    issued_by_month = fields.List(fields.Integer())
    settled_by_month = fields.List(fields.Integer())
    # loans: consultations, pre-checks passed, referrals, loans disbursed (count), subsidy paid (fen)
    steps = fields.List(fields.Dict())


class OtherTargetOut(Schema):
    measure = fields.String()
    label = fields.String()
    target = fields.Integer()
    unit = fields.String()
    money = fields.Boolean()
    plan = fields.String()
    note = fields.String()


class DashboardOut(Schema):
    year = fields.Integer()
    region = fields.String()
    region_name = fields.String()
    level = fields.String()
    parent = fields.String(allow_none=True)
    share_elapsed = fields.Float()
    months_elapsed = fields.Integer()
    as_of = fields.String()
    sections = fields.List(fields.Nested(SectionOut))
    other_targets = fields.List(fields.Nested(OtherTargetOut))
