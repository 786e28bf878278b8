"""A 创业担保贷款 case through the API from the first question to the last repayment, as the four
people who handle it: the applicant, the station's 专员, the 人社 administrator and the bank officer."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from PIL import Image

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.extensions import db
from backend.loans import seed
from backend.loans.models import Bank, LoanCase, LoanEvent, LoanRule
from backend.notifications.models import Notification
from tests.factories import make_entrepreneur, make_place, make_user

WAN = 10000 * 100


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 220, 240)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(session):
    seed.seed()
    station = make_place(name="创贷之家·流程测试驿站")
    staff = make_user(Role.station_staff, place=station)
    admin = make_user(Role.admin)
    bank = db.session.scalar(sa.select(Bank).where(Bank.name == "济宁银行"))
    officer = accounts.create_user(phone="19911110001", name="钱信贷", roles=())
    accounts.grant_role(actor=None, user=officer, role=Role.bank_staff, bank_id=bank.id)
    person = make_entrepreneur()
    return dict(station=station, staff=staff, admin=admin, bank=bank, officer=officer, person=person)


APPLICATION = dict(borrower_type="individual", amount=20 * WAN, term_months=24, purpose="开设社区烘焙店",
                   business="烘焙零售", identity_category="graduate", age=26)


def upload(client, auth, user, case_id, kind):
    return client.post(f"/api/loans/cases/{case_id}/documents", headers=auth(user),
                       data={"kind": kind, "file": (io.BytesIO(png()), f"{kind}.png")},
                       content_type="multipart/form-data")


def step(client, auth, user, case_id, name, body=None):
    return client.post(f"/api/loans/cases/{case_id}/{name}", headers=auth(user), json=body or {})


def test_the_whole_case_from_application_to_closed(client, auth, world, monkeypatch):
    w = world
    started = client.post("/api/loans/cases", headers=auth(w["person"]),
                          json=dict(APPLICATION, station_id=w["station"].id))
    assert started.status_code == 201, started.get_json()
    case = started.get_json()
    assert case["state"] == "consultation" and case["station"]["name"] == "创贷之家·流程测试驿站"
    assert case["number"].startswith("DK") and "****" in case["applicant"]["phone"]
    assert set(case["actions"]) >= {"edit", "precheck", "upload", "withdraw"}
    cid = case["id"]
    # the 专员 runs the pre-check: eligible, and it says what to bring
    checked = step(client, auth, w["staff"], cid, "precheck").get_json()
    assert checked["state"] == "precheck" and checked["precheck"]["passed"] is True
    labels = {r["key"]: r for r in checked["precheck"]["results"]}
    assert "最高 30 万元" in labels["amount"]["message"] and labels["guarantee"]["message"].startswith("免除反担保")
    assert set(checked["precheck"]["bring"]) == {"身份证", "身份类别证明", "征信查询授权书"}
    # submitting without the documents says which are missing
    early = step(client, auth, w["staff"], cid, "submit")
    assert early.status_code == 409 and early.get_json()["code"] == "documents_missing"
    assert "身份证" in early.get_json()["message"]
    # the 专员 asks for the documents; the applicant is told and uploads them
    asked = step(client, auth, w["staff"], cid, "request-documents", {"kinds": ["credit_auth"], "remark": "需本人签字"})
    assert asked.get_json()["state"] == "correction"
    assert [d["kind"] for d in asked.get_json()["requested_documents"]] == ["credit_auth"]
    for kind in ("id_card", "identity_proof", "credit_auth"):
        assert upload(client, auth, w["person"], cid, kind).status_code == 201
    # the documents open for the handlers and the applicant only
    doc = client.get(f"/api/loans/cases/{cid}", headers=auth(w["person"])).get_json()["documents"][0]
    assert client.get(doc["url"], headers=auth(w["staff"])).status_code == 200
    assert client.get(doc["url"], headers=auth(make_entrepreneur())).status_code == 404
    upload_id = db.session.scalar(sa.select(sa.text("upload_id")).select_from(sa.text("loan_document")).limit(1))
    assert client.get(f"/api/uploads/{upload_id}", headers=auth(w["admin"])).status_code == 403
    submitted = step(client, auth, w["person"], cid, "submit").get_json()
    assert submitted["state"] == "review" and submitted["requested_documents"] == []
    # the administrator approves: on the public notice list, masked
    approved = step(client, auth, w["admin"], cid, "approve").get_json()
    assert approved["state"] == "notice" and approved["notice_until"]
    assert "refer" not in approved["actions"]  # not offered while the notice runs
    notice = client.get("/api/loans/notice").get_json()
    assert [n["number"] for n in notice] == [case["number"]]
    assert notice[0]["applicant_name"].endswith("*")
    # referring during the notice period is refused; after it, the bank gets the case
    early = step(client, auth, w["admin"], cid, "refer", {"bank_id": w["bank"].id})
    assert early.status_code == 409 and early.get_json()["code"] == "notice_running"
    later = datetime.combine(date.fromisoformat(approved["notice_until"]) + timedelta(days=1), datetime.min.time(),
                             timezone.utc) + timedelta(hours=2)
    monkeypatch.setattr("backend.loans.flow.utcnow", lambda: later)
    assert "refer" in client.get(f"/api/loans/cases/{cid}", headers=auth(w["admin"])).get_json()["actions"]
    referred = step(client, auth, w["admin"], cid, "refer", {"bank_id": w["bank"].id}).get_json()
    assert referred["state"] == "referred" and referred["bank"]["name"] == "济宁银行"
    assert cid in [c["id"] for c in client.get("/api/loans/cases", headers=auth(w["officer"])).get_json()]
    # the bank: due diligence, disbursement, repayments to the end
    step(client, auth, w["officer"], cid, "diligence", {"guarantee": "免除反担保", "remark": "实地走访"})
    paid_out = later.date() - timedelta(days=1)
    lent = step(client, auth, w["officer"], cid, "disburse", {"approved_amount": 20 * WAN, "rate_bp": 345, "lpr_bp": 300,
                                                             "term_months": 24, "disbursed_on": paid_out.isoformat()})
    assert lent.status_code == 200, lent.get_json()
    assert lent.get_json()["loan"]["outstanding"] == 20 * WAN
    half = step(client, auth, w["officer"], cid, "repayments",
                {"paid_on": later.date().isoformat(), "principal": 10 * WAN, "interest": 100}).get_json()
    assert half["state"] == "repaying" and half["loan"]["outstanding"] == 10 * WAN
    too_much = step(client, auth, w["officer"], cid, "repayments",
                    {"paid_on": later.date().isoformat(), "principal": 11 * WAN})
    assert too_much.status_code == 422
    done = step(client, auth, w["officer"], cid, "repayments",
                {"paid_on": later.date().isoformat(), "principal": 10 * WAN, "interest": 50}).get_json()
    assert done["state"] == "closed" and done["loan"]["outstanding"] == 0 and done["actions"] == []
    # the applicant's timeline shows each step, by whom; they were told at every handler's step
    mine = client.get(f"/api/loans/cases/{cid}", headers=auth(w["person"])).get_json()
    steps = [e["step"] for e in mine["timeline"]]
    assert steps[:3] == ["open", "precheck", "request_documents"] and steps[-1] == "close"
    assert {"submit", "approve", "refer", "diligence", "disburse", "repay"} <= set(steps)
    assert {e["actor_role_label"] for e in mine["timeline"]} == {"申请人", "驿站专员", "人社部门", "合作银行"}
    told = db.session.scalars(sa.select(Notification.title).where(Notification.user_id == w["person"].id)).all()
    assert {"创业担保贷款：审核通过并公示", "创业担保贷款：放款", "创业担保贷款：结清"} <= set(told)


def open_case(client, auth, w, **changes):
    answer = client.post("/api/loans/cases", headers=auth(w["person"]),
                         json=dict(APPLICATION, station_id=w["station"].id, **changes))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def test_the_precheck_names_each_failed_rule_and_nothing_moves(client, auth, world):
    cid = open_case(client, auth, world, borrower_type="firm", amount=500 * WAN, term_months=36, org_name="济宁小满食品",
                    staff_count=120, new_hires=5)
    answer = step(client, auth, world["staff"], cid, "precheck").get_json()
    assert answer["state"] == "consultation" and answer["precheck"]["passed"] is False
    failed = {r["key"]: r["message"] for r in answer["precheck"]["results"] if not r["passed"]}
    assert set(failed) == {"amount", "term", "hiring"}
    assert "最高 400 万元" in failed["amount"] and "最长 24 个月" in failed["term"]
    assert "超过 100 人的企业须达到 5%" in failed["hiring"]
    assert step(client, auth, world["person"], cid, "submit").get_json()["code"] == "loan_state_changed"
    assert answer["timeline"][-1]["step"] == "precheck_failed"


def test_an_earlier_overdue_loan_fails_the_precheck(client, auth, world):
    earlier = LoanCase(applicant_id=world["person"].id, station_id=world["station"].id, region_code="370811",
                       state="closed", borrower_type="individual", identity_category="other", amount=WAN,
                       term_months=12, ever_overdue=True)
    db.session.add(earlier)
    db.session.flush()
    cid = open_case(client, auth, world)
    results = {r["key"]: r for r in step(client, auth, world["staff"], cid, "precheck").get_json()["precheck"]["results"]}
    assert results["credit"]["passed"] is False and "逾期" in results["credit"]["message"]
    assert results["times"]["message"].startswith("这是第 2 笔")


def test_another_citys_rule_is_a_row_not_code(client, auth, world):
    """A district with its own, stricter row: its cap applies to its cases, the province's elsewhere."""
    db.session.add(LoanRule(region_code="370811", borrower_type="individual", valid_from=date(2024, 1, 1),
                            name="任城区个人创业担保贷款（试点）", max_amount=15 * WAN, max_term_months=24, max_times=1,
                            rate_cap_offset_bp=150, borrower_offset_bp=None, finance_share_pct=50, documents=["id_card"]))
    db.session.flush()
    cid = open_case(client, auth, world)
    answer = step(client, auth, world["staff"], cid, "precheck").get_json()
    assert answer["precheck"]["rule_name"] == "任城区个人创业担保贷款（试点）"
    assert "最高 15 万元" in {r["key"]: r for r in answer["precheck"]["results"]}["amount"]["message"]
    elsewhere = make_place(name="创贷之家·邹城测试驿站", district="370883")
    other = client.post("/api/loans/cases", headers=auth(make_entrepreneur()),
                        json=dict(APPLICATION, station_id=elsewhere.id)).get_json()
    assert step(client, auth, make_user(Role.station_staff, place=elsewhere), other["id"], "precheck") \
        .get_json()["precheck"]["rule_name"] == "山东省个人创业担保贷款"


