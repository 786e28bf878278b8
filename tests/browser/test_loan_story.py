"""One 创业担保贷款 from the first question to the subsidy, on four phones at once: the entrepreneur
checks in at the 创贷之家 station with the poster (贷款咨询); the station's 专员 opens a case from that
visit in one tap, completes the application with them, runs the pre-check and asks for a document;
the entrepreneur uploads what is asked and submits; the administrator (1280 px) approves it and refers
it to the partner bank; the bank officer records the due diligence and pays the loan out, then hands
in the quarter's interest; the administrator approves the quarter's subsidy and marks it paid; and
the entrepreneur's timeline shows every step, who took it and when. Every page on the way is
screenshot."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from tests.browser.conftest import demo_login
from tests.browser.test_checkin_pages import as_wechat_opens, checkin_place, poster_url
from tests.browser.test_loan_pages import png

STATION = "创贷之家·古槐路驿站"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
SERVER_ENV = {"LOAN_NOTICE_DAYS": "0"}  # no 公示 period to wait out in a test


def phone(browser, live_server, viewport=PHONE):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url, accept_downloads=True)
    return context, context.new_page()


def last_quarter(today: date) -> tuple[int, int, date]:
    """The last finished quarter and its first day (the loan is paid out then, so it ran all quarter)."""
    year, quarter = (today.year, (today.month - 1) // 3) if today.month > 3 else (today.year - 1, 4)
    return year, quarter, date(year, 3 * quarter - 2, 1)


def act(page, action: str, **fields):
    page.get_by_test_id(f"action-{action}").click()
    for name, value in fields.items():
        box = page.get_by_test_id(f"act-{name}")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(label=value)
        else:
            box.fill(value)
    page.get_by_test_id("act-submit").click()


def test_a_loan_from_the_station_visit_to_the_paid_subsidy(browser, live_server, shot, tmp_path):
    entrepreneur_ctx, entrepreneur = phone(browser, live_server)
    staff_ctx, staff = phone(browser, live_server)
    admin_ctx, admin = phone(browser, live_server, DESKTOP)
    bank_ctx, bank = phone(browser, live_server)
    for page, role in ((entrepreneur, "entrepreneur"), (staff, "station_staff"), (admin, "admin"), (bank, "bank_staff")):
        demo_login(page, role)

    # 1. At the station: the entrepreneur scans the poster and checks in for 贷款咨询.
    entrepreneur.goto(as_wechat_opens(poster_url(live_server.url, STATION)))
    checkin_place(entrepreneur, STATION)
    entrepreneur.get_by_test_id("purpose-loan").click()
    entrepreneur.get_by_test_id("checkin-submit").click()
    expect(entrepreneur.get_by_test_id("checkin-result-title")).to_have_text("签到成功")
    shot(entrepreneur, "story-1-checkin-entrepreneur")

    # 2. The 专员 opens a case from the visit, completes it with the visitor, pre-checks, asks for a document.
    staff.goto("/#/admin-visits")
    row = staff.get_by_test_id("visit-row").filter(has_text="张**").filter(has=staff.get_by_test_id("visit-open-loan"))
    expect(row.get_by_test_id("visit-purpose")).to_have_text("贷款咨询")
    row.get_by_test_id("visit-open-loan").click()
    expect(staff.get_by_test_id("loan-case-head")).to_contain_text("张创业")
    expect(staff.get_by_test_id("loan-case-head")).to_contain_text(STATION)
    shot(staff, "story-2-case-opened-station")
    staff.get_by_test_id("action-edit").click()
    staff.get_by_test_id("loan-amount").fill("150000")
    staff.get_by_test_id("loan-term").fill("24")
    staff.get_by_test_id("loan-purpose").fill("开设社区烘焙店，购置烤箱和冷柜")
    staff.get_by_test_id("loan-identity").select_option("graduate")
    staff.get_by_test_id("loan-age").fill("26")
    staff.get_by_test_id("loan-save").click()
    expect(staff.get_by_test_id("loan-case-head")).to_contain_text("15万元")
    staff.get_by_test_id("action-precheck").click()
    staff.get_by_test_id("confirm-ok").click()
    expect(staff.get_by_test_id("precheck-result")).to_have_text("通过")
    expect(staff.get_by_test_id("loan-precheck")).to_contain_text("免除反担保")
    staff.get_by_test_id("action-request_documents").click()
    # the form starts with what the pre-check found missing
    expect(staff.get_by_test_id("kind-credit_auth")).to_have_attribute("aria-pressed", "true")
    staff.get_by_test_id("act-remark").fill("请本人签字后拍照上传")
    staff.get_by_test_id("act-submit").click()
    expect(staff.get_by_test_id("loan-state")).to_have_text("补正材料")
    shot(staff, "story-3-documents-asked-station")
    case_url = staff.url

    # 3. The entrepreneur, told, uploads what is asked (and the rest the rule needs) and submits.
    entrepreneur.goto("/#/notifications")
    expect(entrepreneur.get_by_text("创业担保贷款：要求补正材料")).to_be_visible()
    entrepreneur.goto("/#/loans")
    entrepreneur.locator("[data-testid^=my-loan-]").first.click()
    expect(entrepreneur.get_by_test_id("requested-documents")).to_contain_text("征信查询授权书")
    for kind, name in (("credit_auth", "征信授权书.png"), ("id_card", "身份证.png"), ("identity_proof", "毕业证.png")):
        entrepreneur.get_by_test_id("document-kind").select_option(kind)
        entrepreneur.get_by_test_id("document-input").set_input_files(str(png(tmp_path / name)))
        expect(entrepreneur.get_by_test_id(f"required-{kind}")).to_contain_text("已提交")
    shot(entrepreneur, "story-4-documents-uploaded-entrepreneur")
    entrepreneur.get_by_test_id("action-submit").click()
    entrepreneur.get_by_test_id("confirm-ok").click()
    expect(entrepreneur.get_by_test_id("loan-state")).to_have_text("人社审核")

    # 4. The administrator approves (公示) and refers the case to the partner bank.
    admin.goto(case_url)
    expect(admin.get_by_test_id("loan-state")).to_have_text("人社审核")
    act(admin, "approve", remark="材料齐全，符合条件")
    expect(admin.get_by_test_id("loan-state")).to_have_text("公示中")
    act(admin, "refer", bank_id="济宁银行")
    expect(admin.get_by_test_id("loan-state")).to_have_text("已转介银行")
    shot(admin, "story-5-referred-admin-1280")

    # 5. The bank: due diligence, then the loan paid out on the first day of the last finished quarter.
    year, quarter, paid_out = last_quarter(date.today())
    bank.goto(case_url)
    act(bank, "diligence", guarantee="免除反担保（青年创业，20万元以下）", remark="经营场所已实地查看")
    expect(bank.get_by_test_id("loan-state")).to_have_text("尽调/担保")
    act(bank, "disburse", approved_amount="150000", rate_bp="3.45", lpr_bp="3", term_months="24",
        disbursed_on=paid_out.isoformat())
    expect(bank.get_by_test_id("loan-state")).to_have_text("已放款")
    expect(bank.get_by_test_id("loan-approved")).to_have_text("¥150,000.00")
    shot(bank, "story-6-disbursed-bank")

    # 6. The bank hands in that quarter's interest; the subsidy is computed per loan.
    bank.goto("/#/loan-statements")
    bank.get_by_test_id("statement-new").click()
    bank.get_by_test_id("statement-year").select_option(str(year))
    bank.get_by_test_id("statement-quarter").select_option(str(quarter))
    line = bank.locator("[data-testid^=statement-line-]").filter(has_text="张创业")
    line.locator("[data-testid^=statement-pick-]").check()
    days = (last_quarter_end(year, quarter) - paid_out).days
    interest = round(150000 * 0.0345 * days / 360, 2)
    line.locator("[data-testid^=statement-interest-]").fill(f"{interest:.2f}")
    shot(bank, "story-7-statement-bank")
    bank.get_by_test_id("statement-submit").click()
    expect(bank.get_by_test_id("statement-state")).to_have_text("待审核")
    # Shandong: the borrower pays up to LPR − 150 bp (1.50 %), finance the rest of 3.45 %: 1.95 %
    fen = (15_000_000 * 195 * days * 2 + 3_600_000) // (2 * 3_600_000)  # exact, rounded half up once
    expect(bank.get_by_test_id("statement-subsidy-total")).to_have_text(f"¥{fen // 100:,}.{fen % 100:02d}")

    # 7. The administrator approves the quarter's subsidy and marks it paid.
    admin.goto("/#/loan-statements?state=submitted")
    admin.locator("[data-testid^=loan-statement-]").first.click()
    admin.get_by_test_id("statement-approve").click()
    admin.get_by_test_id("confirm-ok").click()
    expect(admin.get_by_test_id("statement-state")).to_have_text("已审核")
    admin.get_by_test_id("statement-pay").click()
    admin.get_by_test_id("confirm-ok").click()
    expect(admin.get_by_test_id("statement-state")).to_have_text("已拨付")
    shot(admin, "story-8-subsidy-paid-admin-1280")

    # 8. The entrepreneur's timeline: every step, who took it, when.
    entrepreneur.reload()
    expect(entrepreneur.get_by_test_id("loan-state")).to_have_text("已放款")  # the fresh case, not the cached one
    steps = entrepreneur.get_by_test_id("timeline-step")
    text = " ".join(steps.all_inner_texts())
    for step in ("开立案件", "修改申请", "预审", "要求补正材料", "上传材料", "提交人社审核", "审核通过并公示",
                 "转介银行", "尽调/担保", "放款"):
        assert step in text, (step, text)
    for who in ("驿站专员", "申请人", "人社部门", "合作银行"):
        assert who in text, (who, text)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    shot(entrepreneur, "story-9-timeline-entrepreneur")
    for context in (entrepreneur_ctx, staff_ctx, admin_ctx, bank_ctx):
        context.close()


def last_quarter_end(year: int, quarter: int) -> date:
    return date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
