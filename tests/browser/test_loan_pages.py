"""The 创业担保贷款 pages in Chromium against the real app and its demo cases, one role per test:
the entrepreneur applies online (the form refuses what the server refuses, in Chinese), runs the
pre-check and uploads a document; the 专员 opens a case from a 贷款咨询 visit in one tap and completes
the application with the visitor; the
administrator approves a case under review at 1280 px (the console's side navigation stays) and it
appears on the public 公示 list, which opens without signing in; the bank's loan officer lands on
their cases, disburses a loan through the action form (元 and % typed, fen and basis points sent) and,
when another officer moved a case a moment earlier, reads the server's 409 message and sees the case
reloaded; the bank's quarterly interest statements, and the administrator approves, pays and exports one.
Every page is screenshot (390 px; the bank's and the administrator's also at 1280 px)."""
from __future__ import annotations

import io
import struct
import zlib

import requests
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import demo_login, demo_token

DESKTOP = {"width": 1280, "height": 860}
DEMO_HISTORY = True  # the demo's visits, among them 贷款咨询 ones at the 专员's station


def png(path):
    """A small real PNG (the server checks uploads by content)."""
    raw = b"".join(b"\x00" + b"\xff\x80\x00" * 8 for _ in range(8))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def snap(shot, page, name: str):
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    expect(page.get_by_test_id("list-loading")).to_have_count(0)
    shot(page, name)


def open_case(page, name: str):
    """From the handler's list, the case of the applicant called `name`."""
    page.goto("/#/loan-cases")
    expect(page.get_by_test_id("page-loan-cases")).to_be_visible()
    page.locator("[data-testid^=loan-case-]").filter(has_text=name).first.click()
    expect(page.get_by_test_id("loan-case-head")).to_contain_text(name)


def case_id_of(base_url: str, role: str, name: str) -> int:
    token = demo_token(base_url, role)
    rows = requests.get(f"{base_url}/api/loans/cases?page_size=100", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).json()
    return next(r["id"] for r in rows if r["applicant_name"] == name)


def test_entrepreneur_applies_runs_the_precheck_and_uploads_a_document(page, shot, tmp_path):
    demo_login(page, "entrepreneur")
    page.get_by_test_id("open-loans").click()
    expect(page.get_by_test_id("page-loans")).to_contain_text("个人最高 30万元")
    expect(page.get_by_test_id("empty-state")).to_contain_text("还没有贷款申请")
    snap(shot, page, "loans-empty-390")

    page.get_by_test_id("loan-apply").click()
    page.get_by_test_id("loan-save").click()  # nothing filled: refused on the phone, in Chinese
    expect(page.get_by_test_id("error-amount")).to_have_text("请填写申请金额")
    expect(page.get_by_test_id("error-station_id")).to_have_text("请选择办理的创贷之家驿站")
    page.get_by_test_id("borrower-firm").click()
    page.get_by_test_id("loan-save").click()
    expect(page.get_by_test_id("error-org_name")).to_have_text("请填写企业名称")
    snap(shot, page, "loan-apply-errors-390")

    page.get_by_test_id("borrower-individual").click()
    expect(page.get_by_test_id("firm-fields")).to_have_count(0)
    page.get_by_test_id("loan-amount").fill("150000")
    page.get_by_test_id("loan-term").fill("24")
    page.get_by_test_id("loan-purpose").fill("开设社区烘焙店，购置设备")
    page.get_by_test_id("loan-identity").select_option("graduate")
    page.get_by_test_id("loan-age").fill("26")
    page.get_by_test_id("loan-station").select_option(index=1)
    page.get_by_test_id("loan-save").click()

    head = page.get_by_test_id("loan-case-head")
    expect(head).to_contain_text("15万元")  # 150000 元 typed, 15,000,000 fen sent and shown back
    expect(page.get_by_test_id("loan-state")).to_have_text("咨询")
    expect(page.get_by_test_id("timeline-step")).to_have_count(1)
    snap(shot, page, "loan-case-new-390")

    page.get_by_test_id("action-precheck").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("precheck-result")).to_have_text("通过")
    expect(page.get_by_test_id("loan-state")).to_have_text("预审通过")
    expect(page.get_by_test_id("loan-precheck").locator("li").first).to_contain_text("申请 15 万元")
    expect(page.get_by_test_id("precheck-bring")).to_contain_text("身份证")

    page.get_by_test_id("document-upload").click()  # no kind chosen yet: asked for one first
    expect(page.get_by_test_id("toast")).to_have_text("请先选择材料类型")
    page.get_by_test_id("document-kind").select_option("id_card")
    page.get_by_test_id("document-input").set_input_files(str(png(tmp_path / "身份证.png")))
    expect(page.get_by_test_id("required-id_card")).to_contain_text("已提交")
    expect(page.get_by_test_id("precheck-bring")).not_to_contain_text("身份证")
    expect(page.locator("[data-testid^=document-]").filter(has_text="身份证.png")).to_have_count(1)
    snap(shot, page, "loan-case-precheck-upload-390")

    page.goto("/#/loans")
    expect(page.locator("[data-testid^=my-loan-]")).to_have_count(1)
    expect(page.get_by_test_id("loan-state")).to_have_text("预审通过")
    snap(shot, page, "loans-mine-390")