def test_one_open_application_at_a_time_and_a_closed_station_is_refused(client, auth, world):
    open_case(client, auth, world)
    again = client.post("/api/loans/cases", headers=auth(world["person"]),
                        json=dict(APPLICATION, station_id=world["station"].id))
    assert again.status_code == 409 and again.get_json()["code"] == "loan_case_open"
    space = make_place(kind="space", name="喵小创·测试空间")
    wrong = client.post("/api/loans/cases", headers=auth(make_entrepreneur()), json=dict(APPLICATION, station_id=space.id))
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "station_not_found"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoanCase)) == 1


def test_the_station_opens_a_case_from_a_scanned_visit(client, auth, world):
    from backend.checkins.models import Visit
    from backend.core.db import utcnow

    visit = Visit(place_id=world["station"].id, user_id=world["person"].id, day=date.today(), purpose="loan",
                  source="staff_scan", visited_at=utcnow())
    db.session.add(visit)
    db.session.flush()
    first = client.post("/api/loans/cases/from-visit", headers=auth(world["staff"]), json={"visit_id": visit.id})
    assert first.status_code == 201 and first.get_json()["applicant"]["id"] == world["person"].id
    assert first.get_json()["station"]["id"] == world["station"].id
    again = client.post("/api/loans/cases/from-visit", headers=auth(world["staff"]), json={"visit_id": visit.id})
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    stranger = make_user(Role.station_staff, place=make_place(name="创贷之家·别处驿站"))
    assert client.post("/api/loans/cases/from-visit", headers=auth(stranger),
                       json={"visit_id": visit.id}).get_json()["code"] == "visit_not_found"
    told = db.session.scalar(sa.select(Notification.body).where(Notification.user_id == world["person"].id))
    assert "流程测试驿站" in told


