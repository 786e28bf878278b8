"""Getting a voucher: first-come claiming (exactly the cap under a flash crowd, each controller at
most their limit) and application with approval. Both issue through ``issue``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from backend.core import audit, uploads
from backend.core.db import utcnow
from backend.core.errors import Conflict, DomainError, NotFound
from backend.extensions import db
from backend.notifications import service as notifications
from backend.vouchers import batches, ledger
from backend.core.localtime import end_of_local_day, local_day
from backend.vouchers.common import guarded_increment, yuan
from backend.vouchers.enums import ApplicationState, BatchState, LedgerKind
from backend.vouchers.models import BatchDay, BatchHolding, Voucher, VoucherApplication, VoucherBatch


def controllers(user) -> list[str]:
    """Who counts together for the per-person limit: the same 统一社会信用代码 or the same ID number."""
    keys = [f"user:{user.id}"]
    profile = user.profile
    if profile is not None:
        if profile.credit_code:
            keys.append(f"cc:{profile.credit_code}")
        if profile.id_number_hash:
            keys.append(f"id:{profile.id_number_hash}")
    return sorted(keys)  # one global lock order: no deadlocks between claimants sharing a key


def held(*, user, batch: VoucherBatch) -> int:
    return held_of(user=user, batch_ids=[batch.id]).get(batch.id, 0)


def held_of(*, user, batch_ids: list[int]) -> dict[int, int]:
    """batch id -> how many vouchers of it this person (any of their controllers) holds; one query."""
    rows = db.session.execute(sa.select(BatchHolding.batch_id, sa.func.max(BatchHolding.count)).where(
        BatchHolding.batch_id.in_(batch_ids), BatchHolding.controller.in_(controllers(user)))
        .group_by(BatchHolding.batch_id))
    return {batch_id: count for batch_id, count in rows}


def limit_message(limit: int) -> str:
    """The one wording of the per-person limit, for the refusal and for the centre's explanation."""
    return f"每人（同一主体）限领 {limit} 张，已达上限"


def claim_problem(*, user, batch: VoucherBatch, holding: int | None = None) -> tuple[str, str] | None:
    """The first reason this person can't claim (or apply for) this batch now, or None. ``holding``:
    what they hold of it, when the caller already knows (a page of batches asks once for all)."""
    problem = batches.window_problem(batch=batch) or batches.eligibility_problem(user=user, batch=batch)
    if problem:
        return problem
    if holding is None:
        holding = held(user=user, batch=batch)
    if holding >= batch.per_person_limit:
        return "claim_limit_reached", limit_message(batch.per_person_limit)
    return None


@dataclass(frozen=True)
class Standing:
    """What the voucher centre tells one person about one batch: why not (if not), what they hold,
    where their latest application stands."""

    reason_code: str | None
    reason: str | None
    held: int
    application_state: str | None


def with_standing(*, viewer, page: list[VoucherBatch]) -> list[VoucherBatch]:
    """Set ``batch.standing`` (a Standing) on each batch for ``viewer`` (None: not signed in): two
    queries for a whole page of batches, the same rules as claiming."""
    if viewer is None:
        for batch in page:
            code, reason = batches.window_problem(batch=batch) or ("login_required", "登录后领取")
            batch.standing = Standing(code, reason, 0, None)
        return page
    ids = [batch.id for batch in page]
    holding = held_of(user=viewer, batch_ids=ids) if ids else {}
    states = latest_application_states(user=viewer, batch_ids=ids) if ids else {}
    for batch in page:
        state = states.get(batch.id)
        problem = claim_problem(user=viewer, batch=batch, holding=holding.get(batch.id, 0))
        if problem is None and state == ApplicationState.pending:
            problem = ("already_applied", "已提交申请，等待审核")
        code, reason = problem or (None, None)
        batch.standing = Standing(code, reason, holding.get(batch.id, 0), state)
    return page


def _raise(problem: tuple[str, str]) -> None:
    code, message = problem
    status = 409 if code in {"sold_out", "claim_limit_reached", "daily_cap_reached", "already_applied"} else 422
    raise DomainError(message, code=code, status=status)


