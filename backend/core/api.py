"""flask-smorest Api whose documented and actual error payload is our one error shape."""
from __future__ import annotations

import marshmallow as ma
import flask_smorest
from flask_smorest import pagination

from backend.core import errors


class ErrorSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable snake_case error code"})
    message = ma.fields.String(required=True, metadata={"description": "中文说明"})
    details = ma.fields.Dict(required=True, metadata={"description": "field errors or context"})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        errors.register(self._app)

    def handle_http_exception(self, error):  # pragma: no cover - replaced by errors.register
        return errors.handle_http_exception(error)


def blueprint(name: str, import_name: str, url_prefix: str, description: str) -> flask_smorest.Blueprint:
    return flask_smorest.Blueprint(name, import_name, url_prefix=url_prefix, description=description)


MAX_PAGE = 100_000


def _pagination_schema(def_page, def_page_size, def_max_page_size):
    """smorest's page arguments, bounded (an unbounded page overflows OFFSET) and in Chinese."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            ordered = True
            unknown = ma.EXCLUDE

        page = ma.fields.Integer(
            load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE, error="页码应在 1 到 100000 之间")
        )
        page_size = ma.fields.Integer(
            load_default=def_page_size,
            validate=ma.validate.Range(min=1, max=def_max_page_size, error=f"每页条数应在 1 到 {def_max_page_size} 之间"),
        )

        @ma.post_load
        def make_paginator(self, data, **kwargs):
            return pagination.PaginationParameters(**data)

    return PaginationParametersSchema


# flask-smorest builds its page-argument schema through this module-level factory; ours bounds it.
pagination._pagination_parameters_schema_factory = _pagination_schema


def request_cache(name: str) -> dict:
    """A dict that lives exactly as long as the current request: schemas memoise per-item lookups in
    it. (Not ``g``: ``g`` belongs to the app context, which a test — or a CLI — may keep across requests.)"""
    from flask import request

    return request.environ.setdefault(f"cyql.cache.{name}", {})
