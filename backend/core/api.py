"""flask-smorest Api whose documented and actual error payload is our one error shape."""
from __future__ import annotations

import marshmallow as ma
import flask_smorest

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