def issue(*, batch: VoucherBatch, holder, claim_key: str | None = None, application_id: int | None = None) -> Voucher:
    """Issue one voucher: the holder's limit, the day's cap, then the batch's caps (its hot row last,
    so its lock is held for the shortest time). A refusal undoes the counters it already moved."""
    with db.session.begin_nested():
        return _issue(batch=batch, holder=holder, claim_key=claim_key, application_id=application_id)


def _issue(*, batch, holder, claim_key, application_id) -> Voucher:
    holdings = [{"batch_id": batch.id, "controller": key} for key in controllers(holder)]
    if not guarded_increment(BatchHolding, rows=holdings, limit=batch.per_person_limit):
        _raise(("claim_limit_reached", limit_message(batch.per_person_limit)))
    now = utcnow()
    if batch.daily_cap is not None and not guarded_increment(
            BatchDay, rows=[{"batch_id": batch.id, "day": local_day(now)}], limit=batch.daily_cap):
        _raise(("daily_cap_reached", "今日名额已领完，请明天再来"))
    taken = db.session.execute(_take_one(), {"batch_id": batch.id}).rowcount
    db.session.expire(batch, ["issued_count", "issued_amount", "state"])  # moved in SQL, not on the object
    if taken != 1:
        _raise(batches.window_problem(batch=batch) or ("sold_out", "本批次已发放完毕"))
    if batch.valid_until is not None:
        valid_until = batch.valid_until
    else:
        # in UTC, as it comes back from the database: the first answer and a replay read the same
        valid_until = end_of_local_day(local_day(now) + timedelta(days=batch.valid_days - 1)).astimezone(timezone.utc)
    values = dict(batch_id=batch.id, holder_id=holder.id, face_value=batch.face_value, balance=0,
                  claim_key=claim_key, application_id=application_id, claimed_at=now, valid_from=now,
                  valid_until=valid_until, expired_at=None, reminded_at=None)
    # one INSERT … RETURNING id, and the object attached as persistent from what was written (the unit
    # of work's flush cost more than the insert); its batch is the one in hand
    voucher_id = db.session.execute(_insert_voucher(), values).scalar_one()
    voucher = Voucher(id=voucher_id, **values)
    make_transient_to_detached(voucher)
    db.session.add(voucher)
    set_committed_value(voucher, "batch", batch)
    ledger.post(voucher=voucher, kind=LedgerKind.issue, amount=batch.face_value)
    return voucher


@cache
def _take_one() -> sa.Update:
    """The batch's guarded counter (:batch_id): one more, within its count and its budget, while active.
    Built once, as the statements below: assembling them cost more than running them."""
    t = VoucherBatch.__table__.c
    return sa.update(VoucherBatch.__table__) \
        .where(t.id == sa.bindparam("batch_id"), t.state == BatchState.active.value,
               sa.or_(t.total_count.is_(None), t.issued_count < t.total_count),
               sa.or_(t.budget.is_(None), t.issued_amount + t.face_value <= t.budget)) \
        .values(issued_count=t.issued_count + 1, issued_amount=t.issued_amount + t.face_value)


_VOUCHER_COLUMNS = ("batch_id", "holder_id", "face_value", "balance", "claim_key", "application_id", "claimed_at",
                    "valid_from", "valid_until", "expired_at", "reminded_at")


@cache
def _insert_voucher() -> sa.Insert:
    table = Voucher.__table__
    return sa.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in _VOUCHER_COLUMNS}) \
        .returning(table.c.id)


def claim(*, user, batch_id: int, key: str | None = None) -> tuple[Voucher, bool]:
    """Claim a voucher of a first-come batch; the same key again returns the same voucher (created=False),
    also when the retries arrive at the same moment: the first to write wins and the others, refused by
    a counter it moved or by the unique key, answer with what it wrote."""
    batch, earlier = _batch_and_earlier(user=user, batch_id=batch_id, key=key)
    if earlier is not None:
        return earlier, False
    try:
        if batches.apply_mode(batch):
            raise DomainError("本批次需提交申请，审核通过后发放", code="apply_required", status=422)
        # what they hold is not read first: issue's guarded counter refuses past the limit with the same answer
        problem = claim_problem(user=user, batch=batch, holding=0)
        if problem:
            _raise(problem)
        return issue(batch=batch, holder=user, claim_key=key), True
    except (DomainError, IntegrityError):
        # a retry running beside the first sees its counters (the limit reached) or its key; issue's
        # savepoint is gone, and with it every counter this request moved
        earlier = _claimed_with(user=user, key=key, batch_id=batch_id) if key is not None else None
        if earlier is None:
            raise
        return earlier, False


