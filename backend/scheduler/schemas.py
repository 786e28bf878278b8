from __future__ import annotations

from marshmallow import validate

from backend.core import fields
from backend.core.schemas import Schema
from backend.scheduler.enums import JobName, Outcome


class RunsQueryIn(Schema):
    job = fields.String(validate=validate.OneOf([j.value for j in JobName], error="没有这个定时任务"))
    outcome = fields.Enum(Outcome, error_messages={"unknown": "没有这个运行结果"},
                          metadata={"description": "running | ok | failed | skipped"})


class CountOut(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    value = fields.String(required=True, metadata={"description": "as shown (amounts in 元)"})


class JobRunOut(Schema):
    id = fields.Integer(required=True)
    job = fields.String(required=True)
    job_label = fields.String(required=True)
    trigger = fields.enum_value("trigger", required=True)
    trigger_label = fields.enum_label("trigger", required=True)
    outcome = fields.enum_value("outcome", required=True)
    outcome_label = fields.enum_label("outcome", required=True)
    attempt = fields.Integer(required=True)
    scheduled_for = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    counts = fields.Dict(required=True)
    counts_shown = fields.List(fields.Nested(CountOut), required=True)
    error = fields.String(required=True)
    actor_name = fields.String(allow_none=True, metadata={"description": "who ran it by hand"})


class JobOut(Schema):
    job = fields.String(required=True)
    label = fields.String(required=True)
    schedule = fields.String(required=True)
    next_run_at = fields.DateTime(allow_none=True)
    last_run = fields.Nested(JobRunOut, allow_none=True)
    failures_7d = fields.Integer(required=True, metadata={"description": "failed attempts in the last 7 days"})


class JobsOut(Schema):
    jobs = fields.List(fields.Nested(JobOut), required=True)
