"""场所管理 in Chromium, at desktop and phone widths: the admin finds places (open and closed), creates
one through the form (its mistakes explained first), prints its poster — the A4 PDF and the PNG, whose
QR is decoded with zxing-cpp and is this server's own address + /c/… (no PUBLIC_BASE_URL set: the
address follows the port the app is served on) — edits its opening hours, closes it (gone from the
public list, no poster) and opens it again. The place page shows its upcoming events and no stale
即将开放. Every screen is screenshot."""
from __future__ import annotations

import io
import re

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, demo_login, demo_token

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=["desktop", "phone"])
def width(request):
    return request.param


@pytest.fixture
def admin_page(browser, live_server, width):
    context = browser.new_context(viewport=DESKTOP if width == "desktop" else PHONE, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=live_server.url, device_scale_factor=1,
                                  accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def snap(shot, page, name: str):
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def downloaded(page, button) -> tuple[str, bytes]:
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_create_print_edit_close_and_reopen_a_place(admin_page, live_server, shot, width):
    page, base = admin_page, live_server.url
    name = f"创贷之家·兖州{'桌面' if width == 'desktop' else '手机'}驿站"

    demo_login(page, "admin")
    page.get_by_test_id("admin-places").click()
    expect(page.get_by_test_id("page-admin-places")).to_be_visible()
    expect(page.get_by_test_id("place-total")).to_have_text(re.compile(r"共 \d+ 个场所"))
    expect(page.get_by_test_id("place-list")).to_contain_text("创贷之家·古槐路驿站")
    snap(shot, page, f"admin-places-list-{width}")

    # filters: 已关闭 (none yet in the demo) says what to do; 创贷之家 lists only stations
    page.get_by_test_id("place-state-closed").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("没有符合条件的场所")
    page.get_by_test_id("place-state-all").click()
    page.get_by_test_id("place-kind-loan_station").click()
    expect(page.get_by_test_id("place-list")).not_to_contain_text("喵小创")
    expect(page.get_by_test_id("place-list")).to_contain_text("驿站")

    # --- 新建场所: the mistakes first, then a good form ------------------------------------------------
    page.get_by_test_id("place-new").click()
    expect(page.get_by_test_id("page-admin-place-edit")).to_be_visible()
    page.get_by_test_id("field-lat").fill("35.55")
    page.get_by_test_id("field-phone").fill("电话")
    page.get_by_test_id("place-save").click()
    expect(page.get_by_test_id("error-kind")).to_have_text("请选择场所类型")
    expect(page.get_by_test_id("error-name")).to_have_text("请输入 2 到 128 个字的场所名称")
    expect(page.get_by_test_id("error-district")).to_have_text("请选择所在区县")
    expect(page.get_by_test_id("error-lng")).to_have_text("经纬度需要同时填写，或都不填")
    expect(page.get_by_test_id("error-phone")).to_contain_text("联系电话只能包含数字")
    snap(shot, page, f"admin-place-form-errors-{width}")

    page.get_by_test_id("field-kind").select_option("loan_station")
    page.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("field-district").select_option("370812")
    page.get_by_test_id("field-operator").fill("兖州农商银行")
    page.get_by_test_id("field-address").fill("济宁市兖州区建设东路 9 号")
    page.get_by_test_id("field-lng").fill("116.78")
    page.get_by_test_id("field-opening_hours").fill("周一至周五 9:00-17:00")
    page.get_by_test_id("field-phone").fill("0537-3400000")
    page.get_by_test_id("field-service-贷款咨询").check()
    page.get_by_test_id("field-service-政策咨询").check()
    snap(shot, page, f"admin-place-form-{width}")
    page.get_by_test_id("place-save").click()

    # --- the place's page: details, poster ---------------------------------------------------------
    expect(page.get_by_test_id("admin-place-name")).to_have_text(name)
    expect(page.get_by_test_id("admin-place-state")).to_have_text("开放中")
    expect(page.get_by_test_id("page-admin-place")).to_contain_text("兖州区")
    expect(page.get_by_test_id("page-admin-place")).to_contain_text("贷款咨询、政策咨询")
    preview = page.get_by_test_id("poster-preview")
    expect(preview).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth === 750", arg=preview.element_handle())
    place_id = int(re.search(r"id=(\d+)", page.url).group(1))
    snap(shot, page, f"admin-place-detail-{width}")

    filename, pdf = downloaded(page, page.get_by_test_id("poster-pdf"))
    assert filename == f"poster-{place_id}-a4.pdf"
    assert pdf.startswith(b"%PDF-")
    box = re.search(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", pdf)
    assert box and abs(float(box.group(1)) - 595.2) < 1 and abs(float(box.group(2)) - 841.92) < 1  # A4

    filename, png = downloaded(page, page.get_by_test_id("poster-png"))
    assert filename == f"poster-{place_id}-print.png"
    image = Image.open(io.BytesIO(png))
    assert image.size == (2480, 3508)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    url = found[0].text
    assert url.startswith(base + "/c/"), url  # this server's own address and port: no PUBLIC_BASE_URL set
    verified = requests.post(base + "/api/codes/verify", json={"code": url, "expect": "place"},
                             headers={"Authorization": f"Bearer {demo_token(base, 'admin')}"}, timeout=10)
    assert verified.status_code == 200 and verified.json()["fields"] == {"place_id": place_id}, verified.text
    image.convert("RGB").resize((620, 877)).save(SHOTS / f"poster-loan-station-{width}.png")  # to look at

    # --- 编辑: new opening hours -------------------------------------------------------------------
    page.get_by_test_id("place-edit").click()
    expect(page.get_by_test_id("field-name")).to_have_value(name)
    page.get_by_test_id("field-opening_hours").fill("每天 8:30-18:00")
    page.get_by_test_id("place-save").click()
    expect(page.get_by_test_id("admin-place-hours")).to_have_text("每天 8:30-18:00")

    # --- 关闭场所: gone from the public list, no poster; 重新开放 brings it back -------------------------
    page.get_by_test_id("place-toggle").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text(name)
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("admin-place-state")).to_have_text("已关闭")
    expect(page.get_by_test_id("poster-closed")).to_be_visible()
    expect(page.get_by_test_id("poster-pdf")).to_have_count(0)
    snap(shot, page, f"admin-place-closed-{width}")
    public = requests.get(base + "/api/places", params={"q": name}, timeout=5).json()
    assert public == []
    assert requests.get(f"{base}/api/places/{place_id}/poster.png", timeout=10).status_code == 404
    page.get_by_test_id("place-toggle").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("admin-place-state")).to_have_text("开放中")
    expect(page.get_by_test_id("poster-preview")).to_be_visible()
    assert [p["name"] for p in requests.get(base + "/api/places", params={"q": name}, timeout=5).json()] == [name]

    # the list shows the state, and 已关闭 holds nothing again
    page.goto("/#/admin-places")
    expect(page.get_by_test_id(f"admin-place-{place_id}")).to_have_attribute("data-state", "open")


