"""Targets as data: administrators add, change and remove them; each change is in the audit log with
what it was and what it became; bad input is refused in the error shape and writes nothing; the
plans' targets are seeded once and an edited one is left alone."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.core.audit import AuditLog
from backend.extensions import db
from backend.programme import seed
from backend.programme.models import ProgrammeTarget
from tests.conftest import count

GOOD = {"year": 2026, "region_code": "370881", "measure": "events_held", "value": 24,
        "plan": "曲阜市创业促进活动工作方案", "note": "每年不少于24场"}


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def _log(target_id) -> list[AuditLog]:
    return db.session.scalars(sa.select(AuditLog).where(AuditLog.target_type == "programme_target",
                                                        AuditLog.target_id == str(target_id))
                              .order_by(AuditLog.id)).all()


def test_create_change_and_remove_a_target_each_audited(client, admin, auth):
    created = client.post("/api/admin/targets", json=GOOD, headers=auth(admin))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["region_name"], body["measure_label"], body["unit"], body["value"]) == ("曲阜市", "创业促进活动场次",
                                                                                           "场", 24)
    target_id = body["id"]
    changed = client.patch(f"/api/admin/targets/{target_id}", json={"value": 30, "plan": GOOD["plan"]},
                           headers=auth(admin))
    assert changed.status_code == 200 and changed.get_json()["value"] == 30
    listed = client.get("/api/admin/targets?year=2026&region=370881", headers=auth(admin))
    assert [t["id"] for t in listed.get_json()] == [target_id] and listed.headers["X-Pagination"]
    removed = client.delete(f"/api/admin/targets/{target_id}", headers=auth(admin))
    assert removed.status_code == 204 and db.session.get(ProgrammeTarget, target_id) is None
    log = _log(target_id)
    assert [e.action for e in log] == ["target.create", "target.update", "target.delete"]
    assert all(e.actor_id == admin.id for e in log)
    assert log[0].after["value"] == 24 and log[0].after["plan"] == GOOD["plan"]
    assert (log[1].before, log[1].after) == ({"value": 24}, {"value": 30})  # only what changed
    assert log[2].before["value"] == 30 and log[2].after is None


def test_an_edit_that_changes_nothing_is_not_logged(client, admin, auth):
    target_id = client.post("/api/admin/targets", json=GOOD, headers=auth(admin)).get_json()["id"]
    client.patch(f"/api/admin/targets/{target_id}", json={"value": 24}, headers=auth(admin))
    assert [e.action for e in _log(target_id)] == ["target.create"]


def test_one_target_per_year_region_and_measure(client, admin, auth):
    assert client.post("/api/admin/targets", json=GOOD, headers=auth(admin)).status_code == 201
    again = client.post("/api/admin/targets", json={**GOOD, "value": 50}, headers=auth(admin))
    assert again.status_code == 409 and again.get_json()["code"] == "target_exists"
    assert "已有" in again.get_json()["message"]
    assert count(ProgrammeTarget) == 1


@pytest.mark.parametrize("change,field", [
    ({"year": 1999}, "year"),
    ({"year": "2026"}, "year"),
    ({"region_code": "370899"}, "region_code"),
    ({"region_code": "110000"}, "region_code"),
    ({"measure": "nonsense"}, "measure"),
    ({"value": -1}, "value"),
    ({"value": 1.5}, "value"),
    ({"value": 10**16}, "value"),
    ({"plan": ""}, "plan"),
    ({"plan": "方案\u202e"}, "plan"),
    ({"note": "x" * 121}, "note"),
])
def test_bad_input_is_refused_and_nothing_is_written(client, admin, auth, change, field):
    logged = count(AuditLog)
    answer = client.post("/api/admin/targets", json={**GOOD, **change}, headers=auth(admin))
    assert answer.status_code == 422
    body = answer.get_json()
    assert set(body) == {"code", "message", "details"} and field in body["details"]["json"]
    assert count(ProgrammeTarget) == 0 and count(AuditLog) == logged


def test_a_patch_with_a_bad_value_changes_nothing(client, admin, auth):
    target_id = client.post("/api/admin/targets", json=GOOD, headers=auth(admin)).get_json()["id"]
    answer = client.patch(f"/api/admin/targets/{target_id}", json={"value": -5}, headers=auth(admin))
    assert answer.status_code == 422
    assert db.session.get(ProgrammeTarget, target_id).value == 24


def test_a_district_administrator_keeps_to_their_district(client, admin, auth, make_user):
    target_id = client.post("/api/admin/targets", json=GOOD, headers=auth(admin)).get_json()["id"]  # 曲阜市
    own = client.post("/api/admin/targets", json={**GOOD, "region_code": "370811"}, headers=auth(admin))
    district_admin = make_user("admin")
    district_admin.grants[0].region_code = "370811"
    db.session.flush()
    headers = auth(district_admin)
    for method in ("patch", "delete"):
        answer = getattr(client, method)(f"/api/admin/targets/{target_id}", json={"value": 1}, headers=headers)
        assert answer.status_code == 404 and answer.get_json()["code"] == "target_not_found"
    refused = client.post("/api/admin/targets", json={**GOOD, "region_code": "370800", "value": 1}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "region_forbidden"
    assert [t["region_code"] for t in client.get("/api/admin/targets", headers=headers).get_json()] == ["370811"]
    changed = client.patch(f"/api/admin/targets/{own.get_json()['id']}", json={"value": 3}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["value"] == 3
    assert db.session.get(ProgrammeTarget, target_id).value == 24


def test_the_list_reads_province_city_district_each_in_the_measures_order(client, admin, auth):
    seed.seed()
    listed = client.get("/api/admin/targets?year=2026&page_size=100", headers=auth(admin)).get_json()
    regions = [t["region_code"] for t in listed]
    assert regions == sorted(regions) and regions[0] == "370000"
    jining = [t["measure"] for t in listed if t["region_code"] == "370800"]
    assert jining[:4] == ["events_held", "mentor_visits", "stations_in_service", "quality_projects"]


def test_money_targets_are_fen_beyond_32_bits(client, admin, auth):
    loans = {**GOOD, "measure": "guaranteed_loans", "value": 150 * 100_000_000 * 100}
    answer = client.post("/api/admin/targets", json=loans, headers=auth(admin))
    assert answer.status_code == 201 and answer.get_json()["value"] == 1_500_000_000_000
    assert answer.get_json()["money"] is True and answer.get_json()["unit"] == "元"


def test_the_plans_are_seeded_once_and_edits_survive(session):
    added = seed.seed()
    assert added == len(seed.rows()) and added >= 40
    jining = db.session.scalar(sa.select(ProgrammeTarget).where(ProgrammeTarget.year == 2026,
                                                                ProgrammeTarget.region_code == "370800",
                                                                ProgrammeTarget.measure == "events_held"))
    assert jining.value == 100 and "济政办字〔2024〕50号" in jining.plan
    expected = {("370000", "events_held"): 1000, ("370112", "events_held"): 20, ("370800", "mentor_visits"): 20,
                ("370800", "stations_in_service"): 300, ("370800", "quality_projects"): 150}
    for (region, measure), value in expected.items():
        for year in (2025, 2026):
            found = db.session.scalar(sa.select(ProgrammeTarget.value).where(
                ProgrammeTarget.year == year, ProgrammeTarget.region_code == region,
                ProgrammeTarget.measure == measure))
            assert found == value, (year, region, measure)
    jining.value = 120
    assert seed.seed() == 0
    assert db.session.get(ProgrammeTarget, jining.id).value == 120
