"""Server signing keys (Ed25519) with key ids; several valid at once so keys can rotate.

Keys live in the database (table ``signing_key``), so every app server signs and verifies with the
same ones: the public key in the clear, the private key encrypted at rest (Fernet under
KEY_ENCRYPTION_KEY).  The newest active key signs; every active key verifies; a retired key
verifies nothing.  Private keys never leave the servers: only public keys are served (GET /api/keys,
read from the table on each request).

Each process keeps a copy of the table for SIGNING_KEYS_REFRESH_SECONDS (30 s).  So, after
``flask keys rotate`` on any server, every server:
- verifies codes of the new key at once (an unknown kid newer than any it knows makes it re-read
  the table; at most once a second, so codes with made-up kids cannot hammer the database),
- signs with the new key within 30 s (until then with the older key, which stays active),
- stops trusting a retired key within 30 s.

First start: when the table is empty, the keys an older checkout kept on disk (SIGNING_KEYS_DIR,
default instance/keys: ``<kid>.pem`` and ``keyring.json``) are imported with their kids, so codes
already printed keep verifying; with none on disk, development makes the first key and production
waits for ``flask keys rotate`` (``flask keys import DIR`` imports another folder).
"""
from __future__ import annotations

import base64
import enum
import json
import logging
import math
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, str_enum, utcnow
from backend.extensions import db

log = logging.getLogger(__name__)
MISS_RELOAD_SECONDS = 1.0


class KeyStatus(enum.StrEnum):
    active = "active"
    retired = "retired"


class SigningKey(db.Model):
    __tablename__ = "signing_key"

    kid: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    public_key: Mapped[str] = mapped_column(sa.String(64))  # raw Ed25519, base64url
    private_key: Mapped[str] = mapped_column(sa.Text)  # Fernet token of the raw 32-byte private key
    status: Mapped[KeyStatus] = mapped_column(str_enum(KeyStatus, "signing_key_status", 8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("kid > 0", name="kid_positive"),)


def raw_b64(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _fernet(config) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in config["KEY_ENCRYPTION_KEY"].split(",") if k.strip()])


def _row(kid: int, key: ed25519.Ed25519PrivateKey, *, status: KeyStatus, created_at: datetime, fernet) -> dict:
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return {"kid": kid, "public_key": raw_b64(key.public_key()), "private_key": fernet.encrypt(raw).decode(),
            "status": status, "created_at": created_at, "retired_at": None if status == KeyStatus.active else utcnow()}


def read_directory(directory: str | os.PathLike, fernet) -> list[dict]:
    """Rows for the keys an older checkout kept on disk (``<kid>.pem`` + ``keyring.json``)."""
    folder = Path(directory)
    meta_path = folder / "keyring.json"
    if not meta_path.exists():
        return []
    rows = []
    for kid, info in sorted(json.loads(meta_path.read_text()).items(), key=lambda kv: int(kv[0])):
        pem = folder / f"{kid}.pem"
        if not pem.exists():
            log.warning("keyring.json names key %s but %s is missing: not imported", kid, pem)
            continue
        key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        created = datetime.fromisoformat(info.get("created_at") or utcnow().isoformat())
        rows.append(_row(int(kid), key, status=KeyStatus(info.get("status", "active")), created_at=created,
                         fernet=fernet))
    return rows


class _Verifying(Mapping):
    """The active public keys by kid; looking up a kid newer than any known re-reads the table."""

    def __init__(self, ring: KeyRing):
        self.ring = ring

    def _keys(self) -> dict:
        return {kid: key.public_key() for kid, key in self.ring._state()[0].items()}

    def __getitem__(self, kid):
        keys, newest = self.ring._state()
        if kid not in keys and isinstance(kid, int) and kid > newest:
            keys, newest = self.ring._reload_for(kid)
        return keys[kid].public_key()

    def __iter__(self):
        return iter(sorted(self.ring._state()[0]))

    def __len__(self):
        return len(self.ring._state()[0])


