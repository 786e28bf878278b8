"""Cross-domain endpoints: labels the miniapp needs (/api/meta, from what the domains register),
the audit log and uploads."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import current_user
from marshmallow import ValidationError, validate, validates_schema

from backend.core.api import Blueprint, blueprint, download
from backend.core import audit, fields, payload, uploads
from backend.core.auth import login_required, roles_required
from backend.core.regions import DISTRICTS, REGION_NAMES
from backend.core.schemas import Schema
from backend.core.meta import register_labels, registered, response_schema
from backend.core.pagination import AnnotatedSelect

audit_blp = blueprint("audit", __name__, "/api/admin", "管理员操作日志")


register_labels("districts", DISTRICTS)
register_labels("regions", REGION_NAMES)  # the province, its cities and districts: what an administrator is bound to
register_labels("audit_actions", audit.ACTION_LABELS)  # each domain adds its own (audit.register_actions)


@cache
def meta_blueprint() -> Blueprint:
    """/api/meta, built once every domain's routes module has registered its labels (create_app
    imports them all first): its response schema lists what was registered."""
    blp = blueprint("meta", __name__, "/api/meta", "枚举与标签")

    @blp.route("")
    class Meta(MethodView):
        @blp.response(200, response_schema())
        def get(self):
            """Labels for place kinds, subject types, districts, roles, event kinds, visit purposes…"""
            return {**registered(), "demo": current_app.config["DEMO_LOGIN"]}

    return blp


class AuditQueryIn(Schema):
    actor = fields.String(validate=validate.Length(min=1, max=32, error="请输入 1 到 32 个字"),
                          metadata={"description": "who: a user id, or part of a name"})
    action = fields.String(validate=validate.Length(max=64),
                           metadata={"description": "an action, or its prefix (voucher_batch)"})
    target_type = fields.String(validate=validate.Length(max=32))
    target_id = fields.String(validate=validate.Length(max=64))
    actor_id = fields.Id()
    date_from = fields.Date(metadata={"description": "first Beijing day, included"})
    date_to = fields.Date(metadata={"description": "last Beijing day, included"})

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("结束日期不能早于开始日期", field_name="date_to")


class AuditOut(Schema):
    id = fields.Integer(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(required=True)
    action = fields.String(required=True)
    action_label = fields.String(required=True)
    target_type = fields.String(required=True)
    target_id = fields.String(allow_none=True)
    target_label = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    before_shown = fields.Dict(allow_none=True, metadata={"description": "before, ids and codes given as names"})
    after_shown = fields.Dict(allow_none=True, metadata={"description": "after, ids and codes given as names"})
    ip = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


def _log_query(args) -> sa.Select:
    return audit.log_query(**args)


@audit_blp.route("/audit-log")
class AuditLogList(MethodView):
    @roles_required("admin")
    @audit_blp.arguments(AuditQueryIn, location="query")
    @audit_blp.paged(AuditOut)
    def get(self, args):
        """Administrator actions, newest first, with who did them and what they touched by name;
        filter by who (id or name), what (an action or its prefix), which record and when (Beijing days).
        A district administrator reads the entries of the people of their districts."""
        return AnnotatedSelect(_log_query(args), audit.annotate)


@audit_blp.route("/audit-log.xlsx")
class AuditLogExport(MethodView):
    @roles_required("admin")
    @audit_blp.arguments(AuditQueryIn, location="query")
    @audit_blp.file_response()
    def get(self, args):
        """The entries the same filters find, as XLSX (at most 100,000, newest first)."""
        return download(audit.export(_log_query(args)))


uploads_blp = blueprint("uploads", __name__, "/api/uploads", "上传材料（图片按内容检查、去除 EXIF 并压缩；PDF）")
uploads_blp.before_request(payload.allow_upload_size)


class UploadIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    original_name = fields.String(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)


@uploads_blp.route("")
class Uploads(MethodView):
    @login_required
    @uploads_blp.arguments(UploadIn, location="files")
    @uploads_blp.response(201, UploadOut)
    def post(self, files):
        """Upload one file (multipart field ``file``): JPG/PNG/WebP images or PDF, at most 10 MB."""
        storage = files["file"]
        return uploads.store(owner=current_user, data=storage.read(uploads.MAX_BYTES + 1),
                             filename=storage.filename or "")


@uploads_blp.route("/<int(max=2147483647):upload_id>")
class UploadFile(MethodView):
    @login_required
    @uploads_blp.file_response()
    def get(self, upload_id):
        """The stored file (its owner, or an administrator)."""
        return uploads.send(uploads.get_readable(user=current_user, id=upload_id))
