"""Request bodies: how large, how deep, and which JSON.

- Size: every body is bounded by ``MAX_CONTENT_LENGTH`` (4 MiB: the largest body the schemas allow,
  a sync of 1000 check-ins with notes, is under 3 MiB); the uploads blueprint raises it to
  ``UPLOAD_MAX_CONTENT_LENGTH`` for its multipart files (``allow_upload_size``). Werkzeug stops reading
  past it and the error handler answers 413 ``payload_too_large``.
- Depth: at most ``MAX_DEPTH`` nested arrays/objects (our deepest body has 4). Python's parser recurses,
  so 100 000 levels would be a RecursionError, a 500, wherever the body is read; it is checked on the
  text, before parsing, and answered 400 ``json_too_deep``.
- JSON proper: Python's parser takes NaN, Infinity and -Infinity, which are not JSON, and fails with a
  ValueError (not a JSON error) on an integer of more than 4300 digits; both are invalid JSON (400).

One ``loads`` serves webargs (``core.api.Parser``) and Flask's ``request.get_json`` (``JSONProvider``).
"""
from __future__ import annotations

import json
import re

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32

_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class TooDeep(ValueError):
    pass


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays/objects in this JSON text nest deeper than ``limit``, without parsing it."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth += 1 if char in "[{" else -1
        if depth > limit:
            return True
    return False


def loads(data: str | bytes | bytearray):
    """Parse a request body as strict JSON; TooDeep past MAX_DEPTH, json.JSONDecodeError otherwise
    (its ``doc`` is empty only when the body was, which webargs reads as "no body")."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", "<bytes>", exc.start) from None
    else:
        text = data
    if too_deep(text):
        raise TooDeep(f"nested deeper than {MAX_DEPTH}")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # NaN/Infinity, an integer beyond Python's digit limit
        raise json.JSONDecodeError(str(exc), text, 0) from None


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with ``loads`` above; answers keep Chinese as it is."""

    ensure_ascii = False

    def loads(self, s, **kwargs):
        return loads(s)


def allow_upload_size() -> None:
    """before_request of a blueprint that takes file uploads: its own, larger body limit."""
    request.max_content_length = current_app.config["UPLOAD_MAX_CONTENT_LENGTH"]
