"""Signing up: a seat while there are seats (never more than the capacity, under any burst), the
waitlist in arrival order after that, approval first where the organiser wants it, and a freed
seat handed to the first in the queue, who is told.

Seats move only by one guarded UPDATE of the event row (``_take_seat`` / ``_free_seat``; a sign-up on
PostgreSQL takes its seat and inserts its registration in one statement, ``_seat_and_insert``), the
last write of the request, so concurrent requests serialise on that row for the shortest time."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from backend.accounts.enums import SUBJECT_LABELS, SubjectType
from backend.core import audit
from backend.core.db import utcnow
from backend.core.errors import DomainError, NotFound
from backend.core.regions import DISTRICTS
from backend.devices import service as devices
from backend.events import access
from backend.events.enums import ACTIVE_STATES, OPEN_STATES, REGISTRATION_LABELS, EventState, RegistrationState
from backend.events.models import LIVE, Event, Registration
from backend.extensions import db
from backend.notifications import service as notifications

R = RegistrationState


# --- seats ----------------------------------------------------------------------------------------

@cache
def _seat_statements() -> tuple[sa.Update, sa.Update]:
    """The guarded seat UPDATEs, built once (Core on the table: no ORM session sync to pay for; the
    event's updated_at still moves, as a column ``onupdate``)."""
    table = Event.__table__
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    take = (table.update().where(table.c.id == event_id, table.c.seats_taken < table.c.capacity)
            .values(seats_taken=table.c.seats_taken + 1).returning(table.c.seats_taken))
    free = (table.update().where(table.c.id == event_id, table.c.seats_taken > 0)
            .values(seats_taken=table.c.seats_taken - 1).returning(table.c.seats_taken))
    return take, free


def _take_seat(event_id: int, event: Event | None = None) -> bool:
    """Take one seat if one is left; the loaded ``event`` (if given) learns the new count."""
    taken = db.session.execute(_seat_statements()[0], {"event_id": event_id}).scalar()
    _learn_seats(event, event_id, taken, guarded="full")
    return taken is not None


def _free_seat(event_id: int, event: Event | None = None) -> None:
    taken = db.session.execute(_seat_statements()[1], {"event_id": event_id}).scalar()
    _learn_seats(event, event_id, taken, guarded="empty")


def _learn_seats(event: Event | None, event_id: int, taken: int | None, *, guarded: str) -> None:
    """Keep the event object in the session in step with the guarded UPDATE it did not see: the new
    count, or, when the guard held the UPDATE back, the bound it met (full: capacity; empty: 0)."""
    event = event if event is not None else db.session.identity_map.get(db.session.identity_key(Event, event_id))
    if event is None or "seats_taken" not in event.__dict__:
        return
    if taken is None:
        taken = event.capacity if guarded == "full" else 0
    set_committed_value(event, "seats_taken", taken)


def _move(registration_id: int, *, from_: RegistrationState, to: RegistrationState, **values) -> bool:
    """Change a registration's state only if it is still in ``from_`` (two actors never both win)."""
    result = db.session.execute(sa.update(Registration).where(Registration.id == registration_id,
                                                              Registration.state == from_)
                                .values(state=to, **values).execution_options(synchronize_session=False))
    return result.rowcount == 1


# --- who may sign up ------------------------------------------------------------------------------

def signup_problem(*, user, event: Event) -> tuple[str, str] | None:
    now = utcnow()
    if event.state == EventState.cancelled:
        return "event_cancelled", "活动已取消"
    if event.state != EventState.published:
        return "event_not_found", "活动不存在或尚未发布"
    if now < event.signup_opens_at:
        return "signup_not_open", "报名尚未开始"
    if now > event.signup_closes_at or now > event.ends_at:
        return "signup_closed", "报名已截止"
    audience = event.audience or {}
    types, districts = audience.get("subject_types") or [], audience.get("districts") or []
    profile = user.profile if types or districts else None
    if types and (profile is None or profile.subject_type is None or profile.subject_type.value not in types):
        names = "、".join(SUBJECT_LABELS[SubjectType(t)] for t in types)
        return "not_eligible", f"本活动面向{names}，请先在“我的”中完善主体类型"
    if districts and (profile is None or profile.district not in districts):
        names = "、".join(DISTRICTS.get(d, d) for d in districts)
        return "not_eligible", f"本活动面向{names}的创业者"
    if event.full:
        return "event_full", "名额已满"
    return None


@cache
def _insert_statement(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT (one live registration per person) DO NOTHING RETURNING the row, built once."""
    table = Registration.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(table).values(event_id=sa.bindparam("event_id"), user_id=sa.bindparam("user_id"),
                                 state=sa.bindparam("state", type_=table.c.state.type),
                                 created_at=sa.bindparam("created_at", type_=table.c.created_at.type))
            .on_conflict_do_nothing(index_elements=["event_id", "user_id"], index_where=sa.text(LIVE))
            .returning(*table.c))


def _insert(event: Event, user_id: int, state: RegistrationState) -> Registration | None:
    """Insert the person's registration; None when they already have a live one (one per person).
    The row comes back from the INSERT itself and joins the session without another SELECT, its
    event the one already loaded."""
    row = db.session.execute(_insert_statement(db.session.get_bind().dialect.name),
                             {"event_id": event.id, "user_id": user_id, "state": state,
                              "created_at": utcnow()}).mappings().first()
    if row is None:
        return None
    registration = Registration(**row)
    make_transient_to_detached(registration)
    db.session.add(registration)
    set_committed_value(registration, "event", event)
    return registration


def live_registration(*, user_id: int, event_id: int) -> Registration | None:
    return db.session.scalar(sa.select(Registration).where(
        Registration.event_id == event_id, Registration.user_id == user_id,
        Registration.state.in_(ACTIVE_STATES)))


def live_registrations_of(*, user_id: int) -> dict[int, Registration]:
    """event id -> this person's live registration there."""
    return {r.event_id: r for r in db.session.scalars(sa.select(Registration).where(
        Registration.user_id == user_id,
        Registration.state.in_(ACTIVE_STATES)))}


@dataclass(frozen=True)
class Standing:
    """What an event's page tells one person: why they may not sign up (if not), their registration."""

    reason_code: str | None
    reason: str | None
    registration: Registration | None


def with_standing(*, viewer, page: list[Event]) -> list[Event]:
    """Set ``event.standing`` (a Standing) on each event for ``viewer`` (None: not signed in): one
    query for the viewer's live registrations on the whole page, the same rules as sign_up."""
    if viewer is None or not viewer.has_role("entrepreneur"):
        for event in page:
            event.standing = Standing("login_required", "请以创业者身份登录后报名", None)
        return page
    ids = [event.id for event in page]
    live = {r.event_id: r for r in db.session.scalars(sa.select(Registration).where(
        Registration.user_id == viewer.id, Registration.event_id.in_(ids),
        Registration.state.in_(ACTIVE_STATES)))} if ids else {}
    for event in page:
        mine = live.get(event.id)
        if mine is not None:
            event.standing = Standing("already_registered", REGISTRATION_LABELS[mine.state], mine)
        else:
            code, reason = signup_problem(user=viewer, event=event) or (None, None)
            event.standing = Standing(code, reason, None)
    return page


@cache
def _event_and_mine() -> sa.Select:
    """The event (with its place) and the person's live registration there, in one statement."""
    mine = sa.orm.aliased(Registration, name="mine")
    return (sa.select(Event, mine).outerjoin(mine, sa.and_(
        mine.event_id == Event.id, mine.user_id == sa.bindparam("user_id"), mine.state.in_(ACTIVE_STATES)))
        .where(Event.id == sa.bindparam("event_id")).options(sa.orm.lazyload(mine.event)))


def sign_up(*, user, event_id: int) -> tuple[Registration, bool]:
    """Sign up; returns (registration, created). Signing up again returns the live registration."""
    found = db.session.execute(_event_and_mine(), {"event_id": event_id, "user_id": user.id}).first()
    event, existing = found if found is not None else (None, None)
    if event is None or event.state == EventState.draft:
        raise NotFound("活动不存在或尚未发布", code="event_not_found")
    if existing is not None:
        if existing.state == R.rejected:
            raise DomainError("组织者未通过您的报名", code="registration_rejected", status=409)
        return existing, False
    problem = signup_problem(user=user, event=event)
    if problem:
        code, message = problem
        raise DomainError(message, code=code,
                          status=409 if code in {"signup_closed", "event_cancelled", "event_full"} else 422)
    if not event.approval_required and db.session.get_bind().dialect.name == "postgresql":
        return _seat_and_insert(event, user.id)
    if event.approval_required:
        state = R.pending
    elif _take_seat(event.id, event):  # the event's row stays locked for one INSERT and the commit
        state = R.registered
    elif event.waitlist:
        state = R.waitlisted
    else:
        raise DomainError("名额已满", code="event_full", status=409)
    registration = _insert(event, user.id, state)
    if registration is None:  # a second request of the same person won the race
        if state == R.registered:
            _free_seat(event.id, event)
        return live_registration(user_id=user.id, event_id=event.id), False
    return registration, True


@cache
def _seat_and_insert_statement() -> sa.TextClause:
    """PostgreSQL: the guarded seat UPDATE and the registration INSERT as one statement (one round trip
    while the event's row is locked), answering whether a seat was taken and the row, if one was inserted
    (none when the person's other request won the race, or the event is full with no waitlist)."""
    table = Registration.__table__
    names = [c.name for c in table.c]
    return sa.text(
        "WITH seat AS (UPDATE event SET seats_taken = seats_taken + 1, updated_at = :now "
        "WHERE id = :event_id AND seats_taken < capacity RETURNING seats_taken), "
        "ins AS (INSERT INTO registration (event_id, user_id, state, created_at, reason) "
        "SELECT :event_id, :user_id, CASE WHEN EXISTS (SELECT FROM seat) THEN 'registered' ELSE 'waitlisted' END, "
        ":now, '' WHERE EXISTS (SELECT FROM seat) OR :waitlist "
        f"ON CONFLICT (event_id, user_id) WHERE {LIVE} DO NOTHING RETURNING *) "
        f"SELECT (SELECT seats_taken FROM seat) AS taken, {', '.join('ins.' + n for n in names)} "
        "FROM (SELECT 1) AS one LEFT JOIN ins ON true"
    ).bindparams(sa.bindparam("now", type_=table.c.created_at.type), sa.bindparam("event_id", type_=sa.Integer),
                 sa.bindparam("user_id", type_=sa.Integer), sa.bindparam("waitlist", type_=sa.Boolean)) \
        .columns(sa.column("taken", sa.Integer), *(sa.column(c.name, c.type) for c in table.c))


def _seat_and_insert(event: Event, user_id: int) -> tuple[Registration, bool]:
    """A seat while there are seats, else the waitlist (if the event keeps one), in one statement."""
    row = db.session.execute(_seat_and_insert_statement(), {"now": utcnow(), "event_id": event.id,
                                                            "user_id": user_id, "waitlist": event.waitlist}).one()
    values = row._mapping
    _learn_seats(event, event.id, values["taken"], guarded="full")
    if values["id"] is None:
        if values["taken"] is None and not event.waitlist:
            raise DomainError("名额已满", code="event_full", status=409)
        if values["taken"] is not None:  # a second request of the same person won the race
            _free_seat(event.id, event)
        return live_registration(user_id=user_id, event_id=event.id), False
    registration = Registration(**{c.name: values[c.name] for c in Registration.__table__.c})
    make_transient_to_detached(registration)
    db.session.add(registration)
    set_committed_value(registration, "event", event)
    return registration, True


def waitlist_position(registration: Registration) -> int | None:
    return with_positions(page=[registration])[0].waitlist_position


def with_positions(*, page: list[Registration]) -> list[Registration]:
    """Set ``registration.waitlist_position`` (1 = next in line; None when not waiting) on each: one
    query for a whole page, however many are waiting."""
    waiting = [r.id for r in page if r.state == R.waitlisted]
    positions = {}
    if waiting:
        ahead = sa.orm.aliased(Registration)
        positions = dict(db.session.execute(
            sa.select(Registration.id, sa.func.count(ahead.id)).join(ahead, sa.and_(
                ahead.event_id == Registration.event_id, ahead.state == R.waitlisted, ahead.id <= Registration.id))
            .where(Registration.id.in_(waiting)).group_by(Registration.id)).all())
    for registration in page:
        registration.waitlist_position = positions.get(registration.id)
    return page


# --- cancelling and the waitlist ------------------------------------------------------------------

def cancel_mine(*, user, id: int) -> Registration:
    registration = db.session.get(Registration, id)
    if registration is None or registration.user_id != user.id:
        raise NotFound("报名记录不存在", code="registration_not_found")
    if registration.event.ends_at <= utcnow():
        raise DomainError("活动已结束，不能取消报名", code="event_ended", status=409)
    if registration.checked_in_at is not None:
        raise DomainError("已签到，不能取消报名", code="already_checked_in", status=409)
    state = registration.state
    for _attempt in range(5):
        if state not in OPEN_STATES:
            raise DomainError("该报名已取消或未通过", code="registration_not_live", status=409)
        if _move(registration.id, from_=state, to=R.cancelled, cancelled_at=utcnow()):
            break
        # someone moved it a moment ago (a waiting person promoted by another cancellation, a
        # pending one approved): cancel it from the state it is in now
        state = db.session.scalar(sa.select(Registration.state).where(Registration.id == registration.id))
    else:
        raise DomainError("报名状态正在变化，请稍后再试", code="registration_busy", status=409)
    if state == R.registered:
        devices.revoke_ticket(registration_id=registration.id)
        _free_seat(registration.event_id)
        fill_from_waitlist(registration.event)
    db.session.refresh(registration)
    return registration


def fill_from_waitlist(event: Event) -> list[int]:
    """Hand free seats to the waitlist, first come first served; each promoted person is told.
    Returns the promoted registration ids."""
    promoted = []
    if event.state != EventState.published:
        return promoted  # a cancelled event hands no seat to anyone
    while True:
        first = _first_waiting(event.id)
        if first is None:
            break
        if not _take_seat(event.id):
            break
        if not _move(first, from_=R.waitlisted, to=R.registered, decided_at=utcnow()):
            _free_seat(event.id)  # they cancelled a moment ago; try the next one
            continue
        promoted.append(first)
        registration = db.session.get(Registration, first, populate_existing=True)
        notifications.notify(user_id=registration.user_id, kind="event_promoted", title="候补成功",
                             body=f"“{event.title}”有人退出，您已从候补转为报名成功，请按时参加",
                             link=f"/pages/my-ticket/index?id={registration.id}", dedupe=f"event-promoted:{first}")
    if not event.waitlist:
        # the organiser turned the waitlist off: whoever was waiting will not get a seat
        for waiting in db.session.scalars(sa.select(Registration.id).where(
                Registration.event_id == event.id, Registration.state == R.waitlisted)).all():
            if _move(waiting, from_=R.waitlisted, to=R.cancelled, cancelled_at=utcnow(), reason="组织者关闭了候补"):
                registration = db.session.get(Registration, waiting)
                notifications.notify(user_id=registration.user_id, kind="event_waitlist_closed", title="候补已关闭",
                                     body=f"“{event.title}”已关闭候补，您的候补报名已取消",
                                     link=f"/pages/event-detail/index?id={event.id}", dedupe=f"event-wl-closed:{waiting}")
    return promoted


def _first_waiting(event_id: int) -> int | None:
    query = (sa.select(Registration.id).where(Registration.event_id == event_id, Registration.state == R.waitlisted)
             .order_by(Registration.id).limit(1))
    return db.session.scalar(query)


# --- the organiser's decisions --------------------------------------------------------------------

def _managed_registration(*, actor, event_id: int, id: int) -> Registration:
    event = access.managed(user=actor, id=event_id)
    registration = db.session.get(Registration, id)
    if registration is None or registration.event_id != event.id:
        raise NotFound("报名记录不存在", code="registration_not_found")
    return registration


def approve(*, actor, event_id: int, id: int) -> Registration:
    registration = _managed_registration(actor=actor, event_id=event_id, id=id)
    event = registration.event
    if event.state != EventState.published:
        raise DomainError("活动未在报名中", code="event_not_published", status=409)
    if registration.state != R.pending:
        raise DomainError("只能审核待审核的报名", code="registration_not_pending", status=409)
    if _take_seat(event.id):
        to, title, body = R.registered, "报名已通过", f"您报名的“{event.title}”已通过审核，请按时参加"
    elif event.waitlist:
        to, title, body = R.waitlisted, "报名已通过，候补中", f"您报名的“{event.title}”已通过审核，名额已满，已为您候补"
    else:
        raise DomainError("名额已满，无法再通过报名", code="event_full", status=409)
    if not _move(registration.id, from_=R.pending, to=to, decided_at=utcnow(), decided_by_id=actor.id):
        raise DomainError("该报名刚刚被处理过，请刷新", code="registration_not_pending", status=409)
    notifications.notify(user_id=registration.user_id, kind="event_approved", title=title, body=body,
                         link=f"/pages/my-ticket/index?id={registration.id}", dedupe=f"event-approved:{registration.id}")
    audit.record(actor=actor, action="registration.approve", target_type="registration", target_id=registration.id,
                 after={"state": to.value})
    db.session.refresh(registration)
    return registration


def reject(*, actor, event_id: int, id: int, reason: str) -> Registration:
    registration = _managed_registration(actor=actor, event_id=event_id, id=id)
    if not _move(registration.id, from_=R.pending, to=R.rejected, decided_at=utcnow(), decided_by_id=actor.id,
                 reason=reason):
        raise DomainError("只能审核待审核的报名", code="registration_not_pending", status=409)
    notifications.notify(user_id=registration.user_id, kind="event_rejected", title="报名未通过",
                         body=f"您报名的“{registration.event.title}”未通过审核：{reason}",
                         link=f"/pages/event-detail/index?id={registration.event_id}",
                         dedupe=f"event-rejected:{registration.id}")
    audit.record(actor=actor, action="registration.reject", target_type="registration", target_id=registration.id,
                 after={"reason": reason})
    db.session.refresh(registration)
    return registration


# --- lists ----------------------------------------------------------------------------------------

def mine_query(*, user, when: str = "upcoming") -> sa.Select:
    query = sa.select(Registration).join(Event, Event.id == Registration.event_id).where(
        Registration.user_id == user.id)
    if when == "past":
        return query.where(Event.ends_at < utcnow()).order_by(Event.starts_at.desc(), Registration.id.desc())
    return query.where(Event.ends_at >= utcnow()).order_by(Event.starts_at, Registration.id)


def mine(*, user, id: int) -> Registration:
    registration = db.session.get(Registration, id)
    if registration is None or registration.user_id != user.id:
        raise NotFound("报名记录不存在", code="registration_not_found")
    return registration


def attendees_query(*, actor, event_id: int, state=None, checked_in=None) -> sa.Select:
    event = access.managed(user=actor, id=event_id)
    query = sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    if state:
        query = query.where(Registration.state == state)
    if checked_in is not None:
        query = query.where(Registration.checked_in_at.is_not(None) if checked_in
                            else Registration.checked_in_at.is_(None))
    return query


def counts(*, event: Event) -> dict:
    rows = db.session.execute(sa.select(Registration.state, sa.func.count(), sa.func.count(Registration.checked_in_at))
                              .where(Registration.event_id == event.id).group_by(Registration.state)).all()
    by_state = {state.value: 0 for state in R}
    checked_in = 0
    for state, count, arrived in rows:
        by_state[state.value] = count
        checked_in += arrived
    return {**by_state, "checked_in": checked_in, "capacity": event.capacity, "seats_taken": event.seats_taken,
            "seats_left": event.seats_left}



def check_invariants() -> list[str]:
    """Every event's seats_taken equals its registered people and never passes its capacity."""
    registered = (sa.select(Registration.event_id, sa.func.count().label("n"))
                  .where(Registration.state == R.registered).group_by(Registration.event_id).subquery())
    rows = db.session.execute(sa.select(Event.id, Event.capacity, Event.seats_taken, sa.func.coalesce(registered.c.n, 0))
                              .outerjoin(registered, registered.c.event_id == Event.id)).all()
    problems = []
    for event_id, capacity, taken, counted in rows:
        if taken != counted:
            problems.append(f"event {event_id}: seats_taken {taken} but {counted} registered")
        if counted > capacity:
            problems.append(f"event {event_id}: {counted} registered over capacity {capacity}")
    return problems
