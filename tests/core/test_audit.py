import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from backend.core import audit
from backend.core.audit import AuditLog


def test_admin_actions_are_logged_with_before_and_after(client, make_user, auth, session):
    admin = make_user("admin")
    response = client.post("/api/places", headers=auth(admin), json={
        "kind": "street", "name": "兖州创业街区", "district": "370812", "address": "兖州区建设路 1 号"})
    assert response.status_code == 201
    place_id = response.get_json()["id"]
    client.patch(f"/api/places/{place_id}", headers=auth(admin), json={"opening_hours": "9:00-21:00"})
    log = client.get("/api/admin/audit-log", headers=auth(admin), query_string={"target_type": "place", "target_id": str(place_id)})
    entries = log.get_json()
    assert [e["action"] for e in entries] == ["place.update", "place.create"]
    assert entries[0]["actor_id"] == admin.id
    assert entries[0]["before"] == {"opening_hours": ""}
    assert entries[0]["after"] == {"opening_hours": "9:00-21:00"}


def test_orm_refuses_to_change_or_delete_entries(session):
    entry = audit.record(actor=None, action="test.action", target_type="test", target_id=1)
    entry.action = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'tampered'",
    "DELETE FROM audit_log",
])
def test_database_refuses_to_change_or_delete_entries(session, statement):
    audit.record(actor=None, action="test.action", target_type="test", target_id=1)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(sa.text(statement))
    nested.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "test.action")) == 1


def test_audit_log_is_admin_only(client, make_user, auth):
    for role in ("entrepreneur", "provider_staff", "station_staff", "organiser"):
        response = client.get("/api/admin/audit-log", headers=auth(make_user(role)))
        assert response.status_code == 403
        assert response.get_json()["code"] == "forbidden"


def test_an_edit_is_logged_with_only_what_it_changed_and_not_at_all_when_nothing_changed(session):
    before = {"name": "旧名", "address": "历下区 1 号", "capacity": 10}
    entry = audit.record_changes(actor=None, action="test.update", target_type="test", target_id=7, before=before,
                                 after={**before, "name": "新名", "capacity": 12})
    assert (entry.before, entry.after, entry.target_id) == ({"name": "旧名", "capacity": 10},
                                                            {"name": "新名", "capacity": 12}, "7")
    assert audit.record_changes(actor=None, action="test.update", target_type="test", target_id=7,
                                before=before, after=dict(before)) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                          .where(AuditLog.action == "test.update")) == 1