def test_overdue_and_extension_on_the_loan(client, auth, world, monkeypatch):
    cid = open_case(client, auth, world)
    case = db.session.get(LoanCase, cid)
    case.state, case.bank_id = "diligence", world["bank"].id
    db.session.flush()
    day = date.today() - timedelta(days=100)
    step(client, auth, world["officer"], cid, "disburse", {"approved_amount": 10 * WAN, "rate_bp": 345, "lpr_bp": 300,
                                                          "term_months": 12, "disbursed_on": day.isoformat()})
    late = step(client, auth, world["officer"], cid, "overdue", {"since": (day + timedelta(days=60)).isoformat()})
    assert late.get_json()["state"] == "overdue"
    cured = step(client, auth, world["officer"], cid, "cure", {"on": (day + timedelta(days=70)).isoformat()}).get_json()
    assert cured["state"] == "repaying" and "extend" in cured["actions"]
    matures = date.fromisoformat(cured["loan"]["matures_on"])
    too_long = step(client, auth, world["officer"], cid, "extend",
                    {"until": (matures + timedelta(days=400)).isoformat(), "reason": "受灾"})
    assert too_long.status_code == 422
    extended = step(client, auth, world["officer"], cid, "extend",
                    {"until": (matures + timedelta(days=180)).isoformat(), "reason": "受洪涝灾害影响"}).get_json()
    assert extended["state"] == "extended" and "extend" not in extended["actions"]
    assert [(p.kind, p.end is not None) for p in db.session.get(LoanCase, cid).pauses] == \
        [("overdue", True), ("extension", True)]


