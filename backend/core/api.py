"""flask-smorest Api whose documented and actual error payload is our one error shape, and the
Blueprint every domain uses, whose argument parser applies this project's input rules."""
from __future__ import annotations

import io
import re

import marshmallow as ma
import flask_smorest
from flask_smorest import pagination
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from backend.core import errors, fields, payload


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


api = Api()


_DECIMAL = re.compile(r"-?[0-9]{1,30}")


def _as_int(value):
    """Canonical decimal text as an int; anything else as it came, for the strict field to refuse."""
    if isinstance(value, list):
        return [_as_int(each) for each in value]
    return int(value) if isinstance(value, str) and _DECIMAL.fullmatch(value) else value


def _is_integer(field: ma.fields.Field) -> bool:
    return isinstance(field, ma.fields.Integer) or (isinstance(field, ma.fields.List)
                                                    and isinstance(field.inner, ma.fields.Integer))


class Parser(FlaskParser):
    """webargs' parser with the project's input rules (the fields carry the rest, core/fields.py):
    JSON bodies go through ``payload.loads`` (depth bounded, NaN refused); a query string is text, so
    an integer field's canonical decimal text is made an int here and the field itself stays strict."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        try:
            return payload.loads(req.get_data(cache=True))
        except payload.TooDeep:
            raise errors.DomainError("请求内容嵌套层级过深", code="json_too_deep", status=400,
                                     details={"max_depth": payload.MAX_DEPTH}) from None

    def load_querystring(self, req, schema):
        proxy = self._makeproxy(req.args, schema)
        integers = {field.data_key or name for name, field in schema.fields.items() if _is_integer(field)}
        if not integers.intersection(req.args.keys()):
            return proxy
        return {key: _as_int(proxy[key]) if key in integers else proxy[key] for key in proxy}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()
    PAGINATION_ARGUMENTS_PARSER = ARGUMENTS_PARSER

    def paged(self, schema: type[ma.Schema]):
        """The answer of a list endpoint: a page of ``schema`` rows from the Select (or AnnotatedSelect) the
        view returns, counted and cut in the database (core/pagination.py)."""
        from backend.core.pagination import SelectPage

        def decorator(fn):
            return self.response(200, schema(many=True))(self.paginate(SelectPage)(fn))

        return decorator

    def file_response(self, content_type: str = "application/octet-stream", **kwargs):
        """The response of an endpoint that answers with a file (an export, an image), as documented."""
        return self.response(200, {"type": "string", "format": "binary"}, content_type=content_type, **kwargs)


def download(table: tuple[bytes, str, str]):
    """A table from ``core.tables.export`` (body, content type, file name) sent as an attachment."""
    from flask import send_file

    body, mimetype, name = table
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name)


def blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    return Blueprint(name, import_name, url_prefix=url_prefix, description=description)


MAX_PAGE = 100_000


def _pagination_schema(def_page, def_page_size, def_max_page_size):
    """smorest's page arguments, bounded (an unbounded page overflows OFFSET) and in Chinese."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            ordered = True
            unknown = ma.EXCLUDE

        page = fields.Integer(
            load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE, error="页码应在 1 到 100000 之间")
        )
        page_size = fields.Integer(
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
