"""Who a request's token belongs to: the JWT loaders that read the user, their roles and whether the
token is revoked. They live with the accounts they read (core/auth.py wires the error answers and
the role checks, and knows no domain).

The bound (IDENTITY_CACHE_SECONDS, default 5; 0 reads the database on every request): each process
keeps what one query said about a (user, token) pair — the user, their role grants, whether the
token is revoked — for at most that many seconds. So a role revoked, an account blocked or a token
revoked by ANOTHER process (another gunicorn worker, another server, plain SQL) takes effect here
within IDENTITY_CACHE_SECONDS. In the process that made the change it takes effect at once: a commit
that wrote a User, a RoleGrant or a RevokedToken (or deleted anything, or ran a bulk UPDATE/DELETE on
those tables) drops what this process kept about the users concerned (all of it when it cannot
tell which) — see :func:`_watch_sessions`.

A request that hits the cache gets the user merged into its session without a query
(``Session.merge(load=False)``): ``current_user`` is the same persistent ``User`` as before, its
grants loaded, any other attribute (phone, profile) loaded lazily from the database.
"""
from __future__ import annotations

import threading
import time
import weakref
from functools import cache

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import Session, defer, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from backend.accounts import service as accounts
from backend.accounts.models import RevokedToken, RoleGrant, User
from backend.extensions import db, jwt

WATCHED = (User, RoleGrant, RevokedToken)
WATCHED_TABLES = frozenset(cls.__table__.name for cls in WATCHED)
ALL = "all"  # a change whose users cannot be told: forget everything


class IdentityCache:
    """user id -> {jti: (deadline, snapshot or None, revoked)}; ``clock`` is injectable for tests."""

    def __init__(self, seconds: float, max_entries: int = 20_000, clock=time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[int, dict[str, tuple]] = {}
        self._size = 0
        self._generation = 0  # bumped by every drop: a read begun before a drop is not kept
        self._lock = threading.Lock()
        _CACHES.add(self)

    def begin(self) -> tuple[float, int]:
        """Taken before the query whose answer :meth:`put` keeps."""
        return self.clock(), self._generation

    def get(self, user_id: int, jti: str):
        """(snapshot, revoked) while it is younger than the bound, else None."""
        entry = self._entries.get(user_id, {}).get(jti)
        if entry is None:
            return None
        if self.clock() >= entry[0]:
            with self._lock:
                if self._entries.get(user_id, {}).pop(jti, None) is not None:
                    self._size -= 1
            return None
        return entry[1], entry[2]

    def put(self, user_id: int, jti: str, snapshot, revoked: bool, begun: tuple[float, int]) -> None:
        """Keep what a query said, for the bound counted from when it began (``begun`` from
        :meth:`begin`) — unless something was dropped meanwhile: that query may have read the rows
        just before a change this process committed."""
        since, generation = begun
        with self._lock:
            if generation != self._generation:
                return
            if self._size >= self.max_entries:
                self._entries.clear()
                self._size = 0
            tokens = self._entries.setdefault(user_id, {})
            self._size += jti not in tokens
            tokens[jti] = (since + self.seconds, snapshot, revoked)

    def drop_users(self, user_ids) -> None:
        with self._lock:
            self._generation += 1
            if user_ids == ALL:
                self._entries.clear()
                self._size = 0
                return
            for user_id in user_ids:
                self._size -= len(self._entries.pop(user_id, ()))

    def clear(self) -> None:
        self.drop_users(ALL)

    def __len__(self) -> int:
        return self._size


_CACHES: weakref.WeakSet[IdentityCache] = weakref.WeakSet()


def cache_of(app=None) -> IdentityCache | None:
    return (app or current_app).extensions.get("identity_cache")


def cache_for(config) -> IdentityCache | None:
    seconds = float(config.get("IDENTITY_CACHE_SECONDS") or 0)
    return IdentityCache(seconds) if seconds > 0 else None


def init_app(app) -> None:
    app.extensions["identity_cache"] = cache_for(app.config)
    _watch_sessions()

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload):
        # Every protected request needs three things: is the token revoked, who is it, which roles.
        # One query answers all three (or the cache of an earlier answer, within the bound); the user
        # is kept for the lookup below.
        user_id, jti = int(payload["sub"]), payload["jti"]
        identities = cache_of()
        if identities is not None:
            hit = identities.get(user_id, jti)
            if hit is not None:
                snapshot, revoked = hit
                g.jwt_user = None if revoked else db.session.merge(snapshot, load=False)
                return revoked
            begun = identities.begin()
        row = db.session.execute(_identity_query(), {"jti": jti, "user_id": user_id}).unique().first()
        if row is None:
            g.jwt_user = None
            return accounts.is_revoked(jti=jti)
        g.jwt_user, revoked = row[0], bool(row[1])
        if identities is not None and not db.session.info.get(_CHANGED):
            # (a session holding unflushed or uncommitted identity changes of its own is not
            # what other requests should see: nothing is kept from it)
            identities.put(user_id, jti, _snapshot(row[0]), revoked, begun)
        return revoked

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


