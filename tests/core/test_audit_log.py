"""The audit log screen's endpoint: names instead of ids, Chinese action labels, filters by who, what,
which record and when (Beijing days), and the XLSX export with the same filters."""
import io
from datetime import datetime, timezone

import sqlalchemy as sa
from openpyxl import load_workbook

from backend.core import audit
from backend.core.audit import AuditLog
from backend.extensions import db
from tests.factories import make_place

LOG = "/api/admin/audit-log"


def test_entries_carry_the_actor_name_the_action_label_and_the_record_name(client, make_user, auth):
    admin = make_user("admin", name="刘管理")
    person = make_user(name="钱驿站")
    place = make_place(name="创贷之家·任城驿站")
    client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin),
                json={"role": "station_staff", "place_id": place.id})
    entry = client.get(LOG, headers=auth(admin), query_string={"action": "role"}).get_json()[0]
    assert entry["actor_name"] == "刘管理" and entry["action_label"] == "授予角色"
    assert entry["target_type"] == "user" and entry["target_label"] == "钱驿站"
    assert entry["after"] == {"role": "station_staff", "place_id": place.id}
    assert entry["after_shown"] == {"role": "场所工作人员", "place_id": "创贷之家·任城驿站"}  # names, not ids


def test_revoked_places_and_regions_read_by_name(client, make_user, auth):
    admin, person = make_user("admin"), make_user()
    first, second = make_place(name="甲驿站"), make_place(name="乙驿站")
    for place in (first, second):
        client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin),
                    json={"role": "organiser", "place_id": place.id})
    client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin), json={"role": "admin", "region_code": "370800"})
    client.delete(f"/api/admin/users/{person.id}/roles", headers=auth(admin), query_string={"role": "organiser"})
    entries = client.get(LOG, headers=auth(admin), query_string={"action": "role"}).get_json()
    assert entries[0]["before_shown"] == {"role": "活动组织者", "place_ids": ["甲驿站", "乙驿站"]}
    assert entries[1]["after_shown"]["region_code"] == "济宁市"


def test_action_labels_are_served_in_chinese_for_every_recorded_action(client):
    labels = {o["value"]: o["label"] for o in client.get("/api/meta").get_json()["audit_actions"]}
    for action in ("role.grant", "role.revoke", "user.block", "user.restore", "voucher_batch.create",
                   "provider.approve", "statement.pay", "event.publish", "place.create", "scanner.setup",
                   "checkin_scan.review", "registration.approve", "voucher_application.decide"):
        assert labels[action] and all(not ch.isascii() for ch in labels[action] if ch.isalpha()), action


def test_filters_by_who_what_record(client, make_user, auth, session):
    first, second = make_user("admin", name="甲管理员"), make_user("admin", name="乙管理员")
    audit.record(actor=first, action="voucher_batch.create", target_type="voucher_batch", target_id=7)
    audit.record(actor=first, action="voucher_batch.state", target_type="voucher_batch", target_id=8)
    audit.record(actor=second, action="voucher_application.decide", target_type="voucher_application", target_id=7)
    audit.record(actor=second, action="place.create", target_type="place", target_id=7)

    def actions(**query):
        return [e["action"] for e in client.get(LOG, headers=auth(first), query_string=query).get_json()]

    # "voucher_batch" is a prefix of voucher_batch.* only, not of voucher_application.*
    assert actions(action="voucher_batch") == ["voucher_batch.state", "voucher_batch.create"]
    assert actions(action="voucher_batch.create") == ["voucher_batch.create"]
    assert actions(actor="乙管理") == ["place.create", "voucher_application.decide"]
    assert actions(actor=str(first.id)) == ["voucher_batch.state", "voucher_batch.create"]
    assert actions(target_type="voucher_batch", target_id="7") == ["voucher_batch.create"]
    assert actions(actor="乙", action="place") == ["place.create"]


def test_dates_are_beijing_days_both_included(client, make_user, auth, session):
    admin = make_user("admin")
    moments = {  # UTC; Beijing is +8
        "a.before": datetime(2026, 3, 31, 15, 59, tzinfo=timezone.utc),  # 3-31 23:59 Beijing
        "a.first": datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc),  # 4-01 00:00 Beijing
        "a.last": datetime(2026, 4, 2, 15, 59, tzinfo=timezone.utc),  # 4-02 23:59 Beijing
        "a.after": datetime(2026, 4, 2, 16, 0, tzinfo=timezone.utc),  # 4-03 00:00 Beijing
    }
    for action, moment in moments.items():
        session.add(AuditLog(actor_id=admin.id, action=action, target_type="test", created_at=moment))
    session.flush()
    found = client.get(LOG, headers=auth(admin), query_string={"action": "a", "date_from": "2026-04-01",
                                                               "date_to": "2026-04-02"}).get_json()
    assert [e["action"] for e in found] == ["a.last", "a.first"]
    refused = client.get(LOG, headers=auth(admin), query_string={"date_from": "2026-04-02", "date_to": "2026-04-01"})
    assert refused.status_code == 422 and refused.get_json()["details"]["query"]["date_to"] == ["结束日期不能早于开始日期"]


def test_export_has_the_filtered_entries_with_names_and_labels(client, make_user, auth, session):
    admin, person = make_user("admin", name="刘管理"), make_user(name="=钱驿站")
    audit.record(actor=admin, action="user.block", target_type="user", target_id=person.id,
                 before={"is_active": True}, after={"is_active": False})
    audit.record(actor=admin, action="place.create", target_type="place", target_id=1)
    response = client.get(f"{LOG}.xlsx", headers=auth(admin), query_string={"action": "user"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "管理员操作日志" and rows[1][:4] == ["编号", "时间", "操作人", "操作"]
    assert len(rows) == 3  # title, header, the one user.* entry
    row = dict(zip(rows[1], rows[2]))
    assert row["操作人"] == "刘管理" and row["操作"] == "停用账号" and row["对象名称"] == "'=钱驿站"
    assert row["修改后"] == '{"is_active": false}'


def test_export_refuses_bad_filters_in_the_error_shape(client, make_user, auth):
    answer = client.get(f"{LOG}.xlsx", headers=auth(make_user("admin")), query_string={"date_from": "昨天"})
    assert answer.status_code == 422 and set(answer.get_json()) == {"code", "message", "details"}
