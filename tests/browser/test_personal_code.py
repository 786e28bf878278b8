"""The personal code (个人码) in Chromium: made on the phone, shown with the network off, read back
from the screenshot's pixels and verified by the Python reference (backend/core/codes.py); too old
once the window has passed; refused by the server once the device is removed."""
from __future__ import annotations

import base64
import json
import re
import time

import pytest
import requests
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ed25519
from PIL import Image
from playwright.sync_api import expect

from backend.core import codes
from backend.core.codes import CodeError
from tests.browser.conftest import SHOTS

WINDOW, SKEW = 30, 20  # the app's defaults (PERSONAL_CODE_WINDOW / PERSONAL_CODE_SKEW)


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def server_keys(base_url: str) -> dict:
    listing = requests.get(base_url + "/api/keys", timeout=5).json()
    return {k["kid"]: ed25519.Ed25519PublicKey.from_public_bytes(b64decode(k["public_key"]))
            for k in listing if k["alg"] == "Ed25519"}


def local_storage(page, key: str):
    return page.evaluate("(key) => localStorage.getItem(key)", key)


def shown_code(page) -> str:
    qr = page.get_by_test_id("personal-qr")
    expect(qr).to_have_attribute("data-code", re.compile(r"^CY:"))
    return qr.get_attribute("data-code")


def wait_for_new_code(page, old: str) -> str:
    page.wait_for_function(
        """(old) => {
            const qr = document.querySelector('[data-testid=personal-qr]')
            return qr && qr.dataset.code && qr.dataset.code.startsWith('CY:') && qr.dataset.code !== old
        }""", arg=old, timeout=15_000)
    return shown_code(page)


def decode_qr(path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path)) if r.format == zxingcpp.BarcodeFormat.QRCode]


def staff_verify(base_url: str, text: str):
    token = requests.post(base_url + "/api/auth/demo-login", json={"role": "station_staff"}, timeout=5).json()["access_token"]
    return requests.post(base_url + "/api/codes/verify", json={"code": text, "expect": "personal"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_personal_code_offline_verified_from_pixels_and_revoked(page, context, live_server, shot):
    # Sign in as the demo entrepreneur and open the code once online: the phone registers its key.
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    expect(page.get_by_test_id("page-home")).to_be_visible()
    expect(page.get_by_test_id("open-personal-code")).to_contain_text("我的个人码")
    shot(page, "home-entrepreneur-personal-code-entry")
    page.get_by_test_id("open-personal-code").click()
    online_code = shown_code(page)
    expect(page.locator(".nav-bar__title")).to_have_text("我的个人码")
    # the service worker controls the page, so the shell opens with no network
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)

    me = json.loads(local_storage(page, "cyql.user"))
    token = local_storage(page, "cyql.access_token")
    demo = next(a for a in requests.get(live_server.url + "/api/auth/demo-accounts", timeout=5).json()
                if a["role"] == "entrepreneur")
    assert me["name"] == demo["name"]
    expect(page.get_by_test_id("personal-name")).to_have_text(me["name"][0] + "*" * (len(me["name"]) - 1))

    # Network off, reload: the shell comes from the service worker, the code from this phone.
    context.set_offline(True)
    page.reload()
    offline_code = wait_for_new_code(page, online_code)
    expect(page.get_by_test_id("personal-offline")).to_be_visible()
    expect(page.get_by_test_id("personal-countdown")).to_have_text(re.compile(r"^(1?\d|20)$"))
    shot(page, "personal-code-offline")
    texts = decode_qr(SHOTS / "personal-code-offline.png")
    after = shown_code(page)
    assert texts, "no QR code found in the screenshot"
    text = texts[0]
    assert text in (offline_code, after), "the QR pixels do not carry the code the page says it shows"

    keys = server_keys(live_server.url)
    data = codes.from_text(text)
    personal = codes.verify_personal(data, keys=keys, now=time.time(), window=WINDOW, skew=SKEW)
    assert personal.user_id == me["id"]
    assert personal.purpose.name == page.get_by_test_id("personal-qr").get_attribute("data-purpose") == "identify"
    assert abs(personal.ts - time.time()) < WINDOW + SKEW
    device_id = personal.device_id

    # The same bytes once the window (and the skew) has passed: a screenshot stops working.
    with pytest.raises(CodeError) as err:
        codes.verify_personal(data, keys=keys, now=time.time() + WINDOW + SKEW + 1, window=WINDOW, skew=SKEW)
    assert err.value.code == "expired"

    # 付款码, still offline: same device, purpose pay, titled as such.
    page.get_by_test_id("switch-purpose").click()
    expect(page.get_by_test_id("page-personal-code")).to_have_attribute("data-purpose", "pay")
    expect(page.locator(".nav-bar__title")).to_have_text("付款码")
    pay = codes.verify_personal(codes.from_text(shown_code(page)), keys=keys, now=time.time())
    assert (pay.purpose.name, pay.device_id, pay.user_id) == ("pay", device_id, me["id"])
    shot(page, "personal-code-pay-offline")
    page.emulate_media(color_scheme="dark")
    shot(page, "personal-code-pay-dark")
    page.emulate_media(color_scheme="light")

    # Back online: 我的设备 lists this phone as 本机.
    context.set_offline(False)
    page.get_by_test_id("open-devices").click()
    current = page.get_by_test_id("device-item").filter(has=page.get_by_test_id("device-current"))
    expect(current).to_have_attribute("data-device-id", str(device_id))
    expect(current).to_contain_text("本机")
    shot(page, "devices")
    page.go_back()

    # A fresh code passes the server's online check; after the device is removed it is refused.
    fresh = shown_code(page)
    ok = staff_verify(live_server.url, fresh)
    assert ok.status_code == 200, ok.text
    assert ok.json()["user"]["id"] == me["id"] and ok.json()["device_id"] == device_id

    gone = requests.delete(f"{live_server.url}/api/me/devices/{device_id}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert gone.status_code == 204, gone.text
    refused = staff_verify(live_server.url, fresh)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "revoked"

    # Opened again online, the phone notices (after first showing what it has) and registers a new key.
    page.reload()
    expect(page.get_by_test_id("personal-qr")).not_to_have_attribute("data-device-id", str(device_id), timeout=15_000)
    renewed = codes.verify_personal(codes.from_text(shown_code(page)), keys=keys, now=time.time())
    assert renewed.device_id != device_id and renewed.user_id == me["id"]
    assert page.get_by_test_id("personal-qr").get_attribute("data-device-id") == str(renewed.device_id)


def test_personal_code_asks_for_the_network_once(page, context, shot):
    """Signed in, but never opened the code while online: offline there is nothing to sign with yet."""
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    expect(page.get_by_test_id("page-home")).to_be_visible()
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    page.get_by_test_id("open-personal-code").click()
    expect(page.get_by_test_id("personal-need-network")).to_contain_text("请先联网一次")
    expect(page.get_by_test_id("personal-qr")).to_have_count(0)
    shot(page, "personal-code-need-network")
    context.set_offline(False)  # the page hears `online`, registers this phone and shows the code
    expect(page.get_by_test_id("personal-qr")).to_have_attribute("data-code", re.compile(r"^CY:"))
