"""The public address of the site: what printed QR codes point at."""
from __future__ import annotations

from flask import current_app, has_request_context, request

FALLBACK = "http://127.0.0.1:5000"  # no setting and no request (a CLI command): the development server


def public_base_url() -> str:
    """``PUBLIC_BASE_URL`` verbatim when set; else the scheme, host and port the current request came
    to (a development server on any port prints codes that open on that port)."""
    configured = (current_app.config.get("PUBLIC_BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return FALLBACK