def test_station_staff_opens_a_case_from_a_loan_visit_in_one_tap(page, shot):
    demo_login(page, "station_staff")
    page.get_by_test_id("open-loan-cases").click()
    expect(page.get_by_test_id("page-loan-cases")).to_contain_text("您负责的创贷之家驿站的案件")
    snap(shot, page, "loan-cases-station-390")

    page.goto("/#/admin-visits")
    button = page.get_by_test_id("visit-open-loan").first
    expect(button).to_be_visible()  # only on 贷款咨询 visits
    purpose = page.get_by_test_id("visit-row").filter(has=page.get_by_test_id("visit-open-loan")).first
    expect(purpose.get_by_test_id("visit-purpose")).to_have_text("贷款咨询")
    button.click()
    expect(page.get_by_test_id("page-loan-case")).to_be_visible()
    expect(page.get_by_test_id("loan-case-head")).to_contain_text("创贷之家")
    expect(page.get_by_test_id("timeline-step").first).to_contain_text("驿站专员")
    expect(page.get_by_test_id("loan-incomplete")).to_be_visible()  # no amount, term or purpose yet
    snap(shot, page, "loan-case-from-visit-390")

    # The 专员 completes the application with the visitor, then runs the pre-check with them.
    page.get_by_test_id("action-edit").click()
    expect(page.get_by_test_id("page-loan-apply")).to_be_visible()
    page.get_by_test_id("loan-amount").fill("100000")
    page.get_by_test_id("loan-term").fill("36")
    page.get_by_test_id("loan-purpose").fill("早餐店装修和设备")
    page.get_by_test_id("loan-identity").select_option("returnee")
    page.get_by_test_id("loan-age").fill("38")
    page.get_by_test_id("loan-save").click()
    expect(page.get_by_test_id("loan-case-head")).to_contain_text("10万元")
    expect(page.get_by_test_id("loan-incomplete")).to_have_count(0)
    page.get_by_test_id("action-precheck").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("precheck-result")).to_be_visible()
    snap(shot, page, "loan-case-from-visit-prechecked-390")


def test_admin_approves_at_the_console_and_the_notice_list_is_public(browser, live_server, shot):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    page = context.new_page()
    demo_login(page, "admin")
    open_case(page, "李青禾")  # the demo case under review
    expect(page.get_by_test_id("admin-nav")).to_be_visible()
    expect(page.get_by_test_id("loan-state")).to_have_text("人社审核")
    page.get_by_test_id("action-approve").click()
    page.get_by_test_id("act-remark").fill("材料齐全")
    page.get_by_test_id("act-submit").click()
    expect(page.get_by_test_id("loan-state")).to_have_text("公示中")
    expect(page.get_by_test_id("timeline-step").first).to_contain_text("材料齐全")
    snap(shot, page, "loan-case-approved-1280")
    page.goto("/#/loan-cases?state=notice")
    expect(page.locator("[data-testid^=loan-case-]")).to_have_count(2)
    snap(shot, page, "loan-cases-admin-1280")
    context.close()

    anonymous = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = anonymous.new_page()
    page.goto("/#/loan-notice")
    expect(page.get_by_test_id("notice-row")).to_have_count(2)
    expect(page.get_by_test_id("loan-notice-table")).to_contain_text("李**")  # masked
    expect(page.get_by_test_id("loan-notice-table")).not_to_contain_text("李青禾")
    snap(shot, page, "loan-notice-anonymous-390")
    anonymous.close()


