from marshmallow import validate

from backend.core import fields
from backend.core.schemas import Schema


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class ReadIn(Schema):
    ids = fields.List(fields.Id(), load_default=None,
                      allow_none=True, validate=validate.Length(max=500, error="一次最多 500 条"),
                      metadata={"description": "omit to mark all as read"})


class ReadOut(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


class UnreadOut(Schema):
    unread = fields.Integer(required=True)