@cache
def _batch_query() -> sa.Select:
    """The batch, the id and batch of the voucher this person already claimed with this key (if any),
    and their profile (the eligibility rules and the per-person keys read it): one round trip; built once."""
    from backend.accounts.models import EntrepreneurProfile

    v = Voucher.__table__.c
    earlier = sa.select(v.id, v.batch_id).where(v.holder_id == sa.bindparam("holder_id"),
                                                 v.claim_key == sa.bindparam("key")).subquery()
    return sa.select(VoucherBatch, earlier.c.id, earlier.c.batch_id, EntrepreneurProfile) \
        .select_from(VoucherBatch).outerjoin(earlier, sa.true()) \
        .outerjoin(EntrepreneurProfile, EntrepreneurProfile.user_id == sa.bindparam("holder_id")) \
        .where(VoucherBatch.id == sa.bindparam("batch_id"))


def _batch_and_earlier(*, user, batch_id: int, key: str | None) -> tuple[VoucherBatch, Voucher | None]:
    """As batches.get_public (no such batch, or a draft: batch_not_found), and the voucher an earlier
    request with this key claimed (idempotency_key_reused when it was of another batch)."""
    row = db.session.execute(_batch_query(), {"batch_id": batch_id, "holder_id": user.id, "key": key}).first()
    if row is None or row[0].state == BatchState.draft:
        raise NotFound("创业券批次不存在", code="batch_not_found")
    batch, earlier_id, earlier_batch, profile = row
    if "profile" in sa.inspect(user).unloaded:
        set_committed_value(user, "profile", profile)
    if earlier_id is None:
        return batch, None
    if earlier_batch != batch_id:
        raise Conflict("该请求编号已用于领取另一批次的创业券", code="idempotency_key_reused")
    return batch, db.session.get(Voucher, earlier_id)


def _claimed_with(*, user, key: str, batch_id: int) -> Voucher | None:
    earlier = db.session.scalar(sa.select(Voucher).where(Voucher.holder_id == user.id, Voucher.claim_key == key))
    if earlier is not None and earlier.batch_id != batch_id:
        raise Conflict("该请求编号已用于领取另一批次的创业券", code="idempotency_key_reused")
    return earlier


# --- applications ------------------------------------------------------------------------------

def apply(*, user, batch_id: int, statement: str, upload_ids: list[int]) -> VoucherApplication:
    batch = batches.get_public(id=batch_id)
    if not batches.apply_mode(batch):
        raise DomainError("本批次直接领取，无需申请", code="claim_directly", status=422)
    problem = claim_problem(user=user, batch=batch)
    if problem:
        _raise(problem)
    pending = db.session.scalar(sa.select(VoucherApplication.id).where(
        VoucherApplication.batch_id == batch.id, VoucherApplication.applicant_id == user.id,
        VoucherApplication.state == ApplicationState.pending))
    if pending is not None:
        _raise(("already_applied", "已提交过申请，请等待审核结果"))
    files = uploads.owned(user=user, ids=upload_ids)
    application = VoucherApplication(batch_id=batch.id, applicant_id=user.id, statement=statement,
                                     upload_ids=[f.id for f in files])
    db.session.add(application)
    db.session.flush()
    return application


def my_applications(*, user) -> sa.Select:
    return sa.select(VoucherApplication).where(VoucherApplication.applicant_id == user.id) \
        .order_by(VoucherApplication.id.desc())


def withdraw(*, user, id: int) -> VoucherApplication:
    application = db.session.get(VoucherApplication, id)
    if application is None or application.applicant_id != user.id:
        raise NotFound("申请不存在", code="application_not_found")
    if application.state != ApplicationState.pending:
        raise Conflict("申请已有审核结果，不能撤回", code="application_decided")
    application.state = ApplicationState.withdrawn
    db.session.flush()
    return application


