"""The organiser's desk: create, cover, publish, edit rules, cancel; the public list; figures; export."""
import io
from datetime import timedelta

from openpyxl import load_workbook
from PIL import Image

from backend.core.audit import AuditLog
from backend.core.db import utcnow
from backend.events import registrations
from backend.extensions import db
from backend.core.localtime import LOCAL
from tests.factories import make_entrepreneur, make_event, make_space, make_user
from tests.vouchers.test_uploads import png_bytes


def body(place, **overrides):
    start = utcnow() + timedelta(days=5)
    data = {"place_id": place.id, "title": "创业讲堂：股权怎么分", "kind": "lecture", "description": "律师讲股权",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "signup_opens_at": utcnow().isoformat(), "signup_closes_at": start.isoformat(), "capacity": 30,
            "audience": {"subject_types": ["startup"], "districts": ["370811"]}}
    data.update(overrides)
    return data


def upload(client, headers, data, name="cover.png"):
    return client.post("/api/uploads", headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_create_with_cover_publish_and_list(client, auth):
    place = make_space()
    organiser = make_user("organiser", place=place)
    headers = auth(organiser)
    big = io.BytesIO()
    Image.new("RGB", (3000, 1000), (200, 80, 40)).save(big, "PNG")
    cover = upload(client, headers, big.getvalue()).get_json()
    created = client.post("/api/organiser/events", json=body(place, cover_id=cover["id"]), headers=headers)
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["state"] == "draft" and event["cover_card"].startswith(f"/api/events/{event['id']}/cover/card")
    assert client.get("/api/events").get_json() == []  # drafts are not public
    published = client.post(f"/api/organiser/events/{event['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["state"] == "published"
    listed = client.get("/api/events?kind=lecture&district=370811&q=股权").get_json()
    assert [e["id"] for e in listed] == [event["id"]]
    assert listed[0]["reason_code"] == "login_required"
    for size, dims in (("card", (480, 270)), ("full", (1200, 675))):
        image = client.get(f"/api/events/{event['id']}/cover/{size}")
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(image.data)).size == dims
        assert image.headers["ETag"] and "public" in image.headers["Cache-Control"]
        again = client.get(f"/api/events/{event['id']}/cover/{size}", headers={"If-None-Match": image.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""  # the same cover: nothing drawn or sent
    actions = [a.action for a in db.session.query(AuditLog).filter_by(target_type="event")]
    assert actions == ["event.create", "event.publish"]


def test_cover_must_be_an_image_of_mine(client, auth):
    place = make_space()
    organiser = make_user("organiser", place=place)
    pdf = upload(client, auth(organiser), b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", name="a.pdf").get_json()
    answer = client.post("/api/organiser/events", json=body(place, cover_id=pdf["id"]), headers=auth(organiser))
    assert answer.status_code == 422 and answer.get_json()["code"] == "invalid_image"
    someone = make_user("organiser", place=place)
    theirs = upload(client, auth(someone), png_bytes()).get_json()
    answer = client.post("/api/organiser/events", json=body(place, cover_id=theirs["id"]), headers=auth(organiser))
    assert answer.status_code == 422 and answer.get_json()["code"] == "upload_not_found"
    fake = upload(client, auth(organiser), b"GIF89a not really an image", name="cover.png")
    assert fake.status_code == 422


def test_bad_input_is_refused_in_chinese_and_writes_nothing(client, auth):
    place = make_space()
    organiser = make_user("organiser", place=place)
    start = utcnow() + timedelta(days=5)
    cases = [
        body(place, ends_at=(start - timedelta(hours=1)).isoformat()),
        body(place, signup_closes_at=(start + timedelta(days=1)).isoformat()),
        body(place, capacity=0),
        body(place, kind="party"),
        body(place, title="x"),
    ]
    for case in cases:
        answer = client.post("/api/organiser/events", json=case, headers=auth(organiser))
        assert answer.status_code == 422, answer.get_json()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(answer.get_json()))
    other = make_space(name="喵小创·别处")
    answer = client.post("/api/organiser/events", json=body(other), headers=auth(organiser))
    assert answer.status_code == 403
    assert client.get("/api/organiser/events", headers=auth(organiser)).get_json() == []


def test_published_events_lock_their_time_and_place(client, auth):
    event = make_event()
    organiser = make_user("admin")
    answer = client.patch(f"/api/organiser/events/{event.id}", json={"starts_at": utcnow().isoformat()},
                          headers=auth(organiser))
    assert answer.status_code == 409 and answer.get_json()["code"] == "field_locked"
    ok = client.patch(f"/api/organiser/events/{event.id}", json={"title": "新标题：创业沙龙"}, headers=auth(organiser))
    assert ok.status_code == 200 and ok.get_json()["title"] == "新标题：创业沙龙"


def test_cancelled_events_tell_registrants_and_refuse_sign_up(client, auth):
    event = make_event(capacity=1)
    a, b = make_entrepreneur(), make_entrepreneur()
    for person in (a, b):
        registrations.sign_up(user=person, event_id=event.id)
    answer = client.post(f"/api/organiser/events/{event.id}/cancel", json={"reason": "台风预警"}, headers=auth(make_user("admin")))
    assert answer.get_json()["told"] == 2
    late = client.post(f"/api/events/{event.id}/registrations", headers=auth(make_entrepreneur()))
    assert late.status_code == 409 and late.get_json()["code"] == "event_cancelled"
    again = client.post(f"/api/organiser/events/{event.id}/cancel", json={"reason": "台风预警"}, headers=auth(make_user("admin")))
    assert again.status_code == 409
    assert client.get("/api/events").get_json() == []  # off the public list


def test_public_list_orders_upcoming_first_and_pages(client):
    now = utcnow()
    later = make_event(starts_at=now + timedelta(days=9), ends_at=now + timedelta(days=9, hours=1))
    sooner = make_event(starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=1))
    past = make_event(starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2) + timedelta(hours=1),
                      signup_opens_at=now - timedelta(days=9), signup_closes_at=now - timedelta(days=2))
    assert [e["id"] for e in client.get("/api/events").get_json()] == [sooner.id, later.id]
    assert [e["id"] for e in client.get("/api/events?when=past").get_json()] == [past.id]
    page = client.get("/api/events?page=2&page_size=1")
    assert [e["id"] for e in page.get_json()] == [later.id] and '"total": 2' in page.headers["X-Pagination"]
    day = (now + timedelta(days=2)).astimezone(LOCAL).date().isoformat()
    assert [e["id"] for e in client.get(f"/api/events?date_from={day}&date_to={day}").get_json()] == [sooner.id]


def test_figures_count_held_events_by_month_kind_and_attendance(client, auth):
    now = utcnow()
    space = make_space()
    organiser = make_user("organiser", place=space)
    held_at = now - timedelta(days=1)
    held = make_event(place=space, organiser=organiser, kind="mentor_visit")
    people = [make_entrepreneur() for _ in range(4)]
    for person in people:
        registrations.sign_up(user=person, event_id=held.id)
    held.starts_at, held.ends_at = held_at, held_at + timedelta(hours=2)  # and then it took place
    held.signup_opens_at, held.signup_closes_at = held_at - timedelta(days=3), held_at
    from backend.events.models import Registration

    first = db.session.query(Registration).filter_by(event_id=held.id).order_by(Registration.id).first()
    first.checked_in_at = held_at
    make_event(place=space, organiser=organiser)  # upcoming: not held yet
    year = held_at.astimezone(LOCAL).year
    from backend.programme.models import ProgrammeTarget

    db.session.add(ProgrammeTarget(year=year, region_code="370800", measure="mentor_visits", value=20, unit="场",
                                   plan="济政办字〔2024〕50号"))  # targets are data (the plans', seeded)
    answer = client.get(f"/api/organiser/figures?year={year}&group=place", headers=auth(organiser)).get_json()
    [row] = answer["rows"]
    assert row["name"] == space.name and row["held"] == 1 and row["by_kind"]["mentor_visit"] == 1
    assert row["by_month"][held_at.astimezone(LOCAL).month - 1] == 1
    assert (row["signups"], row["registered"], row["checked_in"], row["attendance_rate"]) == (4, 4, 1, 0.25)
    assert answer["targets"]["mentor_visits_held"] == 1 and answer["targets"]["mentor_visits"] == 20
    assert answer["targets"]["events"] is None  # none set for that year: no number made up
    stranger = make_user("organiser", place=make_space(name="喵小创·别处"))
    assert client.get(f"/api/organiser/figures?year={year}", headers=auth(stranger)).get_json()["rows"] == []
    admin = client.get(f"/api/organiser/figures?year={year}", headers=auth(make_user("admin"))).get_json()
    assert admin["total"]["held"] >= 1 and any(r["key"] == "370811" for r in admin["rows"])


def test_attendance_export_xlsx_and_csv(client, auth):
    event = make_event()
    person = make_entrepreneur()
    registrations.sign_up(user=person, event_id=event.id)
    headers = auth(make_user("admin"))
    xlsx = client.get(f"/api/organiser/events/{event.id}/export?format=xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx.headers["Content-Disposition"].endswith(f"event-{event.id}-attendance.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.values)
    assert "签到表" in rows[0][0] and rows[1][:2] == ("报名编号", "姓名")
    assert rows[2][1] == "测***" and rows[2][2].count("*") == 4 and rows[2][4] == "报名成功"
    csv = client.get(f"/api/organiser/events/{event.id}/export?format=csv", headers=headers)
    text = csv.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("报名编号,姓名,手机") and "报名成功" in text


def test_organiser_lists_only_their_places(client, auth):
    space = make_space()
    organiser = make_user("organiser", place=space)
    mine = make_event(place=space, organiser=organiser)
    make_event()  # elsewhere
    assert [e["id"] for e in client.get("/api/organiser/events", headers=auth(organiser)).get_json()] == [mine.id]
    assert [p["id"] for p in client.get("/api/organiser/places", headers=auth(organiser)).get_json()] == [space.id]


def test_the_signed_in_list_costs_the_same_queries_for_one_event_or_many(client, auth):
    import sqlalchemy as sa

    person = make_entrepreneur()
    space = make_space()
    organiser = make_user("organiser", place=space)
    statements = []

    def count(_conn, _cursor, statement, *_rest):
        if statement.lstrip().upper().startswith("SELECT"):  # the test's own savepoints vary
            statements.append(statement)

    def listed():
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/api/events", headers=auth(person)).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    for _ in range(2):
        registrations.sign_up(user=person, event_id=make_event(place=space, organiser=organiser).id)
    two = listed()
    for _ in range(6):
        registrations.sign_up(user=person, event_id=make_event(place=space, organiser=organiser).id)
    assert listed() == two
