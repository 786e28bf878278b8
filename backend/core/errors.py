"""One error shape for every /api failure: {"code", "message", "details"}.

Services raise DomainError with a stable code; HTTP errors (404, 405, 422, 429…) and
unexpected exceptions are mapped here too, so the miniapp can always branch on ``code``
and show ``message``.
"""
from __future__ import annotations

import logging

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, code: str, status: int | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "找不到请求的内容"),
    405: ("method_not_allowed", "不支持该请求方法"),
    406: ("not_acceptable", "无法提供所请求的格式"),
    409: ("conflict", "数据已被修改，请刷新后重试"),
    412: ("precondition_failed", "内容已被修改，请刷新后重试"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的内容有误，请检查后重试"),
    428: ("precondition_required", "缺少版本信息，请刷新后重试"),
    429: ("rate_limited", "操作太频繁，请稍后再试"),
    500: ("internal_error", "服务器出错了，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}


def error_response(code: str, message: str, status: int, details: dict | None = None, headers=None):
    response = jsonify({"code": code, "message": message, "details": details or {}})
    response.status_code = status
    if headers:
        response.headers.extend(headers)
    return response


def handle_domain_error(error: DomainError):
    from backend.extensions import db

    db.session.rollback()
    return error_response(error.code, error.message, error.status, error.details)


def handle_http_exception(error: HTTPException):
    from backend.extensions import db

    db.session.rollback()
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, ("http_error", "请求失败"))
    details: dict = {}
    headers = None
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs validation errors, keyed by location
        details = data["messages"]
        if status == 400:
            code, message = "invalid_json", "请求内容不是有效的 JSON"
            details = {location: [message] for location in details}
    if data.get("headers"):
        headers = data["headers"]
    if status == 429 and getattr(error, "retry_after", None) is None:
        limit = getattr(error, "limit", None)
        if limit is not None:
            details = {"limit": str(limit.limit)}
    if status == 413:
        details = {"max_bytes": request.max_content_length}
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        details = {"allowed": sorted(error.valid_methods)}
    response = error_response(code, message, status, details, headers)
    # keep headers the exception prepared (Allow, Retry-After, WWW-Authenticate)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_integrity_error(error: Exception):
    """A unique or check constraint refused a write that a service did not foresee (two requests
    racing to create the same thing): the database kept its promise, so the client is told to look
    again (409), never a 500. Services that can give a better answer catch it themselves."""
    from backend.extensions import db

    db.session.rollback()
    log.warning("integrity error answered 409: %s", getattr(error, "orig", error))
    return error_response("conflict", "数据已被同时修改，请刷新后重试", 409)


def _unavailable_errors() -> tuple[type[Exception], ...]:
    from sqlalchemy import exc

    # the database (or the pool in front of it) does not answer: connection refused or lost, a server
    # restarting, no free connection in time. Not a bug of ours: the client may try again.
    return exc.OperationalError, exc.InterfaceError, exc.TimeoutError


UNAVAILABLE_ERRORS = _unavailable_errors()
UNAVAILABLE = ("service_unavailable", "服务暂时不可用，请稍后重试")


def handle_unavailable(error: Exception):
    """503 in the error shape; the session rolled back (and its connection given up: the next checkout's
    BEGIN finds a dead one and the pool makes a fresh one, core/ops.py, so the app recovers without a
    restart)."""
    from backend.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; dropping the session is enough
        log.warning("rollback after a lost database failed", exc_info=True)
    db.session.remove()
    log.error("database unavailable: %s", getattr(error, "orig", None) or error, exc_info=error)
    return error_response(*UNAVAILABLE, 503, headers={"Retry-After": "5"})


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    from backend.extensions import db

    db.session.rollback()
    log.exception("unhandled error")
    code, message = HTTP_ERRORS[500]
    return error_response(code, message, 500)


def register(app) -> None:
    from sqlalchemy.exc import IntegrityError

    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    for unavailable in UNAVAILABLE_ERRORS:
        app.register_error_handler(unavailable, handle_unavailable)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
