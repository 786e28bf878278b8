from __future__ import annotations

import base64
import binascii
import re

from marshmallow import ValidationError, validate

from backend.core import fields
from backend.core.schemas import Schema
from backend.core.validators import mask_name
from backend.places.schemas import PlaceOut


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*=*")


class B64Bytes(fields.Field):
    """Bytes as unpadded base64url (nothing else: the decoder would skip any other character)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 200 or not _BASE64URL.fullmatch(value):
            raise ValidationError("格式不正确")
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise ValidationError("不是有效的 base64url 编码") from None


class KeyOut(Schema):
    kid = fields.Integer(required=True)
    alg = fields.String(required=True)
    public_key = fields.String(required=True, metadata={"description": "raw Ed25519 public key, base64url"})


class DeviceIn(Schema):
    public_key = B64Bytes(required=True, metadata={"description": "P-256 public key, SEC1 (33 or 65 bytes), base64url"})
    name = fields.String(load_default="", validate=validate.Length(max=64))


class DeviceOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    credential_expires_at = fields.DateTime(required=True)


class CredentialOut(Schema):
    device = fields.Nested(DeviceOut, required=True)
    credential = fields.String(required=True, metadata={"description": "server-signed credential, CY:<base45>"})
    code_window = fields.Integer(required=True, metadata={"description": "seconds a personal code is accepted"})
    refresh_seconds = fields.Integer(required=True, metadata={"description": "make a new code this often"})


class SetupOut(Schema):
    setup_id = fields.Integer(required=True)
    setup_code = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class ProvisionIn(Schema):
    setup_code = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    name = fields.String(required=True, validate=validate.Length(min=1, max=64, error="请填写设备名称（1 到 64 个字）"))


class ScannerOut(Schema):
    id = fields.Integer(required=True)
    place_id = fields.Integer(required=True)
    place_name = fields.String(required=True)  # service.with_place_names
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class ScannerPatchIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64, error="请填写设备名称（1 到 64 个字）"))


class ProvisionOut(Schema):
    device = fields.Nested(ScannerOut, required=True)
    token = fields.String(required=True, metadata={"description": "send as X-Device-Token; shown once"})


class BundleQueryIn(Schema):
    since = fields.Integer(validate=validate.Range(min=0, max=2**31 - 1, error="同步位置不正确"))


class BundleDevice(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    place_id = fields.Integer(required=True)


class BundleOut(Schema):
    full = fields.Boolean(required=True)
    cursor = fields.Integer(required=True)
    keys = fields.List(fields.Nested(KeyOut), required=True)
    revoked_credentials = fields.List(fields.Integer(), required=True)
    revoked_tickets = fields.List(fields.Integer(), required=True)
    blocked_users = fields.List(fields.Integer(), required=True)
    restored_users = fields.List(fields.Integer(), required=True)
    place = fields.Nested(PlaceOut, required=True)
    device = fields.Nested(BundleDevice, required=True)
    personal_code_window = fields.Integer(required=True)
    personal_code_skew = fields.Integer(required=True)


class VerifyIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=2000, error="二维码内容为空或过长"))
    expect = fields.String(load_default="personal",
                           validate=validate.OneOf(["personal", "place", "ticket"], error="不支持的二维码类型"))


class VerifiedUser(Schema):
    id = fields.Integer(required=True)
    name_masked = fields.Function(lambda u: mask_name(u.name), allow_none=True)


class VerifyOut(Schema):
    type = fields.String(required=True)
    user = fields.Nested(VerifiedUser)
    purpose = fields.String()
    ts = fields.Integer()
    device_id = fields.Integer()
    fields_ = fields.Dict(attribute="fields", data_key="fields")