def test_a_late_step_stands_out_first_on_the_handlers_list(client, auth, world, monkeypatch):
    old = open_case(client, auth, world)
    fresh = open_case(client, auth, dict(world, person=make_entrepreneur()))
    db.session.get(LoanCase, old).step_due_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.flush()
    rows = client.get("/api/loans/cases", headers=auth(world["staff"])).get_json()
    assert [r["id"] for r in rows] == [old, fresh] and rows[0]["overdue_step"] is True and rows[1]["overdue_step"] is False
    only = client.get("/api/loans/cases?overdue=true", headers=auth(world["staff"])).get_json()
    assert [r["id"] for r in only] == [old]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoanEvent)) == 2


def test_each_handlers_step_is_a_wechat_message_after_it_is_committed(client, auth, world, wechat_fake, app,
                                                                      monkeypatch):
    from backend.accounts.enums import WechatApp
    from backend.accounts.models import WechatIdentity

    template = "tmpl-loan-step-0001"
    monkeypatch.setitem(app.config, "WECHAT_LOAN_STEP_TEMPLATE", template)
    wechat_fake.templates[template] = ["thing1", "phrase2", "time3"]
    wechat_fake.sent.clear()
    openid = f"o-loan-{world['person'].id}"
    db.session.add(WechatIdentity(user_id=world["person"].id, app=WechatApp.mini, appid=wechat_fake.MINI_APPID,
                                  openid=openid))
    wechat_fake.subscribed.add((openid, template))
    cid = open_case(client, auth, world)
    assert wechat_fake.sent == []  # the applicant's own step tells no one
    step(client, auth, world["staff"], cid, "request-documents", {"kinds": ["id_card"]})
    [message] = wechat_fake.sent
    assert message["touser"] == openid and message["page"] == f"pages/loan-case/index?id={cid}"
    assert message["data"]["thing1"]["value"] == "创业担保贷款：要求补正材料"
    assert message["data"]["phrase2"]["value"] == "补正材料"
    # a step that fails (refused, rolled back) sends nothing
    assert step(client, auth, world["admin"], cid, "approve").status_code == 409
    assert len(wechat_fake.sent) == 1


def test_administrators_keep_the_rules_as_data(client, auth, world):
    rows = client.get("/api/loans/rules", headers=auth(world["admin"])).get_json()
    assert {(r["region_name"], r["borrower_type"], r["max_amount"]) for r in rows} >= {
        ("山东省", "individual", 30 * WAN), ("山东省", "firm", 400 * WAN)}
    added = client.post("/api/loans/rules", headers=auth(world["admin"]), json={
        "region_code": "370811", "borrower_type": "individual", "valid_from": "2026-01-01", "name": "任城区个人贷款",
        "max_amount": 15 * WAN, "max_term_months": 24, "max_times": 1, "finance_share_pct": 50,
        "rate_cap_offset_bp": 150, "documents": ["id_card"]})
    assert added.status_code == 201, added.get_json()
    bad = client.patch(f"/api/loans/rules/{added.get_json()['id']}", headers=auth(world["admin"]),
                       json={"valid_to": "2025-06-01"})
    assert bad.status_code == 422 and "失效日期" in bad.get_json()["message"]
    changed = client.patch(f"/api/loans/rules/{added.get_json()['id']}", headers=auth(world["admin"]),
                           json={"max_amount": 18 * WAN})
    assert changed.get_json()["max_amount"] == 18 * WAN
    zoucheng = make_user(Role.admin)
    zoucheng.grants[0].region_code = "370883"
    db.session.flush()
    theirs = client.get("/api/loans/rules", headers=auth(zoucheng)).get_json()
    assert "任城区个人贷款" not in {r["name"] for r in theirs} and "山东省个人创业担保贷款" in {r["name"] for r in theirs}
    assert client.patch(f"/api/loans/rules/{added.get_json()['id']}", headers=auth(zoucheng),
                        json={"max_amount": 1 * WAN}).status_code == 404
    refused = client.post("/api/loans/rules", headers=auth(zoucheng), json={
        "region_code": "370811", "borrower_type": "firm", "valid_from": "2026-01-01", "name": "越权规则",
        "max_amount": WAN, "max_term_months": 12, "max_times": 1, "finance_share_pct": 100})
    assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden"


