"""Server signing keys (Ed25519) with key ids; several valid at once so keys can rotate.

Keys live in SIGNING_KEYS_DIR (default instance/keys) as ``<kid>.pem`` plus ``keyring.json``
({"kid": {"status": "active"|"retired", "created_at": …}}).  The newest active key signs; every
active key verifies; a retired key verifies nothing.  Private keys never leave the server: only
public keys are served (GET /api/keys).  In development the first key is made on first use; in
production run ``flask keys rotate`` once.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import current_app

log = logging.getLogger(__name__)
_lock = threading.Lock()


class KeyRing:
    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self._cache: tuple[float, dict] | None = None

    # -- storage --
    def _meta_path(self) -> Path:
        return self.dir / "keyring.json"

    def _read_meta(self) -> dict:
        path = self._meta_path()
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_meta(self, meta: dict) -> None:
        tmp = self._meta_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
        tmp.replace(self._meta_path())

    def _state(self) -> dict:
        """Active keys by kid, reloaded when keyring.json changes (rotation without restart)."""
        path = self._meta_path()
        mtime = path.stat().st_mtime if path.exists() else 0.0
        if self._cache is None or self._cache[0] != mtime:
            keys = {}
            for kid, info in self._read_meta().items():
                if info["status"] == "active":
                    pem = (self.dir / f"{kid}.pem").read_bytes()
                    keys[int(kid)] = serialization.load_pem_private_key(pem, password=None)
            self._cache = (mtime, keys)
        return self._cache[1]

    # -- operations --
    def rotate(self) -> int:
        with _lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir, 0o700)
            meta = self._read_meta()
            kid = max((int(k) for k in meta), default=0) + 1
            key = ed25519.Ed25519PrivateKey.generate()
            pem_path = self.dir / f"{kid}.pem"
            pem_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
            pem_path.chmod(0o600)
            meta[str(kid)] = {"status": "active", "created_at": datetime.now(timezone.utc).isoformat()}
            self._write_meta(meta)
            self._cache = None
            log.warning("signing key %d created in %s", kid, self.dir)
            return kid

    def retire(self, kid: int) -> None:
        with _lock:
            meta = self._read_meta()
            if str(kid) not in meta:
                raise KeyError(kid)
            meta[str(kid)]["status"] = "retired"
            self._write_meta(meta)
            self._cache = None

    def listing(self) -> list[dict]:
        return [{"kid": int(k), **v} for k, v in sorted(self._read_meta().items(), key=lambda kv: int(kv[0]))]


    def signer(self) -> tuple[int, ed25519.Ed25519PrivateKey]:
        keys = self._state()
        if not keys:
            raise RuntimeError(f"no signing key in {self.dir}: run `flask keys rotate`")
        kid = max(keys)
        return kid, keys[kid]

    def public_keys(self) -> dict[int, ed25519.Ed25519PublicKey]:
        return {kid: key.public_key() for kid, key in self._state().items()}

    def public_listing(self) -> list[dict]:
        return [{"kid": kid, "alg": "Ed25519", "public_key": raw_b64(key)} for kid, key in
                sorted(self.public_keys().items())]


def raw_b64(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def init_app(app) -> None:
    directory = app.config.get("SIGNING_KEYS_DIR") or os.path.join(app.instance_path, "keys")
    ring = KeyRing(directory)
    app.extensions["keyring"] = ring
    if not ring._state():
        if app.config["APP_ENV"] == "production":
            log.error("no signing key in %s: run `flask keys rotate` before serving codes", directory)
        else:
            ring.rotate()


def keyring() -> KeyRing:
    return current_app.extensions["keyring"]