def test_bank_officer_disburses_and_a_case_moved_meanwhile_reloads(page, shot, live_server):
    demo_login(page, "bank_staff")
    expect(page.get_by_test_id("page-loan-cases")).to_contain_text("转介到本行")
    expect(page.get_by_test_id("loan-cases-total")).to_have_text("共 4 件")  # only the cases referred to the bank
    snap(shot, page, "loan-cases-bank-390")

    open_case(page, "郑一帆")  # in 尽调/担保
    page.get_by_test_id("action-disburse").click()
    expect(page.get_by_test_id("act-approved_amount")).to_have_value("200000")  # the amount asked, in 元
    page.get_by_test_id("act-rate_bp").fill("3.456")
    page.get_by_test_id("act-lpr_bp").fill("3.1")
    page.get_by_test_id("act-submit").click()
    expect(page.get_by_test_id("act-error-rate_bp")).to_contain_text("0.01–100")
    page.get_by_test_id("act-rate_bp").fill("3.45")
    page.get_by_test_id("act-submit").click()
    expect(page.get_by_test_id("loan-state")).to_have_text("已放款")
    expect(page.get_by_test_id("loan-approved")).to_have_text("¥200,000.00")
    expect(page.get_by_test_id("loan-rate")).to_contain_text("3.45%")
    expect(page.get_by_test_id("loan-rate")).to_contain_text("LPR 3.1%")
    snap(shot, page, "loan-case-disbursed-390")

    # Another officer records the cure of the overdue loan a moment before this one does.
    case_id = case_id_of(live_server.url, "bank_staff", "陈思远")
    page.goto(f"/#/loan-case?id={case_id}")
    expect(page.get_by_test_id("loan-state")).to_have_text("逾期")
    answer = requests.post(f"{live_server.url}/api/loans/cases/{case_id}/cure", json={"on": "2026-12-01", "remark": ""},
                           headers={"Authorization": f"Bearer {demo_token(live_server.url, 'bank_staff')}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.get_by_test_id("action-cure").click()
    page.get_by_test_id("act-submit").click()
    expect(page.get_by_test_id("toast")).to_contain_text("还款中")  # the server's 409 message, in Chinese
    expect(page.get_by_test_id("loan-state")).to_have_text("还款中")  # reloaded
    expect(page.get_by_test_id("action-cure")).to_have_count(0)

    page.set_viewport_size(DESKTOP)
    page.goto("/#/loan-cases")
    expect(page.get_by_test_id("loan-cases-total")).to_have_text("共 4 件")
    snap(shot, page, "loan-cases-bank-1280")


def test_bank_statements_and_the_administrator_approves_pays_and_exports(browser, live_server, shot):
    """The demo bank handed in the last two finished quarters (the older one paid). The officer sees
    both, cannot approve; a new statement needs each picked loan's interest, and the quarter already
    handed in is refused with the server's message. The administrator approves the waiting one,
    marks it paid and downloads its XLSX."""
    bank = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
                               base_url=live_server.url)
    page = bank.new_page()
    demo_login(page, "bank_staff")
    page.get_by_test_id("tab-loan-statements").click()
    expect(page.locator("[data-testid^=loan-statement-]")).to_have_count(2)
    snap(shot, page, "loan-statements-bank-390")

    page.get_by_test_id("statement-new").click()
    line = page.locator("[data-testid^=statement-line-]").filter(has_text="冯启航")
    line.locator("[data-testid^=statement-pick-]").check()
    page.get_by_test_id("statement-submit").click()
    expect(line.get_by_role("alert")).to_have_text("请填写当季利息（元，最多两位小数）")
    line.locator("[data-testid^=statement-interest-]").fill("1725.5")
    snap(shot, page, "loan-statement-new-390")
    page.get_by_test_id("statement-submit").click()
    expect(page.get_by_test_id("toast")).to_contain_text("已报送")  # that quarter is in already (409)

    page.goto("/#/loan-statements?state=submitted")
    page.locator("[data-testid^=loan-statement-]").first.click()
    expect(page.get_by_test_id("statement-state")).to_have_text("待审核")
    expect(page.get_by_test_id("statement-line").first).to_be_visible()
    expect(page.get_by_test_id("statement-approve")).to_have_count(0)  # a bank officer cannot approve
    snap(shot, page, "loan-statement-bank-390")
    bank.close()

    admin = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                base_url=live_server.url, accept_downloads=True)
    page = admin.new_page()
    demo_login(page, "admin")
    page.goto("/#/loan-statements?state=submitted")
    page.locator("[data-testid^=loan-statement-]").first.click()
    subsidy = page.get_by_test_id("statement-subsidy-total").inner_text()
    assert subsidy.startswith("¥") and subsidy != "¥0.00"
    names = set(page.get_by_test_id("statement-line").locator("td:nth-child(2)").all_inner_texts())
    page.get_by_test_id("statement-approve").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("statement-state")).to_have_text("已审核")
    page.get_by_test_id("statement-pay").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("statement-state")).to_have_text("已拨付")
    expect(page.get_by_test_id("statement-pay")).to_have_count(0)
    snap(shot, page, "loan-statement-paid-1280")
    with page.expect_download() as download:
        page.get_by_test_id("statement-xlsx").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if row[0] == "案件编号")  # under the workbook's title
    assert rows[top][:3] == ("案件编号", "借款人", "申报利息（元）")
    assert {row[1] for row in rows[top + 1:top + 1 + len(names)]} == names
    admin.close()
