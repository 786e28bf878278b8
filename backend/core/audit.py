"""Append-only audit log of administrator actions: who, what, when, before and after."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, utcnow
from backend.extensions import db


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (sa.Index(None, "target_type", "target_id"),)


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("audit_log is append-only")


def record(*, actor, action: str, target_type: str, target_id=None, before=None, after=None) -> AuditLog:
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        before=before,
        after=after,
        ip=request.remote_addr if has_request_context() else "cli",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def record_changes(*, actor, action: str, target_type: str, target_id, before: dict, after: dict) -> AuditLog | None:
    """An edit in the log with only the fields it changed (their old and new values); nothing when
    it changed none."""
    changed = [key for key in after if after[key] != before.get(key)]
    if not changed:
        return None
    return record(actor=actor, action=action, target_type=target_type, target_id=target_id,
                  before={key: before.get(key) for key in changed}, after={key: after[key] for key in changed})


# Who may read which entries: the accounts domain registers the rule (an administrator of a city or
# district reads the entries of the people in their region); core knows no domain.
_reader_scope = None


def scoped_by(fn):
    """Register ``fn(query) -> query``, which keeps the entries the signed-in reader may see."""
    global _reader_scope
    _reader_scope = fn
    return fn


def readable(query):
    return _reader_scope(query) if _reader_scope is not None else query
