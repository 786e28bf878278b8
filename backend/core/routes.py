"""Cross-domain endpoints: labels the miniapp needs (/api/meta, from what the domains register),
the audit log and uploads."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import current_app, send_file
from flask.views import MethodView
from flask_jwt_extended import current_user
from marshmallow import validate

from backend.core.api import Blueprint, blueprint
from backend.core import audit
from backend.core.audit import AuditLog
from backend.core import fields, payload, uploads
from backend.core.auth import login_required, roles_required
from backend.core.regions import DISTRICTS, REGION_NAMES
from backend.core.schemas import Schema
from backend.core.meta import register_labels, registered, response_schema

audit_blp = blueprint("audit", __name__, "/api/admin/audit-log", "管理员操作日志")


register_labels("districts", DISTRICTS)
register_labels("regions", REGION_NAMES)  # the province, its cities and districts: what an administrator is bound to


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
    action = fields.String(validate=validate.Length(max=64))
    target_type = fields.String(validate=validate.Length(max=32))
    target_id = fields.String(validate=validate.Length(max=64))
    actor_id = fields.Id()


class AuditOut(Schema):
    id = fields.Integer(required=True)
    actor_id = fields.Integer(allow_none=True)
    action = fields.String(required=True)
    target_type = fields.String(required=True)
    target_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


@audit_blp.route("")
class AuditLogList(MethodView):
    @roles_required("admin")
    @audit_blp.arguments(AuditQueryIn, location="query")
    @audit_blp.paged(AuditOut)
    def get(self, args):
        """Administrator actions, newest first."""
        query = sa.select(AuditLog).order_by(AuditLog.id.desc())
        for key, value in args.items():
            query = query.where(getattr(AuditLog, key) == value)
        return audit.readable(query)


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
        upload = uploads.get_readable(user=current_user, id=upload_id)
        return send_file(uploads.path_of(upload), mimetype=upload.content_type, max_age=3600,
                         download_name=f"upload-{upload.id}.{upload.extension}")
