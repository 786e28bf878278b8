"""Who a request's token belongs to: the JWT loaders that read the user, their roles and whether the
token is revoked, in one query per request. They live with the accounts they read (core/auth.py
wires the error answers and the role checks, and knows no domain)."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import defer, joinedload

from backend.accounts import service as accounts
from backend.accounts.models import RevokedToken, User
from backend.extensions import db, jwt


def init_app(app) -> None:
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


@cache
def _identity_query() -> sa.Select:
    """The user, their role grants and whether the token is revoked, for :jti and :user_id.

    Built once: assembling the statement each request cost more than running it. The phone is
    deferred (decrypting it costs a Fernet operation, and few requests read it)."""
    revoked = sa.exists().where(RevokedToken.jti == sa.bindparam("jti"))
    return sa.select(User, revoked).options(joinedload(User.grants), defer(User.phone)) \
        .where(User.id == sa.bindparam("user_id"))
