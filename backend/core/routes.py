"""Cross-domain endpoints: labels the miniapp needs (/api/meta) and the audit log."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from backend.accounts.enums import ROLE_LABELS, SUBJECT_LABELS
from backend.core.api import blueprint
from backend.core.audit import AuditLog
from backend.core.auth import BEARER, roles_required
from backend.core.pagination import SelectPage
from backend.core.regions import DISTRICTS
from backend.core.schemas import Schema
from backend.places.enums import KIND_LABELS, SERVICES

meta_blp = blueprint("meta", __name__, "/api/meta", "枚举与标签")
audit_blp = blueprint("audit", __name__, "/api/admin/audit-log", "管理员操作日志")


class Option(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


class MetaOut(Schema):
    place_kinds = fields.List(fields.Nested(Option), required=True)
    subject_types = fields.List(fields.Nested(Option), required=True)
    districts = fields.List(fields.Nested(Option), required=True)
    roles = fields.List(fields.Nested(Option), required=True)
    place_services = fields.List(fields.String(), required=True)
    demo = fields.Boolean(required=True)


def _options(labels: dict) -> list[dict]:
    return [{"value": str(k), "label": v} for k, v in labels.items()]


@meta_blp.route("")
class Meta(MethodView):
    @meta_blp.response(200, MetaOut)
    def get(self):
        """Labels for place kinds, subject types, districts and roles."""
        return {
            "place_kinds": _options(KIND_LABELS),
            "subject_types": _options(SUBJECT_LABELS),
            "districts": _options(DISTRICTS),
            "roles": _options(ROLE_LABELS),
            "place_services": SERVICES,
            "demo": current_app.config["DEMO_LOGIN"],
        }


class AuditQueryIn(Schema):
    action = fields.String(validate=validate.Length(max=64))
    target_type = fields.String(validate=validate.Length(max=32))
    target_id = fields.String(validate=validate.Length(max=64))
    actor_id = fields.Integer()


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
    @audit_blp.doc(security=BEARER)
    @audit_blp.arguments(AuditQueryIn, location="query")
    @audit_blp.response(200, AuditOut(many=True))
    @audit_blp.paginate(SelectPage)
    def get(self, args):
        """Administrator actions, newest first."""
        query = sa.select(AuditLog).order_by(AuditLog.id.desc())
        for key, value in args.items():
            query = query.where(getattr(AuditLog, key) == value)
        return query
