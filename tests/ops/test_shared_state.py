"""Nothing an app server writes to its own disk is needed by another: two app objects, each with an
instance folder of its own, on one PostgreSQL database (as two gunicorn servers behind nginx are).
A personal code's credential signed on one verifies on the other; an upload made through one is
served by the other; a poster drawn by either is the same file with the same ETag; a key rotated on
one is published by both at once and signs on both within the stated bound; and the instance folders
stay empty."""
from __future__ import annotations

import io
import os
import time
import uuid

import flask_migrate
import psycopg
import pytest
from flask_jwt_extended import create_access_token
from PIL import Image

from backend import create_app
from backend.core import codes, keys, signing
from backend.core.codes import CodeType, Purpose
from backend.core.errors import DomainError
from backend.extensions import db
from tests.conftest import PG_ADMIN_URL, TEST_SECRETS
from tests.factories import make_place, make_user, p256_key, p256_public_b64

pytestmark = pytest.mark.postgres_only


class Clock:
    """A monotonic clock a test moves by hand (each app's key ring reads it)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two apps ("server A" and "server B") on one fresh PostgreSQL database, instance folders apart."""
    name = f"cyql_shared_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    previous = os.environ.get("INSTANCE_PATH")
    apps = []
    try:
        for label in ("a", "b"):
            os.environ["INSTANCE_PATH"] = str(tmp_path_factory.mktemp(f"instance-{label}"))
            app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                              "PUBLIC_BASE_URL": "https://cyql.example.cn", **TEST_SECRETS})
            if label == "a":
                with app.app_context():
                    flask_migrate.upgrade()
                keys.startup(app)  # what the first server start does: the first key (development)
            app.extensions["keyring"].clock = Clock()
            apps.append(app)
        yield tuple(apps)
    finally:
        for app in apps:
            with app.app_context():
                db.engine.dispose()
        if previous is not None:
            os.environ["INSTANCE_PATH"] = previous
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def committed(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def headers(app, user_id: int) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_access_token(identity=str(user_id))}"}


