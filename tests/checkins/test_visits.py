"""The entrepreneur's poster scan, staff's lists and figures, the export, the review of scans."""
import io
import secrets

from openpyxl import load_workbook

from backend.checkins.models import Visit
from backend.core import signing
from backend.core.audit import AuditLog
from backend.core.codes import CodeType, Purpose
from backend.extensions import db
from backend.places import poster
from tests.factories import make_device, make_entrepreneur, make_place, make_scanner, make_user, pay_code


def nonce():
    return secrets.token_urlsafe(16)


def check_in(client, auth, user, code, purpose="policy", key=None):
    return client.post("/api/checkins/visits", json={"code": code, "purpose": purpose, "nonce": key or nonce()},
                       headers=auth(user))


def test_poster_scan_records_once_a_day(client, auth):
    place = make_place()
    person = make_entrepreneur()
    code = signing.sign_text(CodeType.place, {"place_id": place.id})
    first = check_in(client, auth, person, code, "loan")
    assert first.status_code == 201 and first.get_json()["created"] is True
    body = first.get_json()
    assert body["message"] == "签到成功" and body["visit"]["place"]["id"] == place.id
    assert body["visit"]["purpose_label"] == "贷款咨询" and body["visit"]["source_label"] == "扫场所码"
    again = check_in(client, auth, person, code, "policy")
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["visit"]["id"] == body["visit"]["id"]
    assert again.get_json()["message"].startswith("今天已在这里签到（")
    assert db.session.query(Visit).count() == 1
    mine = client.get("/api/me/visits", headers=auth(person)).get_json()
    assert [v["id"] for v in mine] == [body["visit"]["id"]]


def test_poster_url_form_works_and_a_retry_with_the_same_nonce_acts_once(client, auth):
    place = make_place()
    url = poster.place_code_url(place)  # what the printed poster carries
    assert "/c/" in url
    person = make_entrepreneur()
    key_ = nonce()
    first = check_in(client, auth, person, url, key=key_)
    retry = check_in(client, auth, person, url, key=key_)
    assert first.status_code == 201 and retry.status_code == 201  # the retry gets the first answer
    assert retry.get_json()["visit"]["id"] == first.get_json()["visit"]["id"]
    stranger = make_entrepreneur()
    stolen = check_in(client, auth, stranger, url, key=key_)
    assert stolen.status_code == 409 and stolen.get_json()["code"] == "nonce_reused"


def test_a_personal_code_or_inactive_place_is_refused(client, auth):
    person = make_entrepreneur()
    wrong = pay_code(make_device(person), purpose=Purpose.identify)
    answer = check_in(client, auth, person, wrong)
    assert answer.status_code == 422 and answer.get_json()["code"] == "wrong_type"
    place = make_place()
    place.is_active = False
    answer = check_in(client, auth, person, signing.sign_text(CodeType.place, {"place_id": place.id}))
    assert answer.status_code == 422 and answer.get_json()["code"] == "place_inactive"
    assert db.session.query(Visit).count() == 0


def staff_scan(client, token, person_device, purpose="loan", **extra):
    item = {"nonce": nonce(), "code": pay_code(person_device, purpose=Purpose.identify), "purpose": purpose, **extra}
    answer = client.post("/api/checkins/sync", json={"items": [item]}, headers={"X-Device-Token": token})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["results"][0]


