"""兑付结算: a provider submits a monthly statement (redemptions − reversals); an admin approves
or rejects it with a reason and marks it paid. Redemptions in a statement are frozen."""
from __future__ import annotations

import sqlalchemy as sa

from backend.core import audit, tables
from backend.core.db import total, utcnow
from backend.core.errors import Conflict, DomainError, NotFound
from backend.core.validators import mask_name
from backend.extensions import db
from backend.notifications import service as notifications
from backend.vouchers import providers
from backend.core.localtime import LOCAL, month_bounds
from backend.vouchers.common import yuan
from backend.vouchers.enums import CATEGORY_LABELS, StatementState
from backend.vouchers.models import Provider, ProviderMember, Redemption, SettlementStatement

TRANSITIONS = {
    "approve": ({StatementState.submitted}, StatementState.approved),
    "reject": ({StatementState.submitted, StatementState.approved}, StatementState.rejected),
    "pay": ({StatementState.approved}, StatementState.paid),
}


def get_or_raise(*, id: int) -> SettlementStatement:
    statement = db.session.get(SettlementStatement, id)
    if statement is None:
        raise NotFound("结算单不存在", code="statement_not_found")
    return statement


def submit(*, staff, month: str) -> SettlementStatement:
    provider = providers.provider_of(staff)
    # one submission at a time per provider
    db.session.execute(sa.select(Provider.id).where(Provider.id == provider.id).with_for_update())
    start, end = month_bounds(month)
    if end > utcnow().astimezone(LOCAL):
        raise DomainError("只能为已结束的月份申请结算", code="month_not_closed", status=422)
    statement = db.session.scalar(sa.select(SettlementStatement).where(
        SettlementStatement.provider_id == provider.id, SettlementStatement.month == month))
    if statement is not None and statement.state != StatementState.rejected:
        raise Conflict("该月份已提交结算", code="statement_exists")
    if statement is None:
        statement = SettlementStatement(provider_id=provider.id, month=month)
        db.session.add(statement)
        db.session.flush()
    taken = db.session.execute(sa.update(Redemption).where(
        Redemption.provider_id == provider.id, Redemption.statement_id.is_(None),
        Redemption.created_at >= start, Redemption.created_at < end).values(statement_id=statement.id)).rowcount
    if taken == 0:
        raise DomainError("该月份没有可结算的核销记录", code="nothing_to_settle", status=422)
    _total(statement)
    statement.state = StatementState.submitted
    statement.submitted_by_id = staff.id
    statement.submitted_at = utcnow()
    statement.reason = ""
    db.session.flush()
    return statement


def _total(statement: SettlementStatement) -> None:
    row = db.session.execute(sa.select(
        sa.func.count(), total(Redemption.amount),
        total(sa.case((Redemption.reversed_at.is_not(None), Redemption.amount), else_=0)))
        .where(Redemption.statement_id == statement.id)).one()
    statement.redemption_count, statement.redeemed_total, statement.reversed_total = row
    statement.net_total = statement.redeemed_total - statement.reversed_total


def decide(*, actor, statement: SettlementStatement, action: str, reason: str) -> SettlementStatement:
    allowed, to = TRANSITIONS[action]
    if statement.state not in allowed:
        raise Conflict("结算单当前状态不能执行此操作", code="invalid_transition",
                       details={"from": statement.state.value, "action": action})
    if action == "reject" and not reason:
        raise DomainError("请填写退回原因", code="reason_required", status=422, details={"reason": ["必填"]})
    before = {"state": statement.state.value}
    statement.state = to
    statement.reason = reason
    if action in ("approve", "reject"):
        statement.reviewed_by_id, statement.reviewed_at = actor.id, utcnow()
    if action == "pay":
        statement.paid_at = utcnow()
    if action == "reject":  # released: the provider can correct (reverse) and resubmit
        db.session.execute(sa.update(Redemption).where(Redemption.statement_id == statement.id)
                           .values(statement_id=None))
    db.session.flush()
    audit.record(actor=actor, action=f"statement.{action}", target_type="settlement_statement",
                 target_id=statement.id, before=before,
                 after={"state": statement.state.value, "reason": reason, "net_total": statement.net_total})
    title = {"approve": "结算单已审核通过", "reject": "结算单被退回", "pay": "结算款已兑付"}[action]
    for member_id in db.session.scalars(sa.text("SELECT user_id FROM provider_member WHERE provider_id = :p"),
                                        {"p": statement.provider_id}):
        notifications.notify(user_id=member_id, kind="statement", title=title,
                             body=f"{statement.month}：{yuan(statement.net_total)}{('，' + reason) if reason else ''}",
                             link="provider-statements")
    return statement


