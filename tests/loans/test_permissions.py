"""Every loan endpoint × every role + anonymous, and three handlers of something else — an officer of
another bank, the 专员 of another station, an administrator of another district (邹城市; the world's
cases are in 任城区): the exact status each caller gets (tests/matrix.py).

Who sees a case decides before what they may do with it (backend/loans/access.py): a signed-in caller
who neither applied for a case nor handles it (its station, its region, the bank it was referred to)
gets 404 loan_case_not_found, as if it did not exist — never 403, which would tell them it does — and
their lists leave it out. A caller who does handle the case but not this step gets 403 forbidden.
Each row is built by ``on_case`` from those two sets, so the 404s are stated, not implied.

The subsidy statements belong to a bank and are seen by its officers and the administrators of the
bank's region (404 statement_not_found for anyone else signed in); the rules are the administrators'."""
import io

import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from backend.accounts.enums import Role
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules

ROLES = [r.value for r in Role]
OTHER_BANK = "bank_staff of another bank"
OTHER_STATION = "station_staff of another station"
OTHER_ADMIN = "admin of another district"
OTHERS = [OTHER_BANK, OTHER_STATION, OTHER_ADMIN]
SIGNED_IN = [*ROLES, *OTHERS]
OTHER_DISTRICT = "370883"  # 邹城市
NOT_FOUND = (404, "loan_case_not_found")


def on_case(method, path, body, takes: dict, refused: set = frozenset()):
    """A row on one of the world's cases: ``takes`` who may take the step (and the status they get),
    ``refused`` who handle the case in another capacity (403 forbidden); everyone else signed in does
    not see the case (404 loan_case_not_found)."""
    status = {**{w: NOT_FOUND for w in SIGNED_IN if w not in takes and w not in refused}, **takes}
    return method, path, body, set(status), status


def everyone_signed_in(method, path, body, status, **cells):
    status = {**{w: status for w in SIGNED_IN}, **cells}
    return method, path, body, set(status), status


OWNER, STATION, ADMIN, BANK = "entrepreneur", "station_staff", "admin", "bank_staff"
APPLICATION = {"borrower_type": "individual", "amount": 15_0000_00, "term_months": 24, "purpose": "开一家社区便利店",
               "identity_category": "returnee", "age": 30, "station_id": "{station}"}