def instance_files(app) -> list[str]:
    root = app.instance_path
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def test_a_credential_signed_on_one_server_verifies_on_the_other(servers):
    a, b = servers
    holder = committed(a, lambda: make_user(name="张三丰").id)
    staff = committed(a, lambda: make_user("station_staff").id)
    key = p256_key()
    registered = a.test_client().post("/api/me/devices", headers=headers(a, holder),
                                      json={"public_key": p256_public_b64(key), "name": "iPhone"})
    assert registered.status_code == 201, registered.get_json()
    credential = registered.get_json()["credential"]
    code = codes.to_text(codes.encode_personal(codes.from_text(credential), device_key=key, purpose=Purpose.pay,
                                               ts=int(time.time())))
    answer = b.test_client().post("/api/codes/verify", headers=headers(b, staff),
                                  json={"code": code, "expect": "personal"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["user"] == {"id": holder, "name_masked": "张**"}
    assert answer.get_json()["purpose"] == "pay"


def test_an_upload_made_through_one_server_is_served_by_the_other(servers):
    a, b = servers
    owner = committed(a, lambda: make_user().id)
    image = io.BytesIO()
    Image.new("RGB", (320, 200), (7, 193, 96)).save(image, "PNG")
    made = a.test_client().post("/api/uploads", headers=headers(a, owner), content_type="multipart/form-data",
                                data={"file": (io.BytesIO(image.getvalue()), "营业执照.png")})
    assert made.status_code == 201, made.get_json()
    upload_id = made.get_json()["id"]
    on_a = a.test_client().get(f"/api/uploads/{upload_id}", headers=headers(a, owner))
    on_b = b.test_client().get(f"/api/uploads/{upload_id}", headers=headers(b, owner))
    assert on_b.status_code == 200 and on_b.mimetype == "image/jpeg"  # an opaque image is kept as JPEG
    assert on_b.data == on_a.data and Image.open(io.BytesIO(on_b.data)).size == (320, 200)
    assert on_b.headers["ETag"] == on_a.headers["ETag"] and "private" in on_b.headers["Cache-Control"]
    again = b.test_client().get(f"/api/uploads/{upload_id}", headers={**headers(b, owner),
                                                                      "If-None-Match": on_a.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_both_servers_draw_the_same_poster_with_the_same_etag(servers):
    a, b = servers
    place_id = committed(a, lambda: make_place(name="创贷之家·任城区济阳街道驿站").id)
    on_a = a.test_client().get(f"/api/places/{place_id}/poster.png")
    on_b = b.test_client().get(f"/api/places/{place_id}/poster.png")
    assert on_a.status_code == on_b.status_code == 200
    assert on_a.data == on_b.data  # same key, same data: Ed25519 signs deterministically
    assert on_a.headers["ETag"] == on_b.headers["ETag"]  # a client's revalidation works whichever answers
    assert b.test_client().get(f"/api/places/{place_id}/poster.png",
                               headers={"If-None-Match": on_a.headers["ETag"]}).status_code == 304


def test_a_key_rotated_on_one_server_is_published_by_both(servers):
    a, b = servers
    kids = lambda app: [k["kid"] for k in app.test_client().get("/api/keys").get_json()]  # noqa: E731
    before = kids(a)
    assert kids(b) == before
    with b.app_context():
        old_code = signing.sign_text(CodeType.place, {"place_id": 7})  # B has its copy of the keys now
        old_kid = keys.keyring().signer()[0]
    result = a.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    new_kid = max(before) + 1
    assert kids(a) == kids(b) == before + [new_kid]  # published by both at once: /api/keys reads the table

    with a.app_context():
        new_code = signing.sign_text(CodeType.place, {"place_id": 7})
        assert codes.parse_signed(codes.from_text(new_code)).kid == new_kid
    with b.app_context():
        ring = keys.keyring()
        assert signing.verify(new_code, expect="place").fields == {"place_id": 7}  # an unknown newer kid re-reads
        ring.clock.now += 1
        assert ring.signer()[0] == new_kid  # that re-read also moved B's signing to the new key

    retired = a.test_cli_runner().invoke(args=["keys", "retire", str(old_kid)])
    assert retired.exit_code == 0, retired.output
    with b.app_context():
        ring = keys.keyring()
        assert signing.verify(old_code, expect="place").kid == old_kid  # B's copy: still trusted, for now
        ring.clock.now += a.config["SIGNING_KEYS_REFRESH_SECONDS"]
        with pytest.raises(DomainError) as refused:
            signing.verify(old_code, expect="place")
        assert refused.value.code == "unknown_key"  # within the bound, B stops trusting it too
    assert kids(a) == kids(b) == [new_kid]


def test_a_key_rotated_elsewhere_signs_here_within_the_bound(servers):
    a, b = servers
    with b.app_context():
        ring = keys.keyring()
        ring.forget()
        signing_kid = ring.signer()[0]
    assert a.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    with b.app_context():
        ring.clock.now += a.config["SIGNING_KEYS_REFRESH_SECONDS"] - 1
        assert ring.signer()[0] == signing_kid  # the older key, still active, signs until the copy is stale
        ring.clock.now += 1
        assert ring.signer()[0] == signing_kid + 1


def test_the_private_keys_are_encrypted_at_rest(servers):
    a, _ = servers
    with a.app_context():
        rows = db.session.scalars(db.select(keys.SigningKey)).all()
        assert rows and all(row.private_key.startswith("gAAAAA") for row in rows)  # Fernet tokens
        stolen = rows[0].private_key.encode()
    from cryptography.fernet import Fernet, InvalidToken

    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(stolen)


def test_nothing_was_written_to_either_servers_disk(servers):
    for app in servers:
        assert instance_files(app) == [], app.instance_path
