"""Personal information at rest: encrypted columns and blind indexes.

Phone and ID numbers are stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256; several keys
may be given comma-separated, the first encrypts, all decrypt, so keys can rotate).  Lookups
("who has this phone?", "same ID number?") use a keyed HMAC of the value, never the value.
"""
from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet


class _Keys:
    fernet: MultiFernet | None = None
    hash_key: bytes = b""


_keys = _Keys()


def init_app(app) -> None:
    keys = [Fernet(k.strip().encode()) for k in app.config["PII_KEY"].split(",") if k.strip()]
    _keys.fernet = MultiFernet(keys)
    _keys.hash_key = app.config["PII_HASH_KEY"].encode()


def _fernet() -> MultiFernet:
    if _keys.fernet is None:
        raise RuntimeError("PII keys are not initialised; create the app first")
    return _keys.fernet


def blind_index(value: str) -> str:
    return hmac.new(_keys.hash_key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedString(sa.types.TypeDecorator):
    """A string column whose value is encrypted before it reaches the database."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return _fernet().encrypt(value.encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return _fernet().decrypt(value.encode()).decode()