# method, path, json body ("file": a multipart upload), who may call it, the status they get
ENDPOINTS = [
    # the entrepreneur of the world already has an open case (the world's {case}): a second one is refused
    everyone_signed_in("POST", "/api/loans/cases", APPLICATION, 201, entrepreneur=(409, "loan_case_open")),
    everyone_signed_in("GET", "/api/loans/cases", None, 200),
    # a visit at the world's station: only its 专员 finds it
    everyone_signed_in("POST", "/api/loans/cases/from-visit", {"visit_id": "{visit}"}, (404, "visit_not_found"),
                       station_staff=201),
    on_case("GET", "/api/loans/cases/{case}", None, {OWNER: 200, STATION: 200, ADMIN: 200}),
    on_case("GET", "/api/loans/cases/{loan}", None, {STATION: 200, ADMIN: 200, BANK: 200}),
    on_case("PATCH", "/api/loans/cases/{case}", {"purpose": "开一家社区烘焙店，购置烤箱"}, {OWNER: 200, STATION: 200},
            {ADMIN}),
    on_case("POST", "/api/loans/cases/{case}/precheck", {}, {OWNER: 200, STATION: 200}, {ADMIN}),
    on_case("POST", "/api/loans/cases/{case}/request-documents", {"kinds": ["business_plan"], "remark": "权限测试"},
            {STATION: 200, ADMIN: 200}, {OWNER}),
    on_case("POST", "/api/loans/cases/{case}/documents", "file", {OWNER: 201}, {STATION, ADMIN}),
    on_case("GET", "/api/loans/cases/{case}/documents/{document}", None, {OWNER: 200, STATION: 200, ADMIN: 200}),
    on_case("POST", "/api/loans/cases/{case}/submit", {}, {OWNER: 200, STATION: 200}, {ADMIN}),
    on_case("POST", "/api/loans/cases/{case}/withdraw", {"reason": "暂时不需要贷款"}, {OWNER: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{review}/approve", {"remark": ""}, {ADMIN: 200}, {STATION}),
    on_case("POST", "/api/loans/cases/{review}/reject", {"reason": "经营项目与申报不符"}, {ADMIN: 200}, {STATION}),
    # once referred, rejecting is the bank's call, not the administrator's
    on_case("POST", "/api/loans/cases/{referred}/reject", {"reason": "尽调发现负债过高"}, {BANK: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{notice}/refer", {"bank_id": "{bank}", "remark": ""}, {ADMIN: 200}, {STATION}),
    on_case("POST", "/api/loans/cases/{referred}/diligence", {"remark": "", "guarantee": "免除反担保"}, {BANK: 200},
            {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{diligence}/disburse",
            {"approved_amount": 20_0000_00, "rate_bp": 345, "lpr_bp": 300, "term_months": 24, "disbursed_on": "{today}"},
            {BANK: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{loan}/repayments", {"paid_on": "{today}", "principal": 1000_00, "interest": 50_00},
            {BANK: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{loan}/overdue", {"since": "{today}", "remark": ""}, {BANK: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{overdue}/cure", {"on": "{today}", "remark": ""}, {BANK: 200}, {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{loan}/extend", {"until": "{extend_until}", "reason": "受灾影响经营"}, {BANK: 200},
            {STATION, ADMIN}),
    on_case("POST", "/api/loans/cases/{loan}/rate", {"from": "{today}", "rate_bp": 330}, {BANK: 200}, {STATION, ADMIN}),
    # public: the 公示 list and the stations one may apply at; the banks for those signed in
    ("GET", "/api/loans/notice", None, {"anonymous", *SIGNED_IN}, 200),
    ("GET", "/api/loans/stations", None, {"anonymous", *SIGNED_IN}, 200),
    everyone_signed_in("GET", "/api/loans/banks", None, 200),
    # the banks' quarterly interest statements: {statement} is the world's bank's, waiting; {approved} is approved
    everyone_signed_in("GET", "/api/loans/statements", None, 200),
    ("POST", "/api/loans/statements", {"year": "{last_year}", "quarter": "{last_quarter}",
                                       "lines": [{"case_id": "{loan}", "interest": 1500_00}]},
     {BANK, OTHER_BANK}, {BANK: 201, OTHER_BANK: (422, "validation_error")}),
    everyone_signed_in("GET", "/api/loans/statements/{statement}", None, (404, "statement_not_found"),
                       bank_staff=200, admin=200),
    everyone_signed_in("GET", "/api/loans/statements/{statement}.xlsx", None, (404, "statement_not_found"),
                       bank_staff=200, admin=200),
    ("POST", "/api/loans/statements/{statement}/approve", None, {ADMIN, OTHER_ADMIN},
     {ADMIN: 200, OTHER_ADMIN: (404, "statement_not_found")}),
    ("POST", "/api/loans/statements/{approved}/pay", None, {ADMIN, OTHER_ADMIN},
     {ADMIN: 200, OTHER_ADMIN: (404, "statement_not_found")}),
    # the rules as data: an administrator of another district reads the rows that apply there too
    ("GET", "/api/loans/rules", None, {ADMIN, OTHER_ADMIN}, 200),
    ("POST", "/api/loans/rules", {"region_code": "370811", "borrower_type": "firm", "valid_from": "2027-01-01",
                                  "name": "任城区小微企业贷款（权限测试）", "max_amount": 300_0000_00,
                                  "max_term_months": 24, "max_times": 2, "finance_share_pct": 100},
     {ADMIN, OTHER_ADMIN}, {ADMIN: 201, OTHER_ADMIN: (403, "region_forbidden")}),
    ("PATCH", "/api/loans/rules/{rule}", {"max_amount": 12_0000_00}, {ADMIN, OTHER_ADMIN},
     {ADMIN: 200, OTHER_ADMIN: (404, "loan_rule_not_found")}),
]
CASES = ("case", "review", "notice", "referred", "diligence", "loan", "overdue")
PLACEHOLDERS = {**{"{" + name + "}": "case_id" for name in CASES}, "{document}": "document_id",
                "{statement}": "statement_id", "{approved}": "statement_id", "{rule}": "rule_id"}
# the world's cases each caller has in their list
LISTED = {OWNER: {"case"}, STATION: set(CASES), ADMIN: set(CASES), BANK: {"referred", "diligence", "loan", "overdue"}}


def _bound(caller, role: Role, field: str):
    grants = [] if caller is None else [g for g in caller.grants if g.role == role and getattr(g, field)]
    return getattr(grants[0], field) if grants else None


def world(caller):
    """Cases at one station of 任城区 in every state a step starts from. The caller's station if they
    are its 专员 (given one if they have none), their bank as the one the cases are referred to, the
    caller as the applicant of {case} when they are an entrepreneur. The steps are taken by handlers
    of the world's own, so the caller's rights come only from what they are."""
    from datetime import date, timedelta

    from backend.accounts import service as accounts
    from backend.checkins import service as checkins
    from backend.checkins.enums import VisitPurpose
    from backend.core import signing
    from backend.core.codes import CodeType
    from backend.extensions import db
    from backend.loans import flow
    from backend.loans.models import Bank, LoanRule
    from backend.places.models import Place
    from tests.factories import make_bank, make_entrepreneur, make_loan_case, make_place, make_user

    station = db.session.get(Place, _bound(caller, Role.station_staff, "place_id") or make_place().id)
    if caller is not None and caller.has_role(STATION) and _bound(caller, Role.station_staff, "place_id") is None:
        accounts.grant_role(actor=None, user=caller, role=Role.station_staff, place_id=station.id)
    bank_id = _bound(caller, Role.bank_staff, "bank_id")
    bank = db.session.get(Bank, bank_id) if bank_id else make_bank()
    if caller is not None and caller.has_role(BANK) and bank_id is None:
        accounts.grant_role(actor=None, user=caller, role=Role.bank_staff, bank_id=bank.id)
    applicant = caller if caller is not None and caller.has_role(OWNER) else make_entrepreneur()
    handlers = dict(station=station, station_staff=make_user(Role.station_staff, place=station),
                    admin=make_user(Role.admin), bank=bank, bank_staff=make_user(Role.bank_staff, bank=bank))
    cases = {"case": make_loan_case("precheck", applicant=applicant, **handlers)}
    for name, state in (("review", "review"), ("notice", "notice"), ("referred", "referred"),
                        ("diligence", "diligence"), ("loan", "disbursed"), ("overdue", "overdue")):
        cases[name] = make_loan_case(state, **handlers)
    # the notice period of {notice} is over, so it may be referred today
    cases["notice"].notice_until = flow.today() - timedelta(days=1)
    statement, approved = _statements(handlers["bank_staff"], bank, cases["loan"])
    rule = LoanRule(region_code="370811", borrower_type="individual", valid_from=date(2027, 1, 1), name="任城区试点规则",
                    max_amount=15_0000_00, max_term_months=24, max_times=1, finance_share_pct=50, documents=[])
    db.session.add(rule)
    visit, _ = checkins.self_check_in(user=make_entrepreneur(), purpose=VisitPurpose.loan, nonce=f"perm-{station.id}",
                                      code=signing.sign_text(CodeType.place, {"place_id": station.id}))
    db.session.flush()
    return {**{name: case.id for name, case in cases.items()}, "document": cases["case"].documents[0].id,
            "station": station.id, "bank": bank.id, "visit": visit.id, "today": flow.today().isoformat(),
            "extend_until": (cases["loan"].matures_on + timedelta(days=180)).isoformat(), "_place": station,
            "statement": statement.id, "approved": approved.id, "rule": rule.id, **_last_quarter()}


def _last_quarter() -> dict:
    from backend.loans import flow

    today = flow.today()
    year, quarter = today.year, (today.month - 1) // 3
    return {"last_year": year if quarter else year - 1, "last_quarter": quarter or 4}


def _statements(officer, bank, loan):
    """The world's bank's statement for the quarter before the last one (the loan, lent 200 days ago,
    ran in it), waiting; and an approved one (no lines) for a year before."""
    from backend.extensions import db
    from backend.loans import statements
    from backend.loans.models import SubsidyStatement

    last = _last_quarter()
    year, quarter = (last["last_year"], last["last_quarter"] - 1) if last["last_quarter"] > 1 \
        else (last["last_year"] - 1, 4)
    waiting = statements.submit(user=officer, year=year, quarter=quarter, lines=[{"case_id": loan.id,
                                                                                  "interest": 1000_00}])
    approved = SubsidyStatement(bank_id=bank.id, year=year - 1, quarter=quarter, state="approved")
    db.session.add(approved)
    db.session.flush()
    return waiting, approved


def make_caller(make_user, who):
    """The caller: a role's plain user (a bank officer bound to a test bank of their own), or one of
    the handlers of something else."""
    from backend.extensions import db
    from tests.factories import make_place

    if who == "anonymous":
        return None
    if who == OTHER_STATION:
        return make_user("station_staff", place=make_place(name="创贷之家·另一驿站"))
    if who == OTHER_BANK:
        return make_user("bank_staff")  # bound to a new bank of its own
    if who == OTHER_ADMIN:
        admin = make_user("admin")
        admin.grants[0].region_code = OTHER_DISTRICT
        db.session.flush()
        return admin
    return make_user(who)


def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses(ENDPOINTS, {"anonymous", *SIGNED_IN})


@pytest.fixture(scope="class")
def shared_world(app, who):
    """The caller and their world, built once per caller (and database) for every row of the matrix:
    committed inside an outer transaction on one connection, rolled back when the caller's rows are
    done (class scope: the last caller's world is gone before the module's other tests open theirs). Each test then runs in a savepoint of it, rolled back after the test (``session`` below), so
    every row still meets the world as built. (Built per test it cost ~4–5 min over both databases.)"""
    from types import SimpleNamespace

    from backend.extensions import db
    from tests.factories import make_user

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            caller = make_caller(make_user, who)
            # the handlers of something else meet a world that is not theirs
            ids = world(None if who in OTHERS else caller)
            ids = {k: v for k, v in ids.items() if not k.startswith("_")}
            caller = None if caller is None else SimpleNamespace(id=caller.id)
            db.session.commit()
            yield SimpleNamespace(connection=connection, caller=caller, ids=ids)
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def session(request, app):
    """As tests/conftest.py's, but a test of the matrix runs in a savepoint of its caller's shared
    world (rolled back after it) instead of a transaction of its own."""
    from backend.core import keys, memo
    from backend.extensions import db, limiter

    with app.app_context():
        if "who" in request.fixturenames:
            connection = request.getfixturevalue("shared_world").connection
            transaction, own = connection.begin_nested(), False
        else:
            connection = db.engine.connect()
            transaction, own = connection.begin(), True
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            if own:
                connection.close()
            keys.keyring().forget()  # keys a test rotated were rolled back with it
            memo.renders().clear()


class TestPermission:
    @pytest.mark.parametrize("who", ["anonymous", *SIGNED_IN], scope="class")
    @pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
    def test_permission(self, client, auth, shared_world, who, method, path, body, allowed, status):
        from tests.factories import png_bytes

        caller, ids = shared_world.caller, shared_world.ids
        url = path.format(**ids)
        headers = {} if caller is None else auth(caller)
        if body == "file":
            response = client.post(url, headers=headers, content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(png_bytes()), "plan.png"), "kind": "business_plan"})
        else:
            response = client.open(url, method=method, json=fill(body, ids), headers=headers)
        assert_permission(response, who, allowed, status)
        if (method, path) == ("GET", "/api/loans/cases") and caller is not None:
            listed = {row["id"] for row in response.get_json()}
            assert listed == {ids[name] for name in LISTED.get(who, ())}, who


def test_a_handler_of_another_bank_station_or_district_finds_no_case(client, make_user, auth):
    """The three outsiders over every case of one world: 404 on each, none in any list; and the
    officer of the head office of the bank the cases were referred to (a branch) sees its cases."""
    from backend.extensions import db
    from backend.loans.models import Bank
    from tests.factories import make_bank

    ids = world(None)
    for who in OTHERS:
        headers = auth(make_caller(make_user, who))
        for name in CASES:
            answer = client.get(f"/api/loans/cases/{ids[name]}", headers=headers)
            assert (answer.status_code, answer.get_json()["code"]) == NOT_FOUND, (who, name)
        for query in ("", "?overdue=1", "?state=review", "?state=repaying"):
            assert client.get(f"/api/loans/cases{query}", headers=headers).get_json() == [], (who, query)
    head_office = make_bank()
    db.session.get(Bank, ids["bank"]).parent_id = head_office.id
    officer = make_user("bank_staff", bank=head_office)
    listed = {row["id"] for row in client.get("/api/loans/cases", headers=auth(officer)).get_json()}
    assert listed == {ids[name] for name in LISTED[BANK]}


def test_the_applicant_may_not_take_a_handlers_step_on_their_own_case(client, make_user, auth):
    """The other side of the 404s: on a case they see, a caller without the step gets 403."""
    from tests.factories import make_loan_case

    applicant = make_user("entrepreneur")
    case = make_loan_case("review", applicant=applicant)
    for step, body in (("approve", {}), ("reject", {"reason": "自己驳回自己"}), ("request-documents", {"kinds": ["other"]})):
        answer = client.post(f"/api/loans/cases/{case.id}/{step}", json=body, headers=auth(applicant))
        assert (answer.status_code, answer.get_json()["code"]) == (403, "forbidden"), step


def test_every_loan_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    routes = app_rules(app, ("/api/loans",))
    assert routes - table == set()
    assert table - routes == set()
