"""Targets as data: administrators list, add, change and remove the plans' yearly numbers for their
own region and those below it; every change is in the audit log. Seeded from the plans
(programme/seed.py)."""
from __future__ import annotations

import sqlalchemy as sa

from backend.accounts import scope
from backend.core import audit
from backend.core.errors import Conflict, NotFound
from backend.extensions import db
from backend.programme.enums import UNITS, Measure
from backend.programme.models import ProgrammeTarget

EDITABLE = ("value", "plan", "note")


def list_query(*, user, year: int | None = None, region: str | None = None,
               measure: Measure | None = None) -> sa.Select:
    in_declared_order = sa.case({m.value: i for i, m in enumerate(Measure)}, value=ProgrammeTarget.measure, else_=99)
    query = scope.limit(sa.select(ProgrammeTarget), ProgrammeTarget.region_code, user=user).order_by(
        ProgrammeTarget.year.desc(), ProgrammeTarget.region_code, in_declared_order, ProgrammeTarget.id)
    if region:
        scope.check_region(region, user=user)
        query = query.where(ProgrammeTarget.region_code == region)
    if year is not None:
        query = query.where(ProgrammeTarget.year == year)
    if measure is not None:
        query = query.where(ProgrammeTarget.measure == measure)
    return query


def get_or_raise(*, user, id: int) -> ProgrammeTarget:
    target = db.session.get(ProgrammeTarget, id)
    if target is None:
        raise NotFound("目标不存在", code="target_not_found")
    scope.check(target.region_code, user=user, message="目标不存在", error="target_not_found")
    return target


def snapshot(target: ProgrammeTarget) -> dict:
    return {"year": target.year, "region_code": target.region_code, "measure": target.measure.value,
            "value": target.value, "unit": target.unit, "plan": target.plan, "note": target.note}


def create(*, actor, data: dict) -> ProgrammeTarget:
    scope.check_region(data["region_code"], user=actor)
    exists = db.session.scalar(sa.select(ProgrammeTarget.id).where(
        ProgrammeTarget.year == data["year"], ProgrammeTarget.region_code == data["region_code"],
        ProgrammeTarget.measure == data["measure"]))
    if exists is not None:
        raise Conflict("该地区该年度已有这一指标的目标，请直接修改", code="target_exists", details={"id": exists})
    target = ProgrammeTarget(year=data["year"], region_code=data["region_code"], measure=data["measure"],
                             value=data["value"], unit=UNITS[data["measure"]], plan=data["plan"],
                             note=data.get("note", ""))
    db.session.add(target)
    db.session.flush()
    audit.record(actor=actor, action="target.create", target_type="programme_target", target_id=target.id,
                 after=snapshot(target))
    return target


def update(*, actor, target: ProgrammeTarget, data: dict) -> ProgrammeTarget:
    before = snapshot(target)
    for key in EDITABLE:
        if key in data:
            setattr(target, key, data[key])
    db.session.flush()
    audit.record_changes(actor=actor, action="target.update", target_type="programme_target", target_id=target.id,
                         before=before, after=snapshot(target))
    return target


def delete(*, actor, target: ProgrammeTarget) -> None:
    before = snapshot(target)
    db.session.delete(target)
    db.session.flush()
    audit.record(actor=actor, action="target.delete", target_type="programme_target", target_id=target.id,
                 before=before)


def target_value(*, year: int, region: str, measure: str) -> int | None:
    """The value of one target, or None (what core.targets answers other domains)."""
    return db.session.scalar(sa.select(ProgrammeTarget.value).where(
        ProgrammeTarget.year == year, ProgrammeTarget.region_code == region, ProgrammeTarget.measure == measure))
