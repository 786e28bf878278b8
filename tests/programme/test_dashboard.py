"""The dashboard's numbers against a hand-computed month: events, visits and voucher money in two
Jining districts (任城区 370811, 曲阜市 370881) and one Jinan district (历城区 370112), at a fixed
moment (2026-07-02 00:00 Beijing time). Runs on SQLite and PostgreSQL like every backend test."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from backend.core.localtime import LOCAL
from backend.extensions import db
from backend.programme import figures
from backend.programme.enums import Measure
from backend.programme.models import ProgrammeTarget
from tests.core.queries import get_counting

NOW = datetime(2026, 7, 2, tzinfo=LOCAL)  # 182 of 365 days gone
SHARE = 0.4986
U = timezone.utc


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def _event(place, kind, starts, state="published", checked_in=0, registered_only=0):
    from backend.events.enums import EventKind, EventState, RegistrationState
    from backend.events.models import Event, Registration
    from tests.factories import make_user

    event = Event(place_id=place.id, title=f"{kind}活动", kind=EventKind(kind), starts_at=starts,
                  ends_at=starts + timedelta(hours=2), signup_opens_at=starts - timedelta(days=5),
                  signup_closes_at=starts, capacity=20, state=EventState(state), audience={})
    db.session.add(event)
    db.session.flush()
    for index in range(checked_in + registered_only):
        db.session.add(Registration(event_id=event.id, user_id=make_user().id, state=RegistrationState.registered,
                                    checked_in_at=starts + timedelta(minutes=5) if index < checked_in else None))
    db.session.flush()
    return event


def _visit(place, user, day: date, purpose: str):
    from backend.checkins.enums import VisitPurpose, VisitSource
    from backend.checkins.models import Visit

    db.session.add(Visit(place_id=place.id, user_id=user.id, day=day, purpose=VisitPurpose(purpose),
                         source=VisitSource.staff_scan,
                         visited_at=datetime(day.year, day.month, day.day, 10, tzinfo=LOCAL)))


def _issue(batch, holder, amount, at):
    from backend.vouchers.enums import LedgerKind
    from backend.vouchers.models import LedgerEntry, Voucher

    voucher = Voucher(batch_id=batch.id, holder_id=holder.id, face_value=amount, balance=amount, claimed_at=at,
                      valid_from=at, valid_until=at + timedelta(days=365))
    db.session.add(voucher)
    db.session.flush()
    db.session.add(LedgerEntry(voucher_id=voucher.id, kind=LedgerKind.issue, amount=amount, balance_after=amount,
                               created_at=at))
    batch.issued_count += 1
    batch.issued_amount += amount
    db.session.flush()
    return voucher


def _redeem(voucher, provider, staff, amount, category, at, *, reversed_at=None, statement=None):
    from backend.vouchers.enums import LedgerKind
    from backend.vouchers.models import LedgerEntry, Redemption

    redemption = Redemption(voucher_id=voucher.id, provider_id=provider.id, staff_id=staff.id,
                            holder_id=voucher.holder_id, category=category, bill_amount=amount, amount=amount,
                            idempotency_key=f"k-{at.timestamp()}-{amount}", request_hash="h" * 64, created_at=at,
                            reversed_at=reversed_at, statement_id=statement.id if statement else None)
    db.session.add(redemption)
    db.session.flush()
    voucher.balance -= amount
    db.session.add(LedgerEntry(voucher_id=voucher.id, kind=LedgerKind.redeem, amount=-amount,
                               balance_after=voucher.balance, redemption_id=redemption.id, created_at=at))
    if reversed_at:
        voucher.balance += amount
        db.session.add(LedgerEntry(voucher_id=voucher.id, kind=LedgerKind.reverse, amount=amount,
                                   balance_after=voucher.balance, redemption_id=redemption.id,
                                   created_at=reversed_at))
    db.session.flush()


@pytest.fixture
def world(session):
    """The hand-counted year. Expected Jining (370800) figures are in the test below."""
    from backend.places.enums import PlaceKind
    from backend.places.models import Place
    from backend.vouchers.enums import StatementState
    from backend.vouchers.models import SettlementStatement
    from tests.factories import make_batch, make_place, make_provider, make_user

    space_rc = make_place(kind=PlaceKind.space, name="喵小创·任城测试空间", district="370811")
    space_qf = make_place(kind=PlaceKind.space, name="喵小创·曲阜测试空间", district="370881")
    station_rc = make_place(name="创贷之家·任城测试驿站", district="370811")
    station_qf = make_place(name="创贷之家·曲阜测试驿站", district="370881")
    station_lc = make_place(name="创贷之家·历城测试驿站", district="370112")
    closed = make_place(name="创贷之家·已关闭驿站", district="370811")
    closed.is_active = False
    station_rc.created_at = local(2026, 3, 10, 9)
    station_qf.created_at = local(2025, 11, 1, 9)
    station_lc.created_at = local(2026, 5, 5, 9)
    later = make_place(name="创贷之家·八月新驿站", district="370811")
    later.created_at = local(2026, 8, 1, 9)  # after NOW: not yet
    db.session.flush()
    assert db.session.get(Place, closed.id).is_active is False

    # events: 2 held in March in 任城 and 曲阜, one mentor visit that is 1 April in Beijing (31 March in UTC)
    _event(space_rc, "salon", local(2026, 3, 5, 10), checked_in=2, registered_only=1)
    _event(space_qf, "lecture", local(2026, 3, 20, 14), checked_in=1)
    _event(space_rc, "mentor_visit", local(2026, 4, 1, 7))
    _event(space_rc, "salon", local(2026, 3, 8, 10), state="draft", checked_in=1)  # not held
    _event(space_rc, "salon", local(2026, 3, 9, 10), state="cancelled")  # not held
    _event(space_rc, "roadshow", local(2026, 8, 1, 10))  # after NOW
    _event(space_rc, "salon", local(2025, 12, 31, 23, 30))  # last year (Beijing)
    _event(station_lc, "policy_briefing", local(2026, 2, 2, 10), checked_in=4)  # Jinan

    # visits: 任城 3 (2 people), 曲阜 1 (one of them again), 历城 1 (a third person)
    u1, u2, u3 = make_user(), make_user(), make_user()
    _visit(station_rc, u1, date(2026, 3, 2), "policy")
    _visit(station_rc, u1, date(2026, 3, 3), "loan")
    _visit(station_rc, u2, date(2026, 3, 3), "loan")
    _visit(station_qf, u1, date(2026, 3, 10), "guidance")
    _visit(station_lc, u3, date(2026, 3, 11), "other")
    _visit(station_rc, u2, date(2025, 12, 31), "policy")  # last year

    # vouchers: a 任城 batch (budget ¥10,000) and a 曲阜 batch (10 × ¥500, no budget)
    batch_rc = make_batch(name="任城测试券", district="370811", face_value=100_000, budget=1_000_000,
                          claim_starts_at=local(2026, 1, 10))
    batch_qf = make_batch(name="曲阜测试券", district="370881", face_value=50_000, total_count=10, budget=None,
                          claim_starts_at=local(2026, 2, 1))
    staff = make_user("provider_staff")
    provider_rc = make_provider(name="任城测试孵化器", district="370811", listed_at=local(2026, 1, 5))
    provider_qf = make_provider(name="曲阜测试培训学校", district="370881", listed_at=local(2025, 12, 1))
    make_provider(name="待审核机构", district="370811", status="pending", listed_at=None)
    v1 = _issue(batch_rc, u1, 100_000, local(2026, 2, 15, 9))
    v2 = _issue(batch_qf, u2, 50_000, local(2026, 3, 1, 0, 30))  # 28 Feb in UTC, March in Beijing
    statement = SettlementStatement(provider_id=provider_qf.id, month="2026-03", state=StatementState.paid,
                                    redemption_count=1, redeemed_total=45_000, reversed_total=0, net_total=45_000)
    db.session.add(statement)
    db.session.flush()
    _redeem(v1, provider_rc, staff, 30_000, "rent", local(2026, 3, 5, 11))
    _redeem(v1, provider_rc, staff, 20_000, "legal", local(2026, 3, 6, 11), reversed_at=local(2026, 3, 6, 12))
    _redeem(v2, provider_qf, staff, 45_000, "training", local(2026, 3, 20, 15), statement=statement)

    db.session.add_all([
        ProgrammeTarget(year=2026, region_code="370800", measure=Measure.events_held, value=100, unit="场", plan="测试方案"),
        ProgrammeTarget(year=2026, region_code="370800", measure=Measure.mentor_visits, value=20, unit="场", plan="测试方案"),
        ProgrammeTarget(year=2026, region_code="370800", measure=Measure.stations_in_service, value=300, unit="个",
                        plan="测试方案"),
        ProgrammeTarget(year=2026, region_code="370800", measure=Measure.quality_projects, value=150, unit="个",
                        plan="测试方案"),
        ProgrammeTarget(year=2026, region_code="370811", measure=Measure.events_held, value=2, unit="场", plan="测试方案"),
        ProgrammeTarget(year=2025, region_code="370800", measure=Measure.events_held, value=90, unit="场", plan="测试方案"),
    ])
    db.session.flush()
    return {"space_rc": space_rc, "station_rc": station_rc, "provider_rc": provider_rc}


def _by_key(report) -> dict:
    return {s["key"]: s for s in report["sections"]}


def _regions(section) -> dict:
    return {r["name"]: (r["actual"], r["target"]) for r in section["by_region"]}


def test_share_of_the_year_is_beijing_time():
    assert figures.share_elapsed(2026, NOW) == SHARE
    assert figures.share_elapsed(2026, datetime(2025, 12, 31, 16, 30, tzinfo=U)) == 0.0001  # 00:30 1 Jan Beijing
    assert figures.share_elapsed(2025, NOW) == 1.0 and figures.share_elapsed(2027, NOW) == 0.0
    assert figures.months_elapsed(2026, NOW) == 7


def test_jining_in_the_hand_counted_year(world):
    report = figures.dashboard(year=2026, region="370800", now=NOW)
    assert report["level"] == "city" and report["parent"] == "370000" and report["share_elapsed"] == SHARE
    s = _by_key(report)
    march, april = 2, 3

    events = s["events"]
    assert (events["actual"], events["target"], events["expected_by_now"]) == (3, 100, 50)
    assert (events["status"], events["ratio"]) == ("behind", 0.03)
    assert events["by_month"] == [0, 0, 2, 1] + [0] * 8
    regions = _regions(events)
    assert regions["任城区"] == (2, 2) and regions["曲阜市"] == (1, None) and regions["邹城市"] == (0, None)
    assert len(events["by_region"]) == 11  # every Jining district, in code order
    assert events["plan"] == "测试方案"

    mentor = s["mentor_visits"]
    assert (mentor["actual"], mentor["target"], mentor["expected_by_now"]) == (1, 20, 10)
    assert mentor["by_month"][april] == 1 and sum(mentor["by_month"]) == 1

    attendance = s["attendance"]
    assert (attendance["actual"], attendance["target"], attendance["status"]) == (3, None, None)
    assert attendance["by_month"][march] == 3

    visits = s["station_visits"]
    assert visits["actual"] == 4 and visits["people_served"] == 2
    assert visits["by_month"][march] == 4 and visits["people_served_by_month"][march] == 2
    assert {p["value"]: p["count"] for p in visits["by_purpose"]} == {"policy": 1, "guidance": 1, "loan": 2,
                                                                      "event": 0, "other": 0}
    rc = next(r for r in visits["by_region"] if r["name"] == "任城区")
    qf = next(r for r in visits["by_region"] if r["name"] == "曲阜市")
    assert (rc["actual"], rc["people_served"], qf["actual"], qf["people_served"]) == (3, 2, 1, 1)

    stations = s["stations_in_service"]
    assert stations["stock"] is True
    assert stations["by_month"] == [1, 1, 2, 2, 2, 2, 2] + [None] * 5
    assert (stations["actual"], stations["target"], stations["expected_by_now"]) == (2, 300, 150)

    money = s["vouchers"]
    assert money["money"] is True and money["unit"] == "分"  # fen, as every amount of the API
    assert (money["budget"], money["issued"], money["redeemed"], money["settled"]) == (1_500_000, 150_000, 75_000,
                                                                                        45_000)
    assert money["actual"] == 75_000 and money["by_month"][march] == 75_000
    assert money["issued_by_month"][1] == 100_000 and money["issued_by_month"][march] == 50_000
    assert money["settled_by_month"][march] == 45_000
    assert {c["value"]: c["amount"] for c in money["by_category"] if c["amount"]} == {"rent": 30_000,
                                                                                      "training": 45_000}
    assert _regions(money)["任城区"] == (30_000, None) and _regions(money)["曲阜市"] == (45_000, None)
    batches = {b["name"]: (b["budget"], b["issued"], b["redeemed"], b["settled"]) for b in money["by_batch"]}
    assert batches == {"任城测试券": (1_000_000, 100_000, 30_000, 0), "曲阜测试券": (500_000, 50_000, 45_000, 45_000)}

    providers = s["providers_listed"]
    assert providers["by_month"] == [2] * 7 + [None] * 5 and providers["actual"] == 2

    assert [(o["measure"], o["target"]) for o in report["other_targets"]] == [("quality_projects", 150)]


def test_the_province_sums_cities_and_counts_people_once(world):
    s = _by_key(figures.dashboard(year=2026, region="370000", now=NOW))
    assert _regions(s["events"]) == {"济南市": (1, None), "济宁市": (3, 100)}
    assert s["events"]["actual"] == 4 and s["attendance"]["actual"] == 7
    visits = s["station_visits"]
    assert visits["actual"] == 5 and visits["people_served"] == 3
    assert {r["name"]: r["people_served"] for r in visits["by_region"]} == {"济南市": 1, "济宁市": 2}
    assert s["stations_in_service"]["actual"] == 3


def test_a_district_drills_down_to_its_places(world):
    s = _by_key(figures.dashboard(year=2026, region="370811", now=NOW))
    assert _regions(s["events"]) == {"喵小创·任城测试空间": (2, None)}
    assert s["events"]["by_region"][0]["drill"] is False
    assert (s["events"]["target"], s["events"]["status"]) == (2, "done")
    assert _regions(s["station_visits"]) == {"创贷之家·任城测试驿站": (3, None)}
    assert _regions(s["vouchers"]) == {"任城测试孵化器": (30_000, None)}
    assert s["stations_in_service"]["actual"] == 1


def test_last_year_is_complete_and_counts_its_own_rows(world):
    s = _by_key(figures.dashboard(year=2025, region="370800", now=NOW))
    assert s["events"]["actual"] == 1 and s["events"]["target"] == 90 and s["events"]["expected_by_now"] == 90
    assert s["stations_in_service"]["by_month"][11] == 1  # 曲阜's station, open since November


@pytest.fixture
def admin_headers(make_user, auth):
    return auth(make_user("admin"))


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr("backend.programme.routes.utcnow", lambda: NOW.astimezone(U))


def test_the_api_and_the_workbook_give_the_same_numbers(client, world, admin_headers, frozen):
    answer = client.get("/api/admin/dashboard?year=2026&region=370800", headers=admin_headers)
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    keys = [s["key"] for s in report["sections"]]
    assert {"events", "mentor_visits", "station_visits", "vouchers"} <= set(keys)
    for section in report["sections"]:
        assert {"key", "title", "unit", "target", "actual", "expected_by_now"} <= set(section)
    book = client.get("/api/admin/dashboard.xlsx?year=2026&region=370800", headers=admin_headers)
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(book.data))
    overview = list(workbook["总览"].iter_rows(values_only=True))
    assert "济宁市 2026 年" in overview[0][0]
    rows = {row[0]: row for row in overview[2:]}
    for section in report["sections"]:
        scale = 100 if section["money"] else 1
        row = rows[section["title"]]
        assert row[2] == (None if section["target"] is None else section["target"] / scale)
        assert row[3] == section["actual"] / scale
        assert row[4] == (None if section["expected_by_now"] is None else section["expected_by_now"] / scale)
        sheet = list(workbook[section["title"]].iter_rows(values_only=True))
        months = next(r for r in sheet if r and r[0] and str(r[0]).startswith("实际"))
        assert [None if v is None else round(v * scale) for v in months[1:13]] == section["by_month"]
    assert rows["征集创业创新优质项目"][2] == 150
    events_sheet = list(workbook["创业促进活动"].iter_rows(values_only=True))
    assert ("任城区", 2, 2) in [tuple(r[:3]) for r in events_sheet]


def test_region_defaults_to_the_admins_own_and_another_is_refused(client, world, make_user, auth, frozen):
    answer = client.get("/api/admin/dashboard", headers=auth(make_user("admin"))).get_json()
    assert (answer["region"], answer["year"], answer["level"]) == ("370000", 2026, "province")
    district_admin = make_user("admin")
    district_admin.grants[0].region_code = "370811"
    db.session.flush()
    headers = auth(district_admin)
    own = client.get("/api/admin/dashboard", headers=headers).get_json()
    assert own["region"] == "370811" and own["level"] == "district"
    assert _by_key(own)["events"]["actual"] == 2  # 任城 only
    for url in ("/api/admin/dashboard?region=370800", "/api/admin/dashboard.xlsx?region=370000",
                "/api/admin/dashboard?region=370881"):
        refused = client.get(url, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden", url
        assert set(refused.get_json()) == {"code", "message", "details"}
    city_admin = make_user("admin")
    city_admin.grants[0].region_code = "370800"
    db.session.flush()
    city = client.get("/api/admin/dashboard?region=370811", headers=auth(city_admin))
    assert city.status_code == 200 and city.get_json()["parent"] == "370800"


def test_bad_year_or_region_is_refused_in_the_error_shape(client, admin_headers):
    for query in ("year=1999", "year=abc", "region=370999", "region=3708", "region=110000"):
        answer = client.get(f"/api/admin/dashboard?{query}", headers=admin_headers)
        assert answer.status_code == 422, query
        assert set(answer.get_json()) == {"code", "message", "details"}


def test_the_query_count_does_not_grow_with_places(app, client, world, admin_headers, frozen, monkeypatch):
    from tests.factories import make_place

    # the identity read on every request (no per-process cache), so both counts hold it the same way
    monkeypatch.setitem(app.extensions, "identity_cache", None)
    url = "/api/admin/dashboard?year=2026&region=370811"
    before, _ = get_counting(client, url, admin_headers)
    for n in range(5):
        place = make_place(name=f"创贷之家·加测驿站{n}", district="370811")
        _event(place, "salon", local(2026, 5, 1 + n, 10), checked_in=1)
    after, report = get_counting(client, url, admin_headers)
    assert after == before
    assert _by_key(report)["events"]["actual"] == 7


def test_money_a_city_funds_is_the_citys_own_row_and_counts_for_it_above(world):
    """A batch funded by 济宁市 itself (not one district): in Jining's report it is 济宁市（本级）, not a
    district, and cannot be drilled into; in the province's it counts for 济宁市."""
    from tests.factories import make_batch, make_provider, make_user

    city_batch = make_batch(name="济宁市级测试券", district="370800", face_value=20_000, budget=200_000,
                            claim_starts_at=local(2026, 4, 1))
    holder, staff = make_user(), make_user("provider_staff")
    provider = make_provider(name="邹城测试律所", district="370883", listed_at=local(2026, 2, 1))
    voucher = _issue(city_batch, holder, 20_000, local(2026, 4, 2, 9))
    _redeem(voucher, provider, staff, 8_000, "legal", local(2026, 4, 3, 10))
    jining = _by_key(figures.dashboard(year=2026, region="370800", now=NOW))["vouchers"]
    own = next(r for r in jining["by_region"] if r["code"] == "370800")
    assert (own["name"], own["actual"], own["drill"]) == ("济宁市（本级）", 8_000, False)
    assert jining["redeemed"] == 83_000 and jining["budget"] == 1_700_000
    assert sum(r["actual"] for r in jining["by_region"]) == jining["actual"]
    province = _by_key(figures.dashboard(year=2026, region="370000", now=NOW))["vouchers"]
    assert _regions(province)["济宁市"] == (83_000, None)