def provider_query(*, provider: Provider) -> sa.Select:
    return sa.select(SettlementStatement).where(SettlementStatement.provider_id == provider.id) \
        .order_by(SettlementStatement.month.desc())


def admin_query(*, state=None, provider_id=None) -> sa.Select:
    query = sa.select(SettlementStatement).order_by(SettlementStatement.id.desc())
    if state:
        query = query.where(SettlementStatement.state == state)
    if provider_id:
        query = query.where(SettlementStatement.provider_id == provider_id)
    return query


HEADER = ["核销单号", "核销时间", "券号", "持券人", "服务类别", "账单金额(元)", "抵扣金额(元)", "是否撤销", "撤销金额(元)"]


def rows(statement: SettlementStatement) -> list[list]:
    from backend.accounts.models import User

    out = []
    query = sa.select(Redemption, User.name).join(User, User.id == Redemption.holder_id) \
        .where(Redemption.statement_id == statement.id).order_by(Redemption.id)
    for redemption, holder_name in db.session.execute(query):
        reversed_ = redemption.reversed_at is not None
        out.append([redemption.receipt_no, redemption.created_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S"),
                    redemption.voucher_id, mask_name(holder_name) or "", CATEGORY_LABELS.get(redemption.category, ""),
                    redemption.bill_amount / 100, redemption.amount / 100, "是" if reversed_ else "否",
                    redemption.amount / 100 if reversed_ else 0])
    return out


def export(*, statement: SettlementStatement, fmt: str) -> tuple[bytes, str, str]:
    title = f"{statement.provider.name} {statement.month} 创业券结算单"
    summary = [["结算单", statement.id], ["机构", statement.provider.name], ["统一社会信用代码", statement.provider.credit_code],
               ["月份", statement.month], ["笔数", statement.redemption_count],
               ["核销合计(元)", statement.redeemed_total / 100], ["撤销合计(元)", statement.reversed_total / 100],
               ["应兑付(元)", statement.net_total / 100]]
    return tables.export(name=f"statement-{statement.provider_id}-{statement.month}", header=HEADER,
                         rows=rows(statement), fmt=fmt, title=title, widths=[22, 20, 8, 10, 12, 14, 14, 10, 14],
                         sheets=[tables.Sheet("汇总", summary, [20, 36])])


def remind_unsettled(*, now=None) -> dict:
    """Month-end reminder (scheduled on the last 3 days of each month): the staff of every provider
    with redemptions in no statement yet are told how many and how much, once per provider and month."""
    now = now or utcnow()
    month = now.astimezone(LOCAL).strftime("%Y-%m")
    net = Redemption.amount - sa.case((Redemption.reversed_at.is_not(None), Redemption.amount), else_=0)
    rows = db.session.execute(
        sa.select(Redemption.provider_id, sa.func.count(), total(net))
        .where(Redemption.statement_id.is_(None), Redemption.created_at < now)
        .group_by(Redemption.provider_id).order_by(Redemption.provider_id)).all()
    counts = {"providers": 0, "notified": 0}
    for provider_id, count, amount in rows:
        counts["providers"] += 1
        members = db.session.scalars(sa.select(ProviderMember.user_id)
                                     .where(ProviderMember.provider_id == provider_id)).all()
        for user_id in members:
            counts["notified"] += notifications.notify(
                user_id=user_id, kind="settlement_reminder", title="月末结算提醒",
                body=f"贵机构有 {count} 笔创业券核销（合计 {yuan(amount)}）尚未申请兑付结算。"
                     f"月份结束后，请您在“兑付结算”中为已结束的月份提交结算单。",
                link="provider-statements", dedupe=f"settlement_reminder:{provider_id}:{month}")
    return counts
