from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.core.db import utcnow
from backend.extensions import db
from backend.notifications.models import Notification


def notify(*, user_id: int, kind: str, title: str, body: str = "", link: str = "", dedupe: str | None = None) -> bool:
    """Queue a notification; with ``dedupe`` the same one is only ever sent once. Returns whether it was new."""
    if dedupe is not None and db.session.scalar(sa.select(Notification.id).where(
            Notification.user_id == user_id, Notification.dedupe == dedupe)) is not None:
        return False
    db.session.add(Notification(user_id=user_id, kind=kind, title=title, body=body, link=link, dedupe=dedupe))
    db.session.flush()
    return True


def notify_in_one(*, user_id: int, kind: str, title: str, body: str = "", link: str = "", dedupe: str) -> None:
    """Queue a notification in a single INSERT (for hot paths): the same ``dedupe`` for the same person
    is skipped by the unique constraint instead of a lookup first. Nothing is loaded into the session.
    The statement is built once per database with bind parameters (building it each time was a tenth
    of a redemption's CPU)."""
    db.session.execute(_notify_statement(db.session.get_bind().dialect.name),
                       {"user_id": user_id, "kind": kind, "title": title, "body": body, "link": link,
                        "dedupe": dedupe, "created_at": utcnow()})


@functools.cache
def _notify_statement(dialect_name: str):
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    names = ("user_id", "kind", "title", "body", "link", "dedupe", "created_at")
    table = Notification.__table__
    return insert(table).values({name: sa.bindparam(name, type_=table.c[name].type) for name in names}) \
        .on_conflict_do_nothing()


def list_query(*, user) -> sa.Select:
    return sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())


def unread_count(*, user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def mark_read(*, user, ids: list[int] | None) -> int:
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return db.session.execute(query.values(read_at=utcnow())).rowcount
