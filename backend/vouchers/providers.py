"""服务机构: staff register their organisation; an admin reviews; approved providers are on public
notice (objections recorded) and then listed in the catalogue; admins suspend or blacklist."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.core import audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, DomainError, Forbidden, NotFound
from backend.extensions import db
from backend.notifications import service as notifications
from backend.vouchers.enums import ProviderStatus
from backend.vouchers.models import Provider, ProviderMember, ProviderObjection

ACTIONS = {
    # action: (allowed from, to)
    "approve": ({ProviderStatus.pending}, ProviderStatus.approved),
    "reject": ({ProviderStatus.pending, ProviderStatus.approved}, ProviderStatus.rejected),
    "suspend": ({ProviderStatus.approved}, ProviderStatus.suspended),
    "blacklist": ({ProviderStatus.pending, ProviderStatus.approved, ProviderStatus.suspended, ProviderStatus.rejected},
                  ProviderStatus.blacklisted),
    "restore": ({ProviderStatus.suspended}, ProviderStatus.approved),
}
ACTION_LABELS = {"approve": "审核通过，进入公示", "reject": "审核不通过", "suspend": "暂停服务资格",
                 "blacklist": "列入黑名单", "restore": "恢复服务资格"}


def get_or_raise(*, id: int) -> Provider:
    provider = db.session.get(Provider, id)
    if provider is None:
        raise NotFound("服务机构不存在", code="provider_not_found")
    return provider


def get_public(*, id: int) -> Provider:
    provider = get_or_raise(id=id)
    if provider.status != ProviderStatus.approved:
        raise NotFound("服务机构不存在", code="provider_not_found")
    return provider


@accounts.finds_providers  # a provider-staff role is bound to a provider that exists
def _provider_for_role(provider_id: int) -> Provider:
    return get_or_raise(id=provider_id)


@accounts.on_grant_changed
def _staff_membership(*, user, grant, granted: bool) -> None:
    """A provider-staff grant bound to a provider makes its holder a member of it (one provider per
    person); revoking it ends the membership."""
    if grant.provider_id is None:
        return
    member = membership(user)
    if granted and member is None:
        db.session.add(ProviderMember(provider_id=grant.provider_id, user_id=user.id))
        db.session.flush()
    elif granted and member.provider_id != grant.provider_id:
        other = db.session.get(Provider, member.provider_id)
        raise Conflict(f"该用户已属于服务机构“{other.name}”，请先撤销", code="already_member",
                       details={"provider_id": member.provider_id})
    elif not granted and member is not None and member.provider_id == grant.provider_id:
        db.session.delete(member)
        db.session.flush()


def membership(user) -> ProviderMember | None:
    return db.session.scalar(sa.select(ProviderMember).where(ProviderMember.user_id == user.id))


def provider_of(user) -> Provider:
    member = membership(user)
    if member is None:
        raise DomainError("您还没有登记服务机构", code="no_provider", status=409)
    return db.session.get(Provider, member.provider_id)


def register(*, user, data: dict) -> Provider:
    if membership(user) is not None:
        raise Conflict("您已属于一个服务机构", code="already_member")
    if db.session.scalar(sa.select(Provider.id).where(Provider.credit_code == data["credit_code"])) is not None:
        raise Conflict("该统一社会信用代码的机构已登记，请联系机构管理员添加您", code="provider_exists")
    provider = Provider(**data, created_by_id=user.id)
    db.session.add(provider)
    db.session.flush()
    db.session.add(ProviderMember(provider_id=provider.id, user_id=user.id))
    db.session.flush()
    # no role yet: the provider-staff role (the desk: scan, redeem, statements) comes with approval
    return provider


def decide(*, actor, provider: Provider, action: str, reason: str) -> Provider:
    allowed, to = ACTIONS[action]
    if provider.status not in allowed:
        raise Conflict("该机构当前状态不能执行此操作", code="invalid_transition",
                       details={"from": provider.status.value, "action": action})
    if action != "approve" and not reason:
        raise DomainError("请填写原因", code="reason_required", status=422, details={"reason": ["必填"]})
    before = {"status": provider.status.value, "reason": provider.status_reason}
    now = utcnow()
    provider.status = to
    provider.status_reason = reason
    if action == "approve":
        provider.approved_at = now
        provider.listed_at = now + timedelta(days=current_app.config["PROVIDER_NOTICE_DAYS"])
    db.session.flush()
    audit.record(actor=actor, action=f"provider.{action}", target_type="provider", target_id=provider.id,
                 before=before, after={"status": provider.status.value, "reason": reason})
    members = db.session.scalars(sa.select(ProviderMember).where(ProviderMember.provider_id == provider.id)).all()
    if action == "approve":  # the staff role comes with approval (granted and logged once per member)
        from backend.accounts.models import User

        for member in members:
            accounts.grant_role(actor=actor, user=db.session.get(User, member.user_id), role=Role.provider_staff,
                               provider_id=provider.id)
    for member in members:
        notifications.notify(user_id=member.user_id, kind="provider_status",
                             title=f"服务机构{ACTION_LABELS[action]}",
                             body=f"{provider.name}{('：' + reason) if reason else ''}", link="provider-home")
    return provider


def public_query(*, status: str = "listed", category=None, district=None, q=None) -> sa.Select:
    now = utcnow()
    if status == "notice":
        query = sa.select(Provider).where(Provider.on_notice(now)).order_by(Provider.listed_at, Provider.id)
    else:
        query = sa.select(Provider).where(Provider.listed(now)).order_by(Provider.name, Provider.id)
    if category:
        query = query.where(sa.cast(Provider.categories, sa.String).contains(f'"{category}"'))
    if district:
        query = query.where(Provider.district == district)
    if q:
        query = query.where(Provider.name.contains(q, autoescape=True))
    return query


def admin_query(*, status=None, q=None) -> sa.Select:
    query = sa.select(Provider).order_by(Provider.id.desc())
    if status == "notice":
        query = query.where(Provider.on_notice(utcnow()))
    elif status == "listed":
        query = query.where(Provider.listed(utcnow()))
    elif status:
        query = query.where(Provider.status == status)
    if q:
        query = query.where(Provider.name.contains(q, autoescape=True))
    return query


def object_to(*, user, provider: Provider, text: str) -> ProviderObjection:
    if not provider.on_notice(utcnow()):
        raise Conflict("该机构不在公示期内", code="not_on_notice")
    if db.session.scalar(sa.select(ProviderObjection.id).where(ProviderObjection.provider_id == provider.id,
                                                               ProviderObjection.user_id == user.id)) is not None:
        raise Conflict("您已对该机构提出过异议，我们会认真核实", code="already_objected")
    objection = ProviderObjection(provider_id=provider.id, user_id=user.id, text=text)
    db.session.add(objection)
    db.session.flush()
    return objection


def objections(*, provider: Provider) -> list[ProviderObjection]:
    return db.session.scalars(sa.select(ProviderObjection).where(ProviderObjection.provider_id == provider.id)
                              .order_by(ProviderObjection.id)).all()


def objection_count(provider: Provider) -> int:
    return with_objections(page=[provider])[0].objection_count


def with_objections(*, page: list[Provider]) -> list[Provider]:
    """Set ``provider.objection_count`` on each: one query for a whole page."""
    ids = [provider.id for provider in page]
    counts = dict(db.session.execute(
        sa.select(ProviderObjection.provider_id, sa.func.count()).where(ProviderObjection.provider_id.in_(ids))
        .group_by(ProviderObjection.provider_id)).all()) if ids else {}
    for provider in page:
        provider.objection_count = counts.get(provider.id, 0)
    return page


def ensure_member(user, provider_id: int) -> None:
    member = membership(user)
    if member is None or member.provider_id != provider_id:
        raise Forbidden("只能操作本机构的记录", code="forbidden")