def admin_applications(*, state=None, batch_id=None) -> sa.Select:
    from backend.accounts.models import User

    # each applicant with their profile, for the whole page in two extra queries
    query = sa.select(VoucherApplication).order_by(VoucherApplication.id).options(
        selectinload(VoucherApplication.applicant).selectinload(User.profile))
    if state:
        query = query.where(VoucherApplication.state == state)
    if batch_id:
        query = query.where(VoucherApplication.batch_id == batch_id)
    return query


def decide(*, actor, id: int, approve: bool, reason: str) -> VoucherApplication:
    application = db.session.scalar(sa.select(VoucherApplication).where(VoucherApplication.id == id)
                                    .with_for_update(of=VoucherApplication))
    if application is None:
        raise NotFound("申请不存在", code="application_not_found")
    if application.state != ApplicationState.pending:
        raise Conflict("该申请已处理", code="application_decided")
    from backend.accounts.models import User

    applicant = db.session.get(User, application.applicant_id)
    batch = application.batch
    if approve:
        problem = batches.window_problem(batch=batch)
        if problem and problem[0] not in {"claim_ended"}:  # approving after the window closes is fine
            _raise(problem)
        voucher = issue(batch=batch, holder=applicant, application_id=application.id)
        application.state = ApplicationState.approved
        notifications.notify(user_id=applicant.id, kind="voucher_application", title="创业券申请已通过",
                             body=f"{batch.name}：{yuan(voucher.face_value)} 已放入您的券包",
                             link=f"voucher-detail?id={voucher.id}")
    else:
        if not reason:
            raise DomainError("请填写不通过的原因", code="reason_required", status=422,
                              details={"reason": ["必填"]})
        application.state = ApplicationState.rejected
        notifications.notify(user_id=applicant.id, kind="voucher_application", title="创业券申请未通过",
                             body=f"{batch.name}：{reason}", link="voucher-applications")
    application.decision_reason = reason
    application.reviewed_by_id = actor.id
    application.reviewed_at = utcnow()
    db.session.flush()
    audit.record(actor=actor, action="voucher_application.decide", target_type="voucher_application",
                 target_id=application.id, before={"state": "pending"},
                 after={"state": application.state.value, "reason": reason})
    return application


# --- the wallet ----------------------------------------------------------------------------------

def wallet_query(*, user, usable_only: bool = False) -> sa.Select:
    query = sa.select(Voucher).where(Voucher.holder_id == user.id)
    if usable_only:
        query = query.where(Voucher.balance > 0, Voucher.valid_until > utcnow(), Voucher.expired_at.is_(None))
    return query.order_by((Voucher.balance > 0).desc(), Voucher.valid_until, Voucher.id)


def my_voucher(*, user, id: int) -> Voucher:
    voucher = db.session.get(Voucher, id)
    if voucher is None or voucher.holder_id != user.id:
        raise NotFound("创业券不存在", code="voucher_not_found")
    return voucher


def voucher_state(voucher: Voucher, now=None) -> str:
    now = now or utcnow()
    if voucher.expired_at is not None or voucher.valid_until <= now:
        return "expired"
    if voucher.balance == 0:
        return "used_up"
    return "active"


def with_state(*, page: list[Voucher], now=None) -> list[Voucher]:
    """Set ``voucher.state`` (active, used_up, expired) on each, for the wallet and the cashier to show."""
    now = now or utcnow()
    for voucher in page:
        voucher.state = voucher_state(voucher, now)
    return page


def latest_application_states(*, user, batch_ids: list[int]) -> dict[int, ApplicationState]:
    """batch id -> the state of this person's latest application to it; one query."""
    latest: dict[int, ApplicationState] = {}
    for batch_id, state in db.session.execute(sa.select(VoucherApplication.batch_id, VoucherApplication.state).where(
            VoucherApplication.batch_id.in_(batch_ids), VoucherApplication.applicant_id == user.id)
            .order_by(VoucherApplication.id.desc())):
        latest.setdefault(batch_id, state)
    return latest