# --- the cached copy ------------------------------------------------------------------------------
def _snapshot(user: User) -> User:
    """A detached copy of the user and their grants as loaded, owned by no session: what later
    requests merge into theirs (the copy itself is never handed out, so no request changes it)."""
    copy = _detached(user)
    set_committed_value(copy, "grants", [_detached(grant) for grant in user.grants])
    return copy


def _detached(obj):
    mapper = sa.inspect(obj).mapper
    loaded = sa.inspect(obj).dict
    clone = mapper.class_manager.new_instance()
    for attr in mapper.column_attrs:
        if attr.key in loaded:
            set_committed_value(clone, attr.key, loaded[attr.key])
    make_transient_to_detached(clone)
    return clone


# --- invalidation in the process that changes things ----------------------------------------------
_CHANGED = "identity_changed"  # session.info key: the user ids (or ALL) this transaction changed


def _note(session: Session, user_ids) -> None:
    changed = session.info.get(_CHANGED)
    if changed == ALL:
        return
    if user_ids == ALL:
        session.info[_CHANGED] = ALL
    else:
        session.info[_CHANGED] = (changed or set()) | set(user_ids)


def _after_flush(session: Session, _context) -> None:
    if session.deleted:
        # rows deleted here may take role grants with them (ON DELETE CASCADE from a place, a
        # provider or a bank), which the ORM never sees
        _note(session, ALL)
        return
    users = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, User):
            users.add(obj.id)
        elif isinstance(obj, (RoleGrant, RevokedToken)):
            users.add(obj.user_id if obj.user_id is not None else getattr(obj.user, "id", None))
    if None in users:
        _note(session, ALL)
    elif users:
        _note(session, users)


def _on_execute(state) -> None:
    """Bulk statements through the session (``sa.update(User)…``, ``sa.delete(RoleGrant)…``)."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if state.is_delete or getattr(table, "name", None) in WATCHED_TABLES:
        _note(state.session, ALL)


def _after_commit(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        for identities in list(_CACHES):
            identities.drop_users(changed)


def _after_rollback(session: Session) -> None:
    # what was noted is gone with the transaction; if a savepoint rolled back, the outer transaction
    # may still commit changes noted before it, so forget conservatively instead of guessing
    if session.info.pop(_CHANGED, None):
        for identities in list(_CACHES):
            identities.clear()


@cache
def _watch_sessions() -> None:
    """Once per process, on every session (the app's, the tests', the CLI's)."""
    sa.event.listen(Session, "after_flush", _after_flush)
    sa.event.listen(Session, "do_orm_execute", _on_execute)
    sa.event.listen(Session, "after_commit", _after_commit)
    sa.event.listen(Session, "after_soft_rollback", lambda session, _tx: _after_rollback(session))
