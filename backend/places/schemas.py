from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from backend.core import fields
from backend.core.regions import DISTRICTS
from backend.core.schemas import Schema
from backend.places.enums import PlaceKind

KIND = fields.Enum(PlaceKind, error_messages={"unknown": "场所类型只能是 喵小创空间/创业街区/创业市场/创贷之家"})
DISTRICT = fields.String(validate=validate.OneOf(list(DISTRICTS), error="请选择所在区县"))


class PlaceQueryIn(Schema):
    kind = fields.Enum(PlaceKind, error_messages={"unknown": "场所类型不正确"})
    district = fields.String(validate=validate.OneOf(list(DISTRICTS), error="区县代码不正确"))
    q = fields.String(validate=validate.Length(min=1, max=64, error="搜索词为 1 到 64 个字"))
    lat = fields.Float(validate=validate.Range(-90, 90, error="纬度不正确"))
    lng = fields.Float(validate=validate.Range(-180, 180, error="经度不正确"))

    @validates_schema
    def _both(self, data, **kwargs):
        if ("lat" in data) != ("lng" in data):
            raise ValidationError("经纬度需要同时提供", field_name="lat")


class PlaceOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.enum_value("kind", required=True)
    kind_label = fields.enum_label("kind", required=True)
    name = fields.String(required=True)
    district = fields.String(required=True)
    district_label = fields.Function(lambda p: DISTRICTS.get(p.district), allow_none=True)
    address = fields.String(required=True)
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    opening_hours = fields.String(required=True)
    services = fields.List(fields.String(), required=True)
    operator = fields.String(required=True)
    phone = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    # from the origin the list was asked with (service.with_distances); None without one
    distance_m = fields.Function(lambda p: getattr(p, "distance_m", None), allow_none=True)


class AdminPlaceQueryIn(Schema):
    kind = fields.Enum(PlaceKind, error_messages={"unknown": "场所类型不正确"})
    district = fields.String(validate=validate.OneOf(list(DISTRICTS), error="区县代码不正确"))
    q = fields.String(validate=validate.Length(min=1, max=64, error="搜索词为 1 到 64 个字"))
    state = fields.String(validate=validate.OneOf(["open", "closed"], error="状态只能是 open 或 closed"))


class PlaceDetailOut(PlaceOut):
    staff_count = fields.Integer(required=True)  # service.with_staff_count


class PlaceIn(Schema):
    kind = fields.Enum(PlaceKind, required=True, error_messages={"unknown": "场所类型不正确"})
    name = fields.String(required=True, validate=validate.Length(min=2, max=128, error="名称为 2 到 128 个字"))
    district = fields.String(required=True, validate=validate.OneOf(list(DISTRICTS), error="请选择所在区县"))
    address = fields.String(load_default="", validate=validate.Length(max=256, error="地址不能超过 256 个字"))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90, error="纬度不正确"))
    lng = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180, error="经度不正确"))
    opening_hours = fields.String(load_default="", validate=validate.Length(max=128, error="开放时间不能超过 128 个字"))
    services = fields.List(fields.String(validate=validate.Length(min=1, max=32, error="服务项目为 1 到 32 个字")),
                           load_default=list, validate=validate.Length(max=20, error="服务项目最多 20 项"))
    operator = fields.String(load_default="", validate=validate.Length(max=128, error="运营方不能超过 128 个字"))
    phone = fields.String(load_default="", validate=validate.Regexp(r"^[0-9\-]{0,32}$", error="联系电话格式不正确"))

    @validates_schema
    def _both(self, data, partial=False, **kwargs):
        if ("lat" in data or "lng" in data) and (data.get("lat") is None) != (data.get("lng") is None):
            raise ValidationError("经纬度需要同时提供", field_name="lat")


class PlacePatchIn(PlaceIn):
    is_active = fields.Boolean()


class PosterQueryIn(Schema):
    size = fields.String(load_default="screen",
                         validate=validate.OneOf(["screen", "print"], error="尺寸只能是 screen 或 print"))
