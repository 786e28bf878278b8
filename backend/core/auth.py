"""JWT wiring and the role checks routes use.

Roles are read from the database (not from token claims) through a short per-process cache: a
revoked role or a disabled account takes effect at once in the process that made the change and
within IDENTITY_CACHE_SECONDS everywhere else (backend/accounts/identity.py states the bound).

A token's signature is checked once per process: the claims of a token verified before (the exact
same string) are reused until its ``exp``, which is checked on every request as before."""
from __future__ import annotations

import time
from copy import deepcopy
from functools import wraps

from flask import current_app, request
from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_smorest.utils import deepupdate

from backend.core.errors import Forbidden, error_response
from backend.extensions import jwt, limiter

BEARER = [{"bearer": []}]


VERIFIED_TOKENS_MAX = 4096
_now = time.time  # the clock expiry is checked against (tests move it with PyJWT's)


def _reuse_verified_tokens() -> None:
    """Flask-JWT-Extended decodes a token four times a request (claims and header unverified, then
    verified, then the header again; PyJWT checks each base64 segment character by character):
    ~0.1 ms. The claims (and header) of a token this app verified before are kept (keyed by the exact token, CSRF value and mode), per app,
    at most VERIFIED_TOKENS_MAX of them; expiry is still checked each time, and an expired or unknown
    token goes the whole way (so the answers, token_expired included, are the library's own)."""
    if getattr(jwt, "_verified_reuse", False):
        return
    decode = jwt._decode_jwt_from_config

    def decode_once(encoded_token, csrf_value=None, allow_expired: bool = False) -> dict:
        verified = current_app.extensions.get("verified_tokens")
        if verified is None:
            return decode(encoded_token, csrf_value, allow_expired)
        key = (encoded_token, csrf_value, allow_expired)
        claims = verified.get(key)
        if claims is not None and (allow_expired or "exp" not in claims
                                   or _now() < claims["exp"] + current_app.config["JWT_DECODE_LEEWAY"]):
            return dict(claims)
        claims = decode(encoded_token, csrf_value, allow_expired)
        if len(verified) >= VERIFIED_TOKENS_MAX:
            verified.clear()
        verified[key] = dict(claims)
        return claims

    from flask_jwt_extended import view_decorators

    headers_of = view_decorators.get_unverified_jwt_headers

    def headers_once(encoded_token) -> dict:
        """The header of a token that has just been verified (the library reads it after)."""
        verified = current_app.extensions.get("verified_tokens")
        if verified is None:
            return headers_of(encoded_token)
        key = ("header", encoded_token)
        header = verified.get(key)
        if header is None:
            header = verified[key] = dict(headers_of(encoded_token))
        return dict(header)

    jwt._decode_jwt_from_config = decode_once
    view_decorators.get_unverified_jwt_headers = headers_once
    jwt._verified_reuse = True


def init_app(app) -> None:
    """The error answers of token checks. Who a token belongs to is the accounts domain's
    (accounts/identity.py registers those loaders): core knows no domain."""
    app.extensions["verified_tokens"] = {}
    _reuse_verified_tokens()

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


def per_ip(rate: str):
    """A rate limit on the caller's address, for what anyone may call (logins, provisioning)."""
    return limiter.limit(rate, key_func=lambda: f"ip:{request.remote_addr}")


def viewer_optional(fn):
    """A page anyone may read that says more to a signed-in viewer: ``g.viewer`` is the user or None."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        from flask import g

        verify_jwt_in_request(optional=True)
        g.viewer = current_user if current_user else None
        return fn(*args, **kwargs)

    return wrapper


def documented(wrapper, security=BEARER):
    """Say in the OpenAPI document how an endpoint is signed in to, as ``blp.doc(security=…)`` does,
    so that the decorator that checks it is the one line a route needs."""
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    wrapper._apidoc["manual_doc"] = deepupdate(deepcopy(wrapper._apidoc.get("manual_doc", {})),
                                               {"security": security})
    return wrapper


def login_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        return fn(*args, **kwargs)

    return documented(wrapper)


def roles_required(*roles: str):
    """Let the request through only for a logged-in user holding one of ``roles`` (and document the
    bearer token it needs)."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if not current_user.has_role(*roles):
                raise Forbidden("没有权限执行此操作", code="forbidden", details={"required_roles": list(roles)})
            return fn(*args, **kwargs)

        return documented(wrapper)

    return decorator
