"""Every export, downloaded through its real endpoint after hostile text was stored directly in the
database (bypassing input validation): it answers 200, no cell is a formula or an error value, every
text cell that began with = + - @ tab or CR begins with ' instead, control characters and bidi
overrides read U+FFFD, and the rest of the text survives."""
import csv
import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from backend.core.db import utcnow
from backend.core.validators import mask_name, mask_phone
from backend.extensions import db
from tests.factories import make_entrepreneur, make_event, make_place, make_staff, make_user, make_voucher

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# what must never reach a cell: C0 controls other than tab/LF/CR, DEL, C1 controls, bidi embeddings,
# overrides and isolates, surrogates, U+FFFE/U+FFFF
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
# stored values; each either begins with a dangerous character or with one character XML 1.0 or a
# reader should not meet (BEL, ESC, RIGHT-TO-LEFT OVERRIDE); '#REF!' is text, not an error value
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+2", "-3", "@SUM(A1)", "\tcmd", "\rcmd", "\x07响铃",
           "\x1b[31m红字", "\u202e反向文字", "#REF!"]


def shown(value: str) -> str:
    """What a stored hostile value must read as in a cell."""
    if value[:1] in DANGEROUS:
        return "'" + value
    if value[:1] in ("\x07", "\x1b", "\u202e"):
        return "\ufffd" + value[1:]
    return value


def masked(value: str) -> str:
    return shown(mask_name(value))


def xlsx_cells(data: bytes) -> dict[str, list[list]]:
    """Every sheet's rows; asserts no cell is a formula and every text cell is a string cell."""
    book = load_workbook(io.BytesIO(data))
    sheets = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
        sheets[sheet.title] = [list(r) for r in sheet.values]
    return sheets


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_safe(rows: list[list]) -> None:
    for row in rows:
        for value in row:
            if isinstance(value, str):
                assert not value.startswith(DANGEROUS), repr(value)
                assert not UNSAFE.search(value), repr(value)


def xml(text: str) -> str:
    """XML turns a bare CR into LF on reading (line-end normalisation), so an XLSX gives back LF."""
    return text.replace("\r", "\n")