def test_an_administrator_binds_a_bank_officer_to_a_bank(client, auth, world):
    person = make_entrepreneur()
    missing = client.post(f"/api/admin/users/{person.id}/roles", headers=auth(world["admin"]), json={"role": "bank_staff"})
    assert missing.status_code == 422 and missing.get_json()["details"]["bank_id"] == ["请选择合作银行"]
    branch = db.session.scalar(sa.select(Bank).where(Bank.name == "济宁银行任城支行"))
    granted = client.post(f"/api/admin/users/{person.id}/roles", headers=auth(world["admin"]),
                          json={"role": "bank_staff", "bank_id": branch.id})
    assert granted.status_code == 200, granted.get_json()
    grant = next(g for g in granted.get_json()["grants"] if g["role"] == "bank_staff")
    assert grant["bank_name"] == "济宁银行任城支行"
    # a 任城区 administrator may bind to the 任城 branch, not to the city's head office
    district = make_user(Role.admin)
    district.grants[0].region_code = "370811"
    db.session.flush()
    other = make_entrepreneur()
    assert client.post(f"/api/admin/users/{other.id}/roles", headers=auth(district),
                       json={"role": "bank_staff", "bank_id": world["bank"].id}).get_json()["code"] == "region_forbidden"
    revoked = client.delete(f"/api/admin/users/{person.id}/roles?role=bank_staff&bank_id={branch.id}",
                            headers=auth(world["admin"]))
    assert revoked.status_code == 200 and all(g["role"] != "bank_staff" for g in revoked.get_json()["grants"])


def test_late_steps_are_told_to_whoever_must_act_once(client, auth, world):
    from backend.loans import reminders

    with_station = open_case(client, auth, world)
    with_bank = open_case(client, auth, dict(world, person=make_entrepreneur()))
    db.session.get(LoanCase, with_bank).state = "referred"
    db.session.get(LoanCase, with_bank).bank_id = world["bank"].id
    for cid in (with_station, with_bank):
        db.session.get(LoanCase, cid).step_due_at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    db.session.flush()
    assert reminders.remind_late(now=datetime(2026, 1, 6, tzinfo=timezone.utc)) == {"cases": 2, "handlers": 2}
    late = db.session.scalars(sa.select(Notification).where(Notification.kind == "loan_late")).all()
    assert {(n.user_id, n.link.rsplit("=", 1)[1]) for n in late} == {(world["staff"].id, str(with_station)),
                                                                      (world["officer"].id, str(with_bank))}
    assert reminders.remind_late(now=datetime(2026, 1, 7, tzinfo=timezone.utc)) == {"cases": 2, "handlers": 0}


def test_handlers_find_a_case_by_number_phone_or_name(client, auth, world):
    mine = open_case(client, auth, world)
    other = open_case(client, auth, dict(world, person=make_entrepreneur()))
    number = client.get(f"/api/loans/cases/{mine}", headers=auth(world["staff"])).get_json()["number"]

    def found(q):
        return [r["id"] for r in client.get("/api/loans/cases", query_string={"q": q},
                                             headers=auth(world["staff"])).get_json()]

    assert found(number) == [mine] and found(number.lower()) == [mine]
    assert found(world["person"].phone) == [mine]
    assert found(world["person"].phone[:7]) == []  # part of a phone finds nothing (it is stored encrypted)
    assert set(found("测试")) == {mine, other}  # make_entrepreneur's name
    assert found("DK2026") == []
