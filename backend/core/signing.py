"""The app's side of signed codes: sign with the current server key, verify with all active
keys and the app's clock, window and skew settings."""
from __future__ import annotations

import time

from flask import current_app

from backend.core import codes
from backend.core.codes import CodeError, CodeType
from backend.core.errors import DomainError
from backend.core.keys import keyring


def sign(code_type: CodeType, fields: dict, *, not_before: int | None = None, not_after: int | None = None) -> bytes:
    kid, key = keyring().signer()
    return codes.encode_signed(code_type, fields, kid=kid, private_key=key, not_before=not_before,
                               not_after=not_after)


def sign_text(code_type: CodeType, fields: dict, **window) -> str:
    return codes.to_text(sign(code_type, fields, **window))


def personal_code_timing() -> dict:
    """What a phone needs to show personal codes the server accepts: the window in seconds, and how
    often to make a new code (derived from the window, codes.personal_code_refresh)."""
    window = current_app.config["PERSONAL_CODE_WINDOW"]
    return {"code_window": window, "refresh_seconds": codes.personal_code_refresh(window)}


def verify(text: str, *, expect: str, revoked: dict | None = None, now: float | None = None):
    """Verify a scanned code; raises DomainError with the code's stable reason."""
    cfg = current_app.config
    try:
        return codes.verify_any(codes.from_text(text), expect=expect, keys=keyring().public_keys(),
                                now=time.time() if now is None else now, window=cfg["PERSONAL_CODE_WINDOW"],
                                skew=cfg["PERSONAL_CODE_SKEW"], revoked=revoked)
    except CodeError as exc:
        raise DomainError(exc.message, code=exc.code, status=422) from exc
