"""Two app servers with their own instance folders behind nginx share everything through PostgreSQL:
a personal code whose credential server 1 signed verifies on server 2, an upload made through server 1
is served by server 2, a key rotated (by the CLI, as an operator would) is published by both at once,
and neither server's instance folder holds a key or an uploaded file (tests/ops/test_shared_state.py
proves the same in one process; this is the deployed shape)."""
from __future__ import annotations

import io
import time

import requests
from PIL import Image


def _both_alive(stack):
    for index, process in enumerate(stack.servers):
        if not process.alive():  # test_failover kills server 1 and leaves it
            stack.start_server(index)
            stack.wait_server(index)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (7, 193, 96)).save(out, "PNG")
    return out.getvalue()


def test_two_servers_share_keys_uploads_and_rotation(stack, stack_app):
    from flask_jwt_extended import create_access_token

    from backend.core import codes
    from backend.extensions import db
    from tests.factories import make_entrepreneur, make_user, p256_key, p256_public_b64

    _both_alive(stack)
    one, two = (f"http://127.0.0.1:{port}" for port in stack.ports)
    with stack_app():
        person, admin = make_entrepreneur(), make_user("admin")
        db.session.commit()
        person_auth = {"Authorization": f"Bearer {create_access_token(identity=str(person.id))}"}
        admin_auth = {"Authorization": f"Bearer {create_access_token(identity=str(admin.id))}"}

    key = p256_key()
    registered = requests.post(one + "/api/me/devices", json={"public_key": p256_public_b64(key), "name": "测试手机"},
                               headers=person_auth, timeout=10)
    assert registered.status_code == 201, registered.text
    code = codes.to_text(codes.encode_personal(codes.from_text(registered.json()["credential"]), device_key=key,
                                               purpose=codes.Purpose.identify, ts=int(time.time())))
    verified = requests.post(two + "/api/codes/verify", json={"code": code, "expect": "personal"}, headers=admin_auth,
                             timeout=10)
    assert verified.status_code == 200, verified.text
    assert verified.json()["type"] == "personal"

    picture = requests.post(one + "/api/uploads", files={"file": ("shop.png", _png(), "image/png")},
                            headers=person_auth, timeout=10)
    assert picture.status_code == 201, picture.text
    served = requests.get(two + f"/api/uploads/{picture.json()['id']}", headers=person_auth, timeout=10)
    assert served.status_code == 200 and Image.open(io.BytesIO(served.content)).size == (64, 48)  # re-encoded
    again = requests.get(one + f"/api/uploads/{picture.json()['id']}", headers=person_auth, timeout=10)
    assert again.content == served.content and again.headers["ETag"] == served.headers["ETag"]

    kids = lambda base: sorted(k["kid"] for k in requests.get(base + "/api/keys", timeout=10).json())
    before = kids(one)
    assert before == kids(two) and before
    stack.flask("keys", "rotate")
    after_one, after_two = kids(one), kids(two)
    assert after_one == after_two and len(after_one) == len(before) + 1

    for index in (1, 2):
        instance = stack.run / f"server-{index}" / "instance"
        left = sorted(p.name for p in instance.rglob("*") if p.is_file())
        assert not [name for name in left if name.endswith((".png", ".jpg", ".pem", ".key", ".json"))], left
