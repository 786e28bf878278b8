"""An older checkout moves its disk state into the database without orphaning anything: the keys it
kept in instance/keys are imported with their kids on first start (posters already printed keep
scanning), `flask keys import` merges another folder, the migration copies instance/uploads files, and
`flask uploads import` fetches the ones found elsewhere."""
from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import datetime, timezone

import flask_migrate
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from PIL import Image

from backend import create_app
from backend.core import codes, keys, signing
from backend.core.codes import CodeType
from backend.extensions import db
from tests.conftest import TEST_SECRETS
from backend.accounts import service as accounts


def old_keyring(folder, statuses: dict[int, str]) -> dict[int, ed25519.Ed25519PrivateKey]:
    """Keys as the file-based key ring kept them: <kid>.pem (PKCS8) and keyring.json."""
    folder.mkdir(parents=True)
    made, meta = {}, {}
    for kid, status in statuses.items():
        key = made[kid] = ed25519.Ed25519PrivateKey.generate()
        (folder / f"{kid}.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        meta[str(kid)] = {"status": status, "created_at": datetime(2026, 11, 1, tzinfo=timezone.utc).isoformat()}
    (folder / "keyring.json").write_text(json.dumps(meta))
    return made


@pytest.fixture
def old_checkout(tmp_path, monkeypatch):
    """An instance folder of an older checkout: a SQLite database at the revision before this change,
    an upload row whose bytes are a file under uploads/, and two keys on disk (one retired)."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
                      **TEST_SECRETS})
    on_disk = old_keyring(instance / "keys", {1: "retired", 2: "active"})
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (16, 104, 210)).save(image, "JPEG")
    data = image.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    (instance / "uploads").mkdir()
    (instance / "uploads" / f"{digest}.jpg").write_bytes(data)
    with app.app_context():
        flask_migrate.upgrade(revision="f6d2c0de0005")
        # the user table is the same at that revision (role_grant is not: no role, so no row there)
        owner = accounts.create_user(phone="13900000001", name="张三", roles=())
        for upload_id in (1, 2):  # two uploads of the same bytes: one stored content
            db.session.execute(sa.text(
                "INSERT INTO upload (id, owner_id, kind, content_type, size, sha256, original_name, created_at) "
                "VALUES (:id, :owner, 'image', 'image/jpeg', :size, :sha, 'a.jpg', '2026-11-01 00:00:00')"),
                {"id": upload_id, "owner": owner.id, "size": len(data), "sha": digest})
        db.session.commit()
    yield app, on_disk, data
    with app.app_context():
        db.engine.dispose()


def test_upgrading_copies_the_files_and_first_start_imports_the_keys(old_checkout):
    app, on_disk, data = old_checkout
    with app.app_context():
        flask_migrate.upgrade()
        stored = db.session.execute(sa.text("SELECT sha256, data FROM upload_content")).all()
        assert [(row.sha256, bytes(row.data)) for row in stored] == [(hashlib.sha256(data).hexdigest(), data)]
    keys.startup(app)  # what the next server start does
    with app.app_context():
        ring = keys.keyring()
        assert [(e["kid"], e["status"]) for e in ring.listing()] == [(1, "retired"), (2, "active")]
        old_code = codes.to_text(codes.encode_signed(CodeType.place, {"place_id": 3}, kid=2, private_key=on_disk[2]))
        assert signing.verify(old_code, expect="place").fields == {"place_id": 3}  # a printed poster still scans
        assert ring.signer()[0] == 2
        public = {e["kid"]: e["public_key"] for e in ring.public_listing()}
        assert public == {2: keys.raw_b64(on_disk[2].public_key())}
        row = db.session.get(keys.SigningKey, 2)
        assert "PRIVATE" not in row.private_key and row.private_key.startswith("gAAAAA")
    # the files can go: the database has everything
    for folder in ("keys", "uploads"):
        for path in os.scandir(os.path.join(app.instance_path, folder)):
            os.remove(path.path)
    with app.app_context():
        keys.keyring().forget()
        assert signing.verify(old_code, expect="place").kid == 2


def test_keys_and_uploads_from_another_folder(old_checkout, tmp_path):
    app, on_disk, data = old_checkout
    moved = tmp_path / "elsewhere"
    os.rename(os.path.join(app.instance_path, "uploads"), moved)
    with app.app_context():
        flask_migrate.upgrade()  # no files where the migration looks: nothing copied
        assert db.session.execute(sa.text("SELECT count(*) FROM upload_content")).scalar() == 0
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["uploads", "import", str(tmp_path)])
    assert missing.exit_code == 1 and "still missing 1" in missing.output
    found = runner.invoke(args=["uploads", "import", str(moved)])
    assert found.exit_code == 0 and "imported 1, still missing 0" in found.output, found.output

    keys.startup(app)  # imports instance/keys: kids 1 and 2
    other = old_keyring(tmp_path / "other-keys", {2: "active", 3: "active"})
    result = runner.invoke(args=["keys", "import", str(tmp_path / "other-keys")])
    assert result.exit_code == 0 and "imported 1, skipped 1" in result.output, result.output
    with app.app_context():
        ring = keys.keyring()
        assert ring.signer()[0] == 3
        public = {e["kid"]: e["public_key"] for e in ring.public_listing()}
        assert public[2] == keys.raw_b64(on_disk[2].public_key())  # kid 2 stays the first checkout's key
        assert public[3] == keys.raw_b64(other[3].public_key())


def test_production_refuses_to_start_without_the_key_encryption_key(tmp_path, monkeypatch):
    from backend import config as settings

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("KEY_ENCRYPTION_KEY", raising=False)
    with pytest.raises(RuntimeError, match="KEY_ENCRYPTION_KEY must be set"):
        settings.load(str(tmp_path), dict(TEST_SECRETS))
    kek = "Hk1o1pJ0Jb5XxgkTr0m2Sx9XcQkqv0oQm2b0aZ4sJ8Y="
    assert settings.load(str(tmp_path), {**TEST_SECRETS, "KEY_ENCRYPTION_KEY": kek})["KEY_ENCRYPTION_KEY"] == kek
    monkeypatch.setenv("APP_ENV", "development")
    assert settings.load(str(tmp_path), dict(TEST_SECRETS))["KEY_ENCRYPTION_KEY"] == TEST_SECRETS["PII_KEY"]
    assert not any(tmp_path.iterdir())  # the secrets were given: nothing generated on disk
