"""Claiming and applying: caps, per-controller limits, eligibility, windows, idempotency."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.extensions import db
from backend.notifications.models import Notification
from backend.vouchers import batches, claims, ledger
from backend.vouchers.enums import ApplicationState, BatchMode, BatchState, LedgerKind
from backend.vouchers.models import BatchHolding, LedgerEntry, Voucher
from tests.core.queries import get_counting
from tests.factories import make_batch, make_entrepreneur, make_user


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    return caught.value.code


def test_claim_issues_a_voucher_with_an_issue_entry(session):
    person = make_entrepreneur()
    batch = make_batch(face_value=150_000, valid_days=30)
    voucher, created = claims.claim(user=person, batch_id=batch.id)
    assert created and voucher.balance == voucher.face_value == 150_000
    entries = ledger.history(voucher=voucher)
    assert [(e.kind, e.amount, e.balance_after) for e in entries] == [(LedgerKind.issue, 150_000, 150_000)]
    assert (batch.issued_count, batch.issued_amount) == (1, 150_000)
    assert voucher.valid_until - utcnow() > timedelta(days=29)
    assert ledger.check_invariants() == []


def test_the_same_idempotency_key_returns_the_same_voucher(session):
    person = make_entrepreneur()
    batch = make_batch(per_person_limit=3)
    first, created = claims.claim(user=person, batch_id=batch.id, key="retry-key-123")
    again, created_again = claims.claim(user=person, batch_id=batch.id, key="retry-key-123")
    assert created and not created_again and again.id == first.id
    db.session.refresh(batch)
    assert batch.issued_count == 1


def test_a_claim_key_names_one_claim_of_one_batch(session):
    person = make_entrepreneur()
    claims.claim(user=person, batch_id=make_batch().id, key="key-for-one-batch")
    assert code_of(claims.claim, user=person, batch_id=make_batch().id, key="key-for-one-batch") \
        == "idempotency_key_reused"


def test_per_person_limit_counts_people_with_the_same_credit_code_or_id_number_together(session):
    batch = make_batch(per_person_limit=1)
    owner = make_entrepreneur()
    shared = owner.profile.credit_code
    partner = make_entrepreneur()
    partner.profile.credit_code = shared  # a second account of the same firm
    claims.claim(user=owner, batch_id=batch.id)
    assert code_of(claims.claim, user=partner, batch_id=batch.id) == "claim_limit_reached"
    same_person = make_entrepreneur(subject_type="individual", id_number=None)
    twin = make_entrepreneur(subject_type="individual")
    twin.profile.id_number, twin.profile.id_number_hash = same_person.profile.id_number, same_person.profile.id_number_hash
    claims.claim(user=same_person, batch_id=batch.id)
    assert code_of(claims.claim, user=twin, batch_id=batch.id) == "claim_limit_reached"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.batch_id == batch.id)) == 2


def test_one_controller_at_its_limit_refuses_the_issue_and_moves_none_of_the_others(session):
    """Every controller of a claimant moves in one guarded statement; one refusal undoes them all."""
    batch = make_batch(per_person_limit=1)
    owner = make_entrepreneur()
    partner = make_entrepreneur()
    partner.profile.credit_code = owner.profile.credit_code
    claims.issue(batch=batch, holder=owner)
    assert code_of(claims.issue, batch=batch, holder=partner) == "claim_limit_reached"  # past the pre-check
    counts = dict(db.session.execute(sa.select(BatchHolding.controller, BatchHolding.count)
                                     .where(BatchHolding.batch_id == batch.id)).all())
    assert counts == {f"user:{owner.id}": 1, f"cc:{owner.profile.credit_code}": 1,
                      f"id:{owner.profile.id_number_hash}": 1}
    db.session.refresh(batch)
    assert batch.issued_count == 1


def test_a_limit_of_two_allows_two(session):
    person = make_entrepreneur()
    batch = make_batch(per_person_limit=2)
    claims.claim(user=person, batch_id=batch.id)
    claims.claim(user=person, batch_id=batch.id)
    assert code_of(claims.claim, user=person, batch_id=batch.id) == "claim_limit_reached"


def test_count_and_budget_both_cap_the_batch_and_a_refusal_moves_no_counter(session):
    batch = make_batch(total_count=10, budget=250_000, face_value=100_000)  # the budget allows 2
    people = [make_entrepreneur() for _ in range(3)]
    claims.claim(user=people[0], batch_id=batch.id)
    claims.claim(user=people[1], batch_id=batch.id)
    assert code_of(claims.claim, user=people[2], batch_id=batch.id) == "sold_out"
    db.session.refresh(batch)
    assert (batch.issued_count, batch.issued_amount) == (2, 200_000)
    held = db.session.scalar(sa.select(sa.func.count()).select_from(BatchHolding).where(
        BatchHolding.batch_id == batch.id, BatchHolding.controller == f"user:{people[2].id}"))
    assert held == 0  # the refused claimant's limit was not used up


def test_daily_cap(session):
    batch = make_batch(daily_cap=1)
    claims.claim(user=make_entrepreneur(), batch_id=batch.id)
    assert code_of(claims.claim, user=make_entrepreneur(), batch_id=batch.id) == "daily_cap_reached"


@pytest.mark.parametrize("rules,profile,code", [
    ({"subject_types": ["tech_startup"]}, {}, "not_eligible"),
    ({"districts": ["370881"]}, {}, "not_eligible"),
    ({"max_firm_age_years": 2}, {"founded_on": date(2020, 1, 1)}, "not_eligible"),
    ({"max_firm_age_years": 2}, {"founded_on": date(2025, 6, 1)}, None),
    ({"subject_types": ["individual"]}, {"subject_type": "individual"}, None),
])
def test_eligibility_as_data(session, rules, profile, code):
    batch = make_batch(eligibility={"subject_types": [], "max_firm_age_years": None, "districts": [], **rules})
    person = make_entrepreneur(**profile)
    if code is None:
        assert claims.claim(user=person, batch_id=batch.id)[1]
    else:
        assert code_of(claims.claim, user=person, batch_id=batch.id) == code


def test_an_incomplete_profile_is_told_what_to_fill_in(session):
    batch = make_batch()
    bare = make_user("entrepreneur")
    assert code_of(claims.claim, user=bare, batch_id=batch.id) == "profile_incomplete"
    problem = claims.claim_problem(user=bare, batch=batch)
    assert "身份证号" in problem[1]


def test_claim_window_and_state(session):
    person = make_entrepreneur()
    now = utcnow()
    early = make_batch(claim_starts_at=now + timedelta(hours=1), claim_ends_at=now + timedelta(days=1))
    late = make_batch(claim_starts_at=now - timedelta(days=2), claim_ends_at=now - timedelta(days=1),
                      valid_days=10)
    paused = make_batch(state=BatchState.paused)
    draft = make_batch(state=BatchState.draft)
    assert code_of(claims.claim, user=person, batch_id=early.id) == "claim_not_started"
    assert code_of(claims.claim, user=person, batch_id=late.id) == "claim_ended"
    assert code_of(claims.claim, user=person, batch_id=paused.id) == "batch_paused"
    assert code_of(claims.claim, user=person, batch_id=draft.id) == "batch_not_found"


def test_batch_state_moves_only_along_its_transitions(session):
    admin = make_user("admin")
    batch = make_batch(state=BatchState.draft)
    assert code_of(batches.set_state, actor=admin, batch=batch, state=BatchState.paused) == "invalid_transition"
    for state in (BatchState.active, BatchState.paused, BatchState.active, BatchState.ended):
        batches.set_state(actor=admin, batch=batch, state=state)
    assert code_of(batches.set_state, actor=admin, batch=batch, state=BatchState.active) == "invalid_transition"


def test_validity_fixed_date_or_days_after_claiming(session):
    until = utcnow() + timedelta(days=5)
    fixed = make_batch(valid_days=None, valid_until=until)
    voucher, _ = claims.claim(user=make_entrepreneur(), batch_id=fixed.id)
    assert voucher.valid_until == until
    with pytest.raises(DomainError) as caught:
        make_batch(valid_days=10, valid_until=until)
    assert caught.value.code == "validity_required"


def test_application_approval_issues_and_rejection_needs_a_reason(session):
    admin = make_user("admin")
    batch = make_batch(mode=BatchMode.apply, total_count=1)
    alice, bob = make_entrepreneur(), make_entrepreneur()
    assert code_of(claims.claim, user=alice, batch_id=batch.id) == "apply_required"
    first = claims.apply(user=alice, batch_id=batch.id, statement="我们是一家初创科技企业", upload_ids=[])
    assert code_of(claims.apply, user=alice, batch_id=batch.id, statement="再申请一次试试", upload_ids=[]) == \
        "already_applied"
    second = claims.apply(user=bob, batch_id=batch.id, statement="申请检验检测服务", upload_ids=[])
    claims.decide(actor=admin, id=first.id, approve=True, reason="")
    assert first.state == ApplicationState.approved
    assert db.session.scalar(sa.select(Voucher).where(Voucher.holder_id == alice.id)).application_id == first.id
    # the only voucher is gone: approving the next one says so and changes nothing
    assert code_of(claims.decide, actor=admin, id=second.id, approve=True, reason="") == "sold_out"
    assert code_of(claims.decide, actor=admin, id=second.id, approve=False, reason="") == "reason_required"
    claims.decide(actor=admin, id=second.id, approve=False, reason="材料不全")
    titles = db.session.scalars(sa.select(Notification.title).where(Notification.user_id.in_([alice.id, bob.id]))).all()
    assert sorted(titles) == ["创业券申请已通过", "创业券申请未通过"]
    assert code_of(claims.decide, actor=admin, id=second.id, approve=True, reason="") == "application_decided"


def test_applications_only_with_my_own_uploads(session, app, tmp_path):
    from backend.core import uploads
    from tests.vouchers.test_uploads import png_bytes

    batch = make_batch(mode=BatchMode.apply)
    alice, mallory = make_entrepreneur(), make_entrepreneur()
    theirs = uploads.store(owner=alice, data=png_bytes(), filename="营业执照.png")
    assert code_of(claims.apply, user=mallory, batch_id=batch.id, statement="用别人的材料申请",
                   upload_ids=[theirs.id]) == "upload_not_found"
    mine = claims.apply(user=alice, batch_id=batch.id, statement="附营业执照", upload_ids=[theirs.id])
    assert mine.upload_ids == [theirs.id]


def test_ledger_entries_cannot_be_changed_or_deleted(session):
    voucher = make_voucher_simple()
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id))
    entry.amount = 1
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def make_voucher_simple():
    return claims.claim(user=make_entrepreneur(), batch_id=make_batch().id)[0]


def test_objections_only_during_notice_and_once_per_person(session):
    from backend.vouchers import providers
    from tests.factories import make_provider

    on_notice, listed = make_provider(listed=False), make_provider(listed=True)
    person = make_entrepreneur()
    providers.object_to(user=person, provider=on_notice, text="该机构地址与实际不符")
    assert code_of(providers.object_to, user=person, provider=on_notice, text="再提一次异议") == "already_objected"
    assert code_of(providers.object_to, user=person, provider=listed, text="公示期已过") == "not_on_notice"
    assert providers.objection_count(on_notice) == 1


def test_a_provider_registration_grants_no_role_until_approved(client, auth, session):
    """Filing a registration opens no staff-only endpoint; approval grants the role, logged."""
    from backend.core.audit import AuditLog
    from backend.core.validators import credit_code_check_char

    person = make_entrepreneur()
    body = {"name": "济宁明德财税咨询有限公司", "credit_code": "91370811MA3DEM777" + credit_code_check_char("91370811MA3DEM777"),
            "categories": ["tax"], "district": "370811", "address": "济宁市任城区共青团路 8 号",
            "contact_name": "孙明德", "contact_phone": "13912345678"}
    answer = client.post("/api/providers", json=body, headers=auth(person))
    assert answer.status_code == 201, answer.get_json()
    provider_id = answer.get_json()["id"]
    assert "provider_staff" not in client.get("/api/me", headers=auth(person)).get_json()["roles"]
    assert client.get("/api/provider", headers=auth(person)).get_json()["status"] == "pending"
    for method, url in [("POST", "/api/provider/scan"), ("GET", "/api/provider/statements"),
                        ("GET", "/api/provider/redemptions")]:
        refused = client.open(url, method=method, json={"code": "CY:X"} if method == "POST" else None,
                              headers=auth(person))
        assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden"), url
    admin = make_user("admin")
    decided = client.post(f"/api/admin/providers/{provider_id}/decision", json={"action": "approve"},
                          headers=auth(admin))
    assert decided.status_code == 200, decided.get_json()
    assert "provider_staff" in client.get("/api/me", headers=auth(person)).get_json()["roles"]
    grants = session.scalars(sa.select(AuditLog).where(AuditLog.action == "role.grant",
                                                       AuditLog.target_id == str(person.id))).all()
    assert [(g.actor_id, g.after["role"]) for g in grants if g.after["role"] == "provider_staff"] == \
        [(admin.id, "provider_staff")]


def test_the_centre_tells_my_standing_on_a_page_of_batches_in_the_same_few_queries(client, auth, session):
    """What I hold and my latest application come in one query each for the page, not ~4 per batch."""
    person = make_entrepreneur()
    held = make_batch(per_person_limit=1)
    claims.claim(user=person, batch_id=held.id)
    applied = make_batch(mode=BatchMode.apply)
    claims.apply(user=person, batch_id=applied.id, statement="申请材料齐全", upload_ids=[])
    few, page = get_counting(client, "/api/voucher-batches", auth(person))
    standing = {b["id"]: (b["can_claim"], b["reason_code"], b["reason"], b["held"], b["application_state"])
                for b in page}
    assert standing[held.id] == (False, "claim_limit_reached", claims.limit_message(1), 1, None)
    assert standing[applied.id] == (False, "already_applied", "已提交申请，等待审核", 0, "pending")
    for _ in range(6):
        claims.claim(user=person, batch_id=make_batch(per_person_limit=2).id)
    many, page = get_counting(client, "/api/voucher-batches", auth(person))
    assert len(page) == 8 and many == few
    assert [b["held"] for b in page[:6]] == [1] * 6 and all(b["can_claim"] for b in page[:6])


def test_a_signed_out_visitor_sees_the_batch_window_or_a_login_prompt(client, session):
    open_batch, paused = make_batch(), make_batch(state=BatchState.paused)
    listing = {b["id"]: (b["can_claim"], b["reason_code"], b["held"])
               for b in client.get("/api/voucher-batches").get_json()}
    assert listing[open_batch.id] == (False, "login_required", 0)
    assert listing[paused.id] == (False, "batch_paused", 0)
    one = client.get(f"/api/voucher-batches/{paused.id}").get_json()
    assert (one["reason_code"], one["reason"]) == ("batch_paused", "本批次暂停发放，请稍后再来")


def test_a_published_batch_before_its_window_reads_coming_soon_not_issuing(client, session):
    """The tag beside 还没到领取时间 says 即将开放, not 发放中 (the state itself stays active)."""
    now = utcnow()
    soon = make_batch(claim_starts_at=now + timedelta(hours=1), claim_ends_at=now + timedelta(days=1))
    open_batch, paused = make_batch(), make_batch(state=BatchState.paused)
    listing = {b["id"]: (b["state"], b["state_label"], b["reason_code"])
               for b in client.get("/api/voucher-batches").get_json()}
    assert listing[soon.id] == ("active", "即将开放", "claim_not_started")
    assert listing[open_batch.id] == ("active", "发放中", "login_required")
    assert listing[paused.id] == ("paused", "已暂停", "batch_paused")
    assert client.get(f"/api/voucher-batches/{soon.id}").get_json()["state_label"] == "即将开放"


def test_the_limit_refusal_and_the_centre_say_the_same_words(session):
    person = make_entrepreneur()
    batch = make_batch(per_person_limit=2)
    claims.claim(user=person, batch_id=batch.id)
    claims.claim(user=person, batch_id=batch.id)
    with pytest.raises(DomainError) as caught:
        claims.claim(user=person, batch_id=batch.id)
    assert caught.value.message == claims.limit_message(2) == "每人（同一主体）限领 2 张，已达上限"
    assert claims.claim_problem(user=person, batch=batch) == ("claim_limit_reached", claims.limit_message(2))


def test_listed_is_one_rule_in_python_and_in_sql(session):
    """The catalogue, the admin filter, scanning and paying all ask Provider.listed / on_notice."""
    from datetime import timedelta

    from backend.vouchers.enums import ProviderStatus
    from backend.vouchers.models import Provider
    from tests.factories import make_provider

    now = utcnow()
    cases = {
        "listed": make_provider(listed=True),
        "notice": make_provider(listed=False),
        "no_date": make_provider(listed=True, listed_at=None),
        "suspended": make_provider(listed=True, status=ProviderStatus.suspended),
    }
    cases["just_listed"] = make_provider(listed=True, listed_at=now - timedelta(seconds=1))
    db.session.flush()
    ids = [p.id for p in cases.values()]
    in_sql = set(db.session.scalars(sa.select(Provider.id).where(Provider.id.in_(ids), Provider.listed(now))))
    on_notice_sql = set(db.session.scalars(sa.select(Provider.id).where(Provider.id.in_(ids), Provider.on_notice(now))))
    assert in_sql == {p.id for p in cases.values() if p.listed(now)} == {cases["listed"].id, cases["just_listed"].id}
    assert on_notice_sql == {p.id for p in cases.values() if p.on_notice(now)} == {cases["notice"].id,
                                                                                  cases["no_date"].id}
    assert [p.public_status(now) for p in cases.values()] == ["listed", "notice", "notice", "suspended", "listed"]


def test_the_centre_says_how_many_are_left_by_the_tighter_cap(client, session):
    by_count = make_batch(total_count=3, budget=None, face_value=100_000)
    by_budget = make_batch(total_count=10, budget=250_000, face_value=100_000)  # two fit the budget
    claims.claim(user=make_entrepreneur(), batch_id=by_count.id)
    claims.claim(user=make_entrepreneur(), batch_id=by_budget.id)
    listing = {b["id"]: (b["cap_count"], b["remaining"]) for b in client.get("/api/voucher-batches").get_json()}
    assert listing[by_count.id] == (3, 2) and listing[by_budget.id] == (2, 1)


def _statements(fn, **kwargs) -> tuple[object, list[str]]:
    seen = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = fn(**kwargs)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return result, seen


def test_a_claim_and_its_retry_cost_a_fixed_few_statements(session):
    """The batch, an earlier claim with the key and the profile in one read; then, in the savepoint, the
    holder's counters, the batch's, the voucher and its entry: 8 statements. A retry: the read alone."""
    person = make_entrepreneur()
    batch = make_batch(per_person_limit=2)
    db.session.flush()
    db.session.expire(person, ["profile"])  # as in a request: the profile not read yet
    (voucher, created), first = _statements(claims.claim, user=person, batch_id=batch.id, key="counted-claim-1")
    assert created and len(first) == 8, first
    assert first[0].lstrip().upper().startswith("SELECT") and "entrepreneur_profile" in first[0]
    (again, created), retry = _statements(claims.claim, user=person, batch_id=batch.id, key="counted-claim-1")
    assert (again.id, created) == (voucher.id, False) and len(retry) == 1, retry  # the voucher is in the session
    assert claims.held(user=person, batch=batch) == 1 and ledger.check_invariants() == []
