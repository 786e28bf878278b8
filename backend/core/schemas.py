"""Marshmallow base schema: unknown input fields are excluded, every field is a project field type
(backend/core/fields.py) and messages are Chinese."""
from __future__ import annotations

import inspect

import marshmallow as ma
from marshmallow import fields, validate

from backend.core import fields as project_fields

FIELD_MESSAGES = {
    "required": "必填",
    "null": "不能为空",
    "validator_failed": "取值无效",
    "invalid": "格式不正确",
    "invalid_utf8": "不是有效的 UTF-8 文本",
    "too_large": "数值过大",
    "special": "不是有效的数值",
    "format": "格式不正确",
    "invalid_awareness": "时间格式不正确",
    "empty": "不能为空",
    "not_a_number": "必须是数字",
}


def _localise_fields() -> None:
    """Replace marshmallow's English default field messages with Chinese ones, once."""
    for _, cls in inspect.getmembers(fields, inspect.isclass):
        if issubclass(cls, fields.Field):
            own = cls.__dict__.get("default_error_messages")
            if own:
                cls.default_error_messages = {key: FIELD_MESSAGES.get(key, "格式不正确") for key in own}


_localise_fields()


def _localise_validators() -> None:
    validate.Range.message_min = "应{min_op} {{min}}"
    validate.Range.message_max = "应{max_op} {{max}}"
    validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
    validate.Range.message_gte = "大于或等于"
    validate.Range.message_gt = "大于"
    validate.Range.message_lte = "小于或等于"
    validate.Range.message_lt = "小于"
    validate.Length.message_min = "长度不能少于 {min}"
    validate.Length.message_max = "长度不能超过 {max}"
    validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
    validate.Length.message_equal = "长度应为 {equal}"
    validate.OneOf.default_message = "取值无效，可选：{choices}"
    validate.Regexp.default_message = "格式不正确"
    validate.Email.default_message = "邮箱格式不正确"


_localise_validators()


class Schema(ma.Schema):
    """Unknown input fields are excluded; every field is one of ``backend.core.fields`` (strict integers
    bounded by their columns, text without control characters, dates in range)."""

    class Meta:
        unknown = ma.EXCLUDE

    error_messages = {"type": "数据格式不正确", "unknown": "未知字段"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        foreign = project_fields.foreign_leaf(field_obj)
        if foreign is not None:
            raise TypeError(f"{type(self).__name__}.{field_name}: use backend.core.fields, not marshmallow's "
                            f"{type(foreign).__name__}")