def test_the_place_page_shows_its_upcoming_events(page, live_server, shot):
    base = live_server.url
    space = requests.get(base + "/api/places", params={"kind": "space"}, timeout=5).json()[0]
    events = requests.get(base + "/api/events", params={"place_id": space["id"], "page_size": 5}, timeout=5).json()
    assert events, "the demo space has upcoming events"
    demo_login(page, "entrepreneur")
    page.goto(f"/#/place-detail?id={space['id']}")
    listed = page.get_by_test_id("place-events")
    expect(listed).to_have_attribute("data-state", "ready")
    for event in events:
        expect(page.get_by_test_id(f"place-event-{event['id']}")).to_contain_text(event["title"])
    expect(page.get_by_test_id("page-place-detail")).not_to_contain_text("即将开放")
    snap(shot, page, "place-detail-events-phone")
    page.get_by_test_id(f"place-event-{events[0]['id']}").click()
    expect(page.get_by_test_id("page-event-detail")).to_be_visible()

    station = requests.get(base + "/api/places", params={"kind": "loan_station"}, timeout=5).json()[0]
    page.goto(f"/#/place-detail?id={station['id']}")
    expect(page.get_by_test_id("place-events-empty")).to_contain_text("这里近期没有活动")
    snap(shot, page, "place-detail-no-events-phone")