def download(client, url, headers, fmt):
    answer = client.get(f"{url}{'&' if '?' in url else '?'}format={fmt}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer


# --- settlement statement (provider / admin) ------------------------------------------------------

def hostile_statement():
    from backend.vouchers.models import Redemption, SettlementStatement

    staff, provider = make_staff()
    voucher = make_voucher()
    provider.name = '=HYPERLINK("http://x","y")\x1b机构'
    provider.credit_code = "@SUM(A1)\x07"
    statement = SettlementStatement(provider_id=provider.id, month="+1+2", submitted_at=utcnow(),
                                    redemption_count=len(HOSTILE), redeemed_total=10_000 * len(HOSTILE),
                                    reversed_total=10_000, net_total=10_000 * (len(HOSTILE) - 1))
    db.session.add(statement)
    db.session.flush()
    for index, value in enumerate(HOSTILE):
        holder = make_user(name="持券人")
        holder.name = value
        db.session.add(Redemption(voucher_id=voucher.id, provider_id=provider.id, staff_id=staff.id,
                                  holder_id=holder.id, category="rent", bill_amount=20_000, amount=10_000,
                                  idempotency_key=f"hostile-{index}", request_hash="x", statement_id=statement.id,
                                  reversed_at=utcnow() if index == 0 else None))
    db.session.flush()
    return staff, provider, statement


def test_settlement_statement_xlsx_is_safe(client, auth):
    _, provider, statement = hostile_statement()
    answer = download(client, f"/api/admin/statements/{statement.id}/export", auth(make_user("admin")), "xlsx")
    sheets = xlsx_cells(answer.data)
    assert list(sheets) == ["明细", "汇总"]
    detail, summary = sheets["明细"], sheets["汇总"]
    assert_safe(detail + summary)
    assert detail[0] == ["'=HYPERLINK(\"http://x\",\"y\")\ufffd机构 +1+2 创业券结算单"] + [None] * 8
    assert detail[1][0] == "核销单号"
    assert [r[3] for r in detail[2:]] == [xml(masked(v)) for v in HOSTILE]
    assert all(isinstance(r[2], int) and r[5] == 200 and r[6] == 100 for r in detail[2:])  # numbers stay numbers
    assert [r[8] for r in detail[2:]] == [100] + [0] * (len(HOSTILE) - 1)
    labels = {row[0]: row[1] for row in summary}
    assert labels["机构"] == "'=HYPERLINK(\"http://x\",\"y\")\ufffd机构"
    assert labels["统一社会信用代码"] == "'@SUM(A1)\ufffd"
    assert labels["月份"] == "'+1+2"
    assert labels["笔数"] == len(HOSTILE) and labels["应兑付(元)"] == 100 * (len(HOSTILE) - 1)


def test_settlement_statement_csv_is_safe(client, auth):
    staff, _, statement = hostile_statement()
    answer = download(client, f"/api/provider/statements/{statement.id}/export", auth(staff), "csv")
    rows = csv_rows(answer.data)
    assert_safe(rows)
    assert rows[0][0] == "核销单号" and len(rows) == 1 + len(HOSTILE)
    assert [r[3] for r in rows[1:]] == [masked(v) for v in HOSTILE]
    assert {r[5] for r in rows[1:]} == {"200.0"}  # amounts are written as numbers, not quoted text


# --- event attendance (organiser / admin) ---------------------------------------------------------

def hostile_event():
    from backend.events import registrations

    event = make_event()
    event.title = '=HYPERLINK("http://x","y")\x1b'
    people = []
    for value in HOSTILE:
        person = make_entrepreneur()
        registrations.sign_up(user=person, event_id=event.id)
        person.name = value
        people.append(person)
    people[0].phone = "+8613812345678"
    people[1].phone = "-13812345678"
    db.session.flush()
    return event


def test_attendance_xlsx_is_safe(client, auth):
    event = hostile_event()
    answer = download(client, f"/api/organiser/events/{event.id}/export", auth(make_user("admin")), "xlsx")
    rows = xlsx_cells(answer.data)["明细"]
    assert_safe(rows)
    assert rows[0][0].startswith("'=HYPERLINK(\"http://x\",\"y\")\ufffd（") and rows[0][0].endswith("）签到表")
    assert rows[1][:2] == ["报名编号", "姓名"]
    assert [r[1] for r in rows[2:]] == [xml(masked(v)) for v in HOSTILE]
    assert rows[2][2] == "'" + mask_phone("+8613812345678") and rows[3][2] == "'" + mask_phone("-13812345678")
    assert all(isinstance(r[0], int) for r in rows[2:])


def test_attendance_csv_is_safe(client, auth):
    event = hostile_event()
    answer = download(client, f"/api/organiser/events/{event.id}/export", auth(make_user("admin")), "csv")
    rows = csv_rows(answer.data)
    assert_safe(rows)
    assert rows[0][:3] == ["报名编号", "姓名", "手机"]
    assert [r[1] for r in rows[1:]] == [masked(v) for v in HOSTILE]
    assert rows[1][2] == "'+86****5678" and rows[2][2] == "'-13****5678"


# --- visits (station staff / admin) ---------------------------------------------------------------

def hostile_visits():
    from backend.checkins.enums import VisitPurpose, VisitSource
    from backend.checkins.models import Visit, VisitNote
    from backend.checkins.service import today

    day = today()
    for index, value in enumerate(HOSTILE):
        place = make_place()
        place.name = value  # the district is a code of the region tree (a foreign key): never free text
        person = make_entrepreneur()
        person.name = value
        visit = Visit(place_id=place.id, user_id=person.id, day=day, purpose=VisitPurpose.loan,
                      source=VisitSource.staff_scan, visited_at=utcnow() - timedelta(minutes=index),
                      forced_reason=value[:32])
        db.session.add(visit)
        db.session.flush()
        db.session.add(VisitNote(visit_id=visit.id, nonce=f"hostile-note-{index}", text=value, loan_amount=None,
                                 business_type="餐饮\x1b[2J", referred_bank="济宁银行\u202e"))
    db.session.flush()
    return day


def visit_expectations():
    """Per stored value (newest visit first): place, district, name, reason, note cells."""
    return [(shown(v), "任城区", masked(v), shown(v[:32]),
             shown(v) + "，经营：餐饮\ufffd[2J，推荐至：济宁银行\ufffd") for v in HOSTILE]


def test_visits_xlsx_is_safe(client, auth):
    day = hostile_visits()
    answer = download(client, f"/api/checkins/export?day_from={day}&day_to={day}", auth(make_user("admin")), "xlsx")
    rows = xlsx_cells(answer.data)["明细"]
    assert_safe(rows)
    assert rows[1][:4] == ["到访编号", "日期", "时间", "场所"] and len(rows) == 2 + len(HOSTILE)
    got = [(r[3], r[5], r[6], r[10], r[11]) for r in rows[2:]]
    assert got == [tuple(xml(text) for text in expected) for expected in visit_expectations()]
    assert all(isinstance(r[0], int) for r in rows[2:])


def test_visits_csv_is_safe(client, auth):
    day = hostile_visits()
    answer = download(client, f"/api/checkins/export?day_from={day}&day_to={day}", auth(make_user("admin")), "csv")
    rows = csv_rows(answer.data)
    assert_safe(rows)
    assert rows[0][:4] == ["到访编号", "日期", "时间", "场所"] and len(rows) == 1 + len(HOSTILE)
    assert [(r[3], r[5], r[6], r[10], r[11]) for r in rows[1:]] == visit_expectations()


def test_a_stored_month_cannot_break_the_download_header(client, auth):
    staff, _, statement = hostile_statement()
    statement.month = "20\n6-01"  # a newline in a header value is refused by Werkzeug: it was a 500
    answer = download(client, f"/api/provider/statements/{statement.id}/export", auth(staff), "xlsx")
    assert answer.headers["Content-Disposition"].endswith(f'filename=statement-{statement.provider_id}-20_6-01.xlsx')
    summary = {row[0]: row[1] for row in xlsx_cells(answer.data)["汇总"]}
    assert summary["月份"] == "20\n6-01"
