"""Append-only audit log of administrator actions: who, what, when, before and after."""
from __future__ import annotations

from datetime import datetime, time, timedelta

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


# --- reading the log ------------------------------------------------------------------------------

# action -> 中文, registered by each domain for the actions it records (served in /api/meta as
# audit_actions); an action nobody registered is shown as it is.
ACTION_LABELS: dict[str, str] = {}


def register_actions(labels: dict[str, str]) -> None:
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


# The tables whose rows are named in the log (by table, as a foreign key names them: core imports no
# domain): target_type -> (table, the column people read).
_NAMED = {"user": ("user", "name"), "place": ("place", "name"), "provider": ("provider", "name"),
          "voucher_batch": ("voucher_batch", "name"), "event": ("event", "title")}
_users = sa.table("user", sa.column("id", sa.Integer), sa.column("name", sa.String))


def log_query(*, actor: str | None = None, actor_id: int | None = None, action: str | None = None,
              target_type: str | None = None, target_id: str | None = None, date_from=None,
              date_to=None) -> sa.Select:
    """Entries, newest first. ``actor``: an id (digits) or part of a name; ``action``: a prefix
    ("voucher_batch" finds voucher_batch.create, .update…); dates are Beijing days, both included. Only
    the entries the signed-in reader may read (``readable``: a city or district administrator, those of
    the people of their region)."""
    from backend.core.localtime import LOCAL

    query = sa.select(AuditLog).order_by(AuditLog.id.desc())
    if actor:
        actor = actor.strip()
        if actor.isdigit():
            query = query.where(AuditLog.actor_id == int(actor))
        else:
            query = query.where(AuditLog.actor_id.in_(
                sa.select(_users.c.id).where(_users.c.name.contains(actor, autoescape=True))))
    if actor_id is not None:
        query = query.where(AuditLog.actor_id == actor_id)
    if action:
        query = query.where(sa.or_(AuditLog.action == action, AuditLog.action.startswith(f"{action}.", autoescape=True)))
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    if target_id:
        query = query.where(AuditLog.target_id == target_id)
    if date_from is not None:
        query = query.where(AuditLog.created_at >= datetime.combine(date_from, time.min, LOCAL))
    if date_to is not None:
        query = query.where(AuditLog.created_at < datetime.combine(date_to + timedelta(days=1), time.min, LOCAL))
    return readable(query)


def annotate(entries) -> None:
    """Give each entry ``actor_name``, ``action_label`` and, where its record has a name,
    ``target_label``: one query per table for the whole page."""
    entries = list(entries)
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    actors = dict(db.session.execute(sa.select(_users.c.id, _users.c.name).where(_users.c.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    labels: dict[tuple[str, str], str] = {}
    for target_type, (table_name, column) in _NAMED.items():
        ids = {int(e.target_id) for e in entries
               if e.target_type == target_type and e.target_id and e.target_id.isdigit() and len(e.target_id) < 10}
        if ids:
            table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
            for row_id, name in db.session.execute(sa.select(table.c.id, table.c[column]).where(table.c.id.in_(ids))):
                labels[(target_type, str(row_id))] = name
    names = _value_names(entries)
    for entry in entries:
        entry.actor_name = actors.get(entry.actor_id) or ("系统" if entry.actor_id is None else "")
        entry.action_label = action_label(entry.action)
        entry.target_label = labels.get((entry.target_type, entry.target_id))
        entry.before_shown = _shown(entry.before, names)
        entry.after_shown = _shown(entry.after, names)


# Keys of before/after whose values people read by name: an id of a named table, or a code with
# labels in /api/meta (core.meta: what the domains registered).
_ID_KEYS = {"place_id": "place", "place_ids": "place", "provider_id": "provider", "provider_ids": "provider",
            "user_id": "user", "batch_id": "voucher_batch", "event_id": "event"}
_CODE_KEYS = {"role": "roles", "region_code": "regions", "region_codes": "regions",
              "district": "districts", "kind": "place_kinds", "subject_type": "subject_types"}


def _values(value):
    return value if isinstance(value, list) else [value]


def _value_names(entries) -> dict[tuple[str, object], str]:
    """(key, value) -> name for every id and code in the entries' before/after."""
    from backend.core.meta import registered

    wanted: dict[str, set[int]] = {}
    for entry in entries:
        for side in (entry.before, entry.after):
            for key, value in (side or {}).items():
                if key in _ID_KEYS:
                    wanted.setdefault(key, set()).update(v for v in _values(value) if isinstance(v, int))
    names: dict[tuple[str, object], str] = {}
    for key, ids in wanted.items():
        table_name, column = _NAMED[_ID_KEYS[key]]
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
        for row_id, name in db.session.execute(sa.select(table.c.id, table.c[column]).where(table.c.id.in_(ids))):
            names[(key, row_id)] = name
    labels = registered()
    for key, list_name in _CODE_KEYS.items():
        for option in labels.get(list_name, []):
            if isinstance(option, dict):
                names[(key, option["value"])] = option["label"]
    return names


def _shown(side: dict | None, names: dict) -> dict | None:
    """``side`` with ids and codes replaced by their names where known (lists element by element)."""
    if side is None:
        return None

    def one(key, value):
        return names.get((key, value), value) if isinstance(value, (int, str)) and not isinstance(value, bool) else value

    return {key: [one(key, v) for v in value] if isinstance(value, list) else one(key, value)
            for key, value in side.items()}


EXPORT_HEADER = ["编号", "时间", "操作人", "操作", "对象类型", "对象编号", "对象名称", "修改前", "修改后", "IP"]
EXPORT_LIMIT = 100_000


def export(query: sa.Select):
    """The entries of ``query`` as XLSX (at most EXPORT_LIMIT rows): (body, content type, file name)."""
    import json

    from backend.core import tables
    from backend.core.localtime import LOCAL

    entries = db.session.scalars(query.limit(EXPORT_LIMIT)).all()
    rows = []
    for start in range(0, len(entries), 1000):
        page = entries[start:start + 1000]
        annotate(page)
        for e in page:
            rows.append([e.id, e.created_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S"), e.actor_name,
                         e.action_label, e.target_type, e.target_id or "", e.target_label or "",
                         json.dumps(e.before_shown, ensure_ascii=False) if e.before is not None else "",
                         json.dumps(e.after_shown, ensure_ascii=False) if e.after is not None else "", e.ip or ""])
    return tables.export(name="audit-log", header=EXPORT_HEADER, rows=rows, fmt="xlsx", title="管理员操作日志",
                         widths=[8, 20, 12, 18, 16, 10, 24, 40, 40, 16], sheet="操作日志")