class KeyRing:
    """The process's view of the key table (see the module's docstring for the bounds)."""

    def __init__(self, *, refresh_seconds: float = 30.0, clock=time.monotonic):
        self.refresh_seconds, self.clock = refresh_seconds, clock
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[int, ed25519.Ed25519PrivateKey], int] | None = None
        self._decrypted: dict[tuple[int, str], ed25519.Ed25519PrivateKey] = {}
        self._last_miss = -math.inf

    # -- the in-process copy --
    def forget(self) -> None:
        """Drop the copy: the next use reads the table."""
        self._cache = None

    def _load(self) -> tuple[dict[int, ed25519.Ed25519PrivateKey], int]:
        rows = db.session.execute(sa.select(SigningKey.kid, SigningKey.status, SigningKey.private_key)).all()
        fernet = _fernet(current_app.config)
        keys = {}
        for kid, status, token in rows:
            if status != KeyStatus.active:
                continue
            key = self._decrypted.get((kid, token))
            if key is None:
                key = ed25519.Ed25519PrivateKey.from_private_bytes(fernet.decrypt(token.encode()))
                self._decrypted[(kid, token)] = key
            keys[kid] = key
        newest = max((kid for kid, *_ in rows), default=0)
        self._cache = (self.clock(), keys, newest)
        return keys, newest

    def _state(self) -> tuple[dict[int, ed25519.Ed25519PrivateKey], int]:
        cache = self._cache
        if cache is not None and self.clock() - cache[0] < self.refresh_seconds:
            return cache[1], cache[2]
        with self._lock:
            keys, newest = self._load()
        if not keys and ensure(current_app):
            keys, newest = self._load()
        return keys, newest

    def _reload_for(self, kid: int):
        with self._lock:
            now = self.clock()
            if now - self._last_miss < MISS_RELOAD_SECONDS:
                return self._cache[1], self._cache[2]
            self._last_miss = now
            return self._load()

    # -- operations (in the caller's transaction: the CLI commits) --
    def rotate(self) -> int:
        """A new key that signs from now on; older active keys keep verifying."""
        kid = (db.session.scalar(sa.select(sa.func.max(SigningKey.kid))) or 0) + 1
        row = _row(kid, ed25519.Ed25519PrivateKey.generate(), status=KeyStatus.active, created_at=utcnow(),
                   fernet=_fernet(current_app.config))
        db.session.add(SigningKey(**row))
        db.session.flush()
        self.forget()
        log.warning("signing key %d created", kid)
        return kid

    def retire(self, kid: int) -> None:
        key = db.session.get(SigningKey, kid)
        if key is None:
            raise KeyError(kid)
        key.status, key.retired_at = KeyStatus.retired, utcnow()
        db.session.flush()
        self.forget()

    def import_directory(self, directory) -> tuple[int, int]:
        """Import an older checkout's on-disk keys; returns (imported, skipped: kid already present)."""
        known = dict(db.session.execute(sa.select(SigningKey.kid, SigningKey.public_key)).all())
        imported = skipped = 0
        for row in read_directory(directory, _fernet(current_app.config)):
            if row["kid"] in known:
                if known[row["kid"]] != row["public_key"]:
                    log.error("key %d in %s differs from the database's key %d: not imported",
                              row["kid"], directory, row["kid"])
                skipped += 1
                continue
            db.session.add(SigningKey(**row))
            imported += 1
        db.session.flush()
        self.forget()
        return imported, skipped

    def rewrap(self) -> int:
        """Encrypt every private key again under the first KEY_ENCRYPTION_KEY (after adding a new one)."""
        fernet = _fernet(current_app.config)
        keys = db.session.scalars(sa.select(SigningKey)).all()
        for key in keys:
            key.private_key = fernet.rotate(key.private_key.encode()).decode()
        db.session.flush()
        self.forget()
        return len(keys)

    # -- reading --
    def listing(self) -> list[dict]:
        rows = db.session.scalars(sa.select(SigningKey).order_by(SigningKey.kid)).all()
        return [{"kid": k.kid, "status": k.status.value, "created_at": k.created_at.isoformat()} for k in rows]

    def signer(self) -> tuple[int, ed25519.Ed25519PrivateKey]:
        keys, _ = self._state()
        if not keys:
            raise RuntimeError("no signing key in the database: run `flask keys rotate`")
        kid = max(keys)
        return kid, keys[kid]

    def public_keys(self) -> Mapping[int, ed25519.Ed25519PublicKey]:
        return _Verifying(self)

    def public_listing(self) -> list[dict]:
        """The active public keys, read from the table now (what every server publishes alike)."""
        rows = db.session.execute(sa.select(SigningKey.kid, SigningKey.public_key)
                                  .where(SigningKey.status == KeyStatus.active).order_by(SigningKey.kid)).all()
        return [{"kid": kid, "alg": "Ed25519", "public_key": public} for kid, public in rows]


def ensure(app) -> bool:
    """First start: with no key in the table, import the on-disk keys, or (development) make the first
    key.  Its own transaction, committed at once; a server racing to do the same loses on the primary
    key and reads the winner's keys.  True when keys were added."""
    directory = app.config.get("SIGNING_KEYS_DIR") or os.path.join(app.instance_path, "keys")
    fernet = _fernet(app.config)
    table = SigningKey.__table__
    try:
        with db.engine.begin() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                return False
            rows = read_directory(directory, fernet)
            if rows:
                log.warning("imported %d signing key(s) from %s into the database", len(rows), directory)
            elif app.config["APP_ENV"] == "production":
                log.error("no signing key in the database: run `flask keys rotate` before serving codes")
                return False
            else:
                rows = [_row(1, ed25519.Ed25519PrivateKey.generate(), status=KeyStatus.active,
                             created_at=utcnow(), fernet=fernet)]
                log.warning("signing key 1 created (development)")
            conn.execute(sa.insert(table), rows)
        return True
    except sa.exc.IntegrityError:
        return True  # another server made them first


def startup(app) -> None:
    """Make sure of the first key when the database is there and migrated; otherwise first use does."""
    with app.app_context():
        try:
            if sa.inspect(db.engine).has_table(SigningKey.__tablename__):
                ensure(app)
        except sa.exc.OperationalError as exc:
            log.warning("database not reachable at start (%s): signing keys are read on first use", exc.orig)
        if db.engine.dialect.name != "sqlite":
            db.engine.dispose()  # no pooled connection is left for a forking server (gunicorn --preload) to share


def init_app(app) -> None:
    app.extensions["keyring"] = KeyRing(refresh_seconds=app.config["SIGNING_KEYS_REFRESH_SECONDS"])


def keyring() -> KeyRing:
    return current_app.extensions["keyring"]
