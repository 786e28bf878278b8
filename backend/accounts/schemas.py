from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, pre_load, validate, validates

from backend.accounts.enums import ROLE_LABELS, SUBJECT_LABELS, Role, SubjectType
from backend.accounts.enums import DEMO_ACCOUNTS
from backend.core import fields
from backend.core.regions import DISTRICTS, REGION_NAMES
from backend.core.schemas import Schema
from backend.core.validators import is_credit_code, is_id_number, is_phone, mask_id_number, mask_phone



def _check_phone(value: str) -> None:
    if not is_phone(value):
        raise ValidationError("请输入正确的 11 位手机号")


class SmsCodeIn(Schema):
    phone = fields.String(required=True, validate=_check_phone, metadata={"example": "13800000001"})


class SmsCodeOut(Schema):
    sent = fields.Boolean(required=True)
    expires_in = fields.Integer(required=True)
    resend_after = fields.Integer(required=True)


class PhoneLoginIn(Schema):
    phone = fields.String(required=True, validate=_check_phone)
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="验证码是 6 位数字"))


class WechatLoginIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=256, error="缺少微信登录凭证"))


class DemoLoginIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(list(DEMO_ACCOUNTS), error="没有这个演示账号"))


class DemoAccountOut(Schema):
    role = fields.String(required=True)
    label = fields.String(required=True)
    name = fields.String(required=True)
    phone_masked = fields.String(required=True)


class LogoutIn(Schema):
    refresh_token = fields.String(load_default=None, allow_none=True)


class ProfileOut(Schema):
    subject_type = fields.enum_value("subject_type", allow_none=True)
    subject_type_label = fields.Function(lambda p: SUBJECT_LABELS.get(p.subject_type), allow_none=True)
    org_name = fields.String(allow_none=True)
    credit_code = fields.String(allow_none=True)
    founded_on = fields.Date(allow_none=True)
    district = fields.String(allow_none=True)
    district_label = fields.Function(lambda p: DISTRICTS.get(p.district), allow_none=True)
    id_number_masked = fields.Function(lambda p: mask_id_number(p.id_number), allow_none=True)


class AdminRegionOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    districts = fields.List(fields.String(), allow_none=True, metadata={"description": "null: every district"})


class MeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    phone_masked = fields.Function(lambda u: mask_phone(u.phone), allow_none=True)
    roles = fields.List(fields.String(), required=True)
    role_labels = fields.Function(lambda u: {r: ROLE_LABELS[Role(r)] for r in u.roles})
    place_id = fields.Integer(allow_none=True)
    admin_region = fields.Nested(AdminRegionOut, allow_none=True)
    profile = fields.Nested(ProfileOut, allow_none=True)


class TokensOut(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    user = fields.Nested(MeOut, required=True)


class AccessTokenOut(Schema):
    access_token = fields.String(required=True)


class ProfileIn(Schema):
    subject_type = fields.Enum(SubjectType, allow_none=True, error_messages={"unknown": "请选择主体类型"})
    org_name = fields.String(allow_none=True, validate=validate.Length(max=128, error="名称不能超过 128 个字"))
    credit_code = fields.String(allow_none=True)
    founded_on = fields.Date(allow_none=True, earliest=date(1900, 1, 1))  # checked below: 1949 to today
    district = fields.String(allow_none=True, validate=validate.OneOf(list(DISTRICTS), error="请选择所在区县"))
    id_number = fields.String(allow_none=True)

    @pre_load
    def normalise(self, data, **kwargs):
        if isinstance(data, dict):
            data = dict(data)
            for key in ("credit_code", "id_number"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip().upper() or None
        return data

    @validates("credit_code")
    def _credit(self, value, **kwargs):
        if value is not None and not is_credit_code(value):
            raise ValidationError("统一社会信用代码不正确，请核对 18 位代码")

    @validates("id_number")
    def _id_number(self, value, **kwargs):
        if value is not None and not is_id_number(value):
            raise ValidationError("身份证号码不正确，请核对")

    @validates("founded_on")
    def _founded(self, value, **kwargs):
        if value is not None and (value > date.today() or value.year < 1949):
            raise ValidationError("成立日期不正确")


class MeIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=32, error="姓名为 1 到 32 个字"))
    profile = fields.Nested(ProfileIn)


class GrantIn(Schema):
    role = fields.Enum(Role, required=True, error_messages={"unknown": "没有这个角色"})
    place_id = fields.Id(load_default=None, allow_none=True, error_messages={"out_of_range": "场所编号不正确"})
    region_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.OneOf(list(REGION_NAMES), error="请选择管辖地区"))
    provider_id = fields.Id(load_default=None, allow_none=True, error_messages={"out_of_range": "服务机构编号不正确"})
    bank_id = fields.Id(load_default=None, allow_none=True, error_messages={"out_of_range": "银行编号不正确"})


class GrantOut(Schema):
    id = fields.Integer(required=True)
    role = fields.enum_value("role")
    role_label = fields.enum_label("role")
    place_id = fields.Integer(allow_none=True)
    place_name = fields.String(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.String(allow_none=True)
    bank_id = fields.Integer(allow_none=True)
    bank_name = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    region_name = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class UserAdminOut(MeOut):
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    grants = fields.List(fields.Nested(GrantOut), required=True)


class UserQueryIn(Schema):
    q = fields.String(validate=validate.Length(min=1, max=32, error="请输入 1 到 32 个字"),
                      metadata={"description": "part of a name, or a whole phone number (exact)"})
    phone = fields.String(validate=_check_phone, metadata={"description": "exact phone number"})
    role = fields.Enum(Role, error_messages={"unknown": "没有这个角色"})


class RegionOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class UserPatchIn(Schema):
    is_active = fields.Boolean(required=True)