def test_staff_lists_figures_and_export_see_only_their_places(client, auth):
    mine, other = make_place(name="创贷之家·本站"), make_place(name="创贷之家·他站", district="370881")
    staff = make_user("station_staff", place=mine)
    _, here = make_scanner(mine)
    _, there = make_scanner(other)
    people = [make_entrepreneur() for _ in range(3)]
    phones = [make_device(p) for p in people]
    staff_scan(client, here, phones[0], "loan", note={"text": "贷款预审", "loan_amount": 10_000_000,
                                                      "business_type": "餐饮", "referred_bank": "济宁银行"})
    staff_scan(client, here, phones[1], "policy")
    staff_scan(client, there, phones[2], "guidance")
    listed = client.get("/api/checkins/visits", headers=auth(staff)).get_json()
    assert {v["place"]["id"] for v in listed} == {mine.id} and len(listed) == 2
    assert client.get(f"/api/checkins/visits?place_id={other.id}", headers=auth(staff)).status_code == 403

    from backend.checkins.service import today

    day = today().isoformat()
    figures = client.get(f"/api/checkins/figures?day_from={day}&day_to={day}&group=place&bucket=day",
                         headers=auth(staff)).get_json()
    assert [(r["name"], r["total"]) for r in figures["rows"]] == [("创贷之家·本站", 2)]
    assert figures["rows"][0]["by_purpose"]["loan"] == 1 and figures["periods"] == [day]
    admin = make_user("admin")
    everything = client.get(f"/api/checkins/figures?day_from={day}&day_to={day}", headers=auth(admin)).get_json()
    assert everything["total"] == 3 and {r["key"] for r in everything["rows"]} == {"370811", "370881"}
    assert everything["periods"] == [day[:7]]

    sheet = client.get(f"/api/checkins/export?day_from={day}&day_to={day}&format=xlsx", headers=auth(staff))
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.values)
    assert rows[1][:4] == ("到访编号", "日期", "时间", "场所") and len(rows) == 4
    notes = [r[-1] for r in rows[2:] if r[-1]]
    assert notes == ["贷款预审，拟贷 100,000 元，经营：餐饮，推荐至：济宁银行"]
    assert all("*" in r[6] for r in rows[2:])  # names masked
    csv = client.get(f"/api/checkins/export?day_from={day}&day_to={day}&format=csv", headers=auth(admin))
    assert csv.data.decode("utf-8-sig").count("\n") == 4


def test_bad_ranges_are_refused_in_chinese(client, auth):
    admin = make_user("admin")
    answer = client.get("/api/checkins/figures?day_from=2026-05-01&day_to=2026-04-01", headers=auth(admin))
    assert answer.status_code == 422 and "结束日期不能早于开始日期" in str(answer.get_json())
    answer = client.get("/api/checkins/export?day_from=2024-01-01&day_to=2026-01-01", headers=auth(admin))
    assert answer.status_code == 422 and answer.get_json()["code"] == "range_too_long"


def test_admin_reviews_a_failed_scan_once_and_it_is_logged(client, auth):
    place = make_place()
    _, token = make_scanner(place)
    bad = client.post("/api/checkins/sync", json={"items": [{"nonce": nonce(), "code": "CY:NOT-A-REAL-CODE",
                                                              "purpose": "other"}]},
                      headers={"X-Device-Token": token}).get_json()["results"][0]
    assert bad["result"] == "rejected"
    admin = make_user("admin")
    listed = client.get("/api/admin/checkin-scans?kind=rejected&reviewed=false", headers=auth(admin)).get_json()
    assert [s["nonce"] for s in listed] == [bad["nonce"]] and listed[0]["result_label"] == "被拒绝"
    assert listed[0]["place_name"] == place.name and listed[0]["device_name"] == "测试扫码枪"
    scan_id = listed[0]["id"]
    done = client.post(f"/api/admin/checkin-scans/{scan_id}/review", json={"note": "打印的二维码模糊，已更换"},
                       headers=auth(admin))
    assert done.status_code == 200 and done.get_json()["reviewed_at"]
    again = client.post(f"/api/admin/checkin-scans/{scan_id}/review", json={"note": "再看一次"}, headers=auth(admin))
    assert again.status_code == 409
    assert client.get("/api/admin/checkin-scans?kind=rejected&reviewed=false", headers=auth(admin)).get_json() == []
    assert db.session.query(AuditLog).filter_by(action="checkin_scan.review").count() == 1
