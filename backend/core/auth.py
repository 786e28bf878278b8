"""JWT wiring and the role checks routes use.

Roles are read from the database on every request (not from token claims), so a revoked role
or a disabled account takes effect at once."""
from __future__ import annotations

from functools import cache, wraps

import sqlalchemy as sa
from flask_jwt_extended import current_user, verify_jwt_in_request
from sqlalchemy.orm import defer, joinedload

from backend.core.errors import Forbidden, error_response
from backend.extensions import db, jwt

BEARER = [{"bearer": []}]


def init_app(app) -> None:
    from backend.accounts import service as accounts
    from backend.accounts.models import User

    from flask import g

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload):
        # Every protected request needs three things: is the token revoked, who is it, which roles.
        # One query answers all three, read afresh each time; the user is kept for the lookup below.
        row = db.session.execute(_identity_query(), {"jti": payload["jti"], "user_id": int(payload["sub"])}) \
            .unique().first()
        if row is None:
            g.jwt_user = None
            return accounts.is_revoked(jti=payload["jti"])
        g.jwt_user = row[0]
        return bool(row[1])

    @jwt.user_lookup_loader
    def _load_user(_header, payload):
        user = g.pop("jwt_user", None)
        if user is None or user.id != int(payload["sub"]):
            user = db.session.get(User, int(payload["sub"]), options=[joinedload(User.grants)])
        return user if user is not None and user.is_active else None

    @jwt.user_lookup_error_loader
    def _lookup_error(_header, _payload):
        return error_response("account_disabled", "账号不存在或已停用", 401)

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return error_response("token_expired", "登录已过期，请重新登录", 401)

    @jwt.revoked_token_loader
    def _revoked_response(_header, _payload):
        return error_response("token_revoked", "登录已失效，请重新登录", 401)

    @jwt.invalid_token_loader
    def _invalid(reason):
        return error_response("token_invalid", "登录凭证无效，请重新登录", 401)

    @jwt.unauthorized_loader
    def _missing(reason):
        return error_response("unauthorized", "请先登录", 401)

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header, _payload):
        return error_response("fresh_login_required", "请重新登录后再操作", 401)


@cache
def _identity_query() -> sa.Select:
    """The user, their role grants and whether the token is revoked, for :jti and :user_id.

    Built once: assembling the statement each request cost more than running it. The phone is
    deferred (decrypting it costs a Fernet operation, and few requests read it)."""
    from backend.accounts.models import RevokedToken, User

    revoked = sa.exists().where(RevokedToken.jti == sa.bindparam("jti"))
    return sa.select(User, revoked).options(joinedload(User.grants), defer(User.phone)) \
        .where(User.id == sa.bindparam("user_id"))


def viewer_optional(fn):
    """A page anyone may read that says more to a signed-in viewer: ``g.viewer`` is the user or None."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        from flask import g

        verify_jwt_in_request(optional=True)
        g.viewer = current_user if current_user else None
        return fn(*args, **kwargs)

    return wrapper


def login_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        return fn(*args, **kwargs)

    return wrapper


def roles_required(*roles: str):
    """Let the request through only for a logged-in user holding one of ``roles``."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if not current_user.has_role(*roles):
                raise Forbidden("没有权限执行此操作", code="forbidden", details={"required_roles": list(roles)})
            return fn(*args, **kwargs)

        return wrapper

    return decorator
