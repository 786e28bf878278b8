"""Signed QR payloads: one compact binary format for every code the platform shows.

Signed payload (places, tickets, device credentials, scanner setup codes)::

    version(1) | type(1) | flags(1) | kid(uvarint) | [not_before, not_after](uvarint each, if flags & 1)
    | fields (per type) | Ed25519 signature(64) over everything before it

Personal code (个人码/付款码), made on the phone with its device key, offline::

    version(1) | type=personal(1) | purpose(1) | ts(uvarint) | len(uvarint) | credential(signed payload)
    | ECDSA P-256 signature(64, r||s) by the device key named in the credential

Integers are unsigned LEB128 varints; times are seconds since 2024-01-01T00:00:00Z.  The text form
is ``CY:`` + Base45 (RFC 9285), which fills a QR code's alphanumeric mode; printed posters carry a
URL ``…/c/<base64url>`` that WeChat's own scanner opens.  Verification fails with one of the stable
codes in ``MESSAGES``.  The JS twin is ``miniapp/lib/codes.js``; ``tests/vectors/codes.json`` keeps
the two from drifting.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import struct
import threading
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

VERSION = 1
EPOCH = 1704067200  # 2024-01-01T00:00:00Z
PREFIX = "CY:"
SIG_LEN = 64
FLAG_WINDOW = 1


class CodeType(IntEnum):
    place = 1
    ticket = 2
    credential = 3
    personal = 4
    setup = 5


class Purpose(IntEnum):
    identify = 1  # show who I am (check-in at a station)
    pay = 2  # pay with a voucher


# field name -> kind; "uint" is a varint, "bytesN" N raw bytes
FIELDS: dict[CodeType, list[tuple[str, str]]] = {
    CodeType.place: [("place_id", "uint")],
    CodeType.ticket: [("event_id", "uint"), ("registration_id", "uint")],
    CodeType.credential: [("user_id", "uint"), ("device_id", "uint"), ("device_key", "bytes33")],
    CodeType.setup: [("setup_id", "uint"), ("nonce", "bytes16")],
}
# the field a revocation list names, per type
REVOCATION_FIELD = {CodeType.place: "place_id", CodeType.ticket: "registration_id",
                    CodeType.credential: "device_id", CodeType.setup: "setup_id"}

MESSAGES = {
    "malformed": "无法识别的二维码",
    "unknown_key": "签名密钥未知，请更新离线数据后重试",
    "bad_signature": "二维码签名无效，可能是伪造的",
    "wrong_type": "这个二维码不能在这里使用",
    "not_yet_valid": "二维码尚未生效，请检查手机时间",
    "expired": "二维码已过期，请刷新后重新出示",
    "revoked": "二维码已作废",
}


class CodeError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
        self.message = MESSAGES[code]


# --- primitives --------------------------------------------------------------------------------

def put_uvarint(value: int) -> bytes:
    if value < 0:
        raise ValueError("uvarint must be >= 0")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def get_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise CodeError("malformed")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and shift:  # non-minimal encoding: one payload, one byte string
                raise CodeError("malformed")
            return value, pos
        shift += 7


B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B45_INDEX = {c: i for i, c in enumerate(B45)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [B45[n % 45], B45[n // 45 % 45], B45[n // 2025]]
    if len(data) % 2:
        out += [B45[data[-1] % 45], B45[data[-1] // 45]]
    return "".join(out)


_B45_TABLE = bytes(B45.index(chr(i)) if chr(i) in B45 else 255 for i in range(256))


def b45decode(text: str) -> bytes:
    try:
        values = text.encode("ascii").translate(_B45_TABLE)  # each character's value, 255 if not Base45
    except UnicodeEncodeError:
        raise CodeError("malformed") from None
    if 255 in values:
        raise CodeError("malformed")
    whole, rest = divmod(len(values), 3)
    if rest == 1:
        raise CodeError("malformed")
    body = values[:whole * 3]
    pairs = [a + b * 45 + c * 2025 for a, b, c in zip(body[0::3], body[1::3], body[2::3])]
    if pairs and max(pairs) > 0xFFFF:
        raise CodeError("malformed")
    out = struct.pack(f">{whole}H", *pairs)
    if rest:
        last = values[-2] + values[-1] * 45
        if last > 0xFF:
            raise CodeError("malformed")
        out += bytes([last])
    return out


def to_text(payload: bytes) -> str:
    return PREFIX + b45encode(payload)


def to_url(base_url: str, payload: bytes) -> str:
    return base_url.rstrip("/") + "/c/" + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def from_text(text: str) -> bytes:
    """Accept ``CY:<base45>`` or a URL ending in ``/c/<base64url>``."""
    if not isinstance(text, str):
        raise CodeError("malformed")
    text = text.strip()
    if text.startswith(PREFIX):
        return b45decode(text[len(PREFIX):])
    marker = text.rfind("/c/")
    if marker >= 0:
        tail = text[marker + 3:].split("?")[0].split("#")[0]
        try:
            return base64.urlsafe_b64decode(tail + "=" * (-len(tail) % 4))
        except (ValueError, TypeError):
            raise CodeError("malformed") from None
    raise CodeError("malformed")


def to_epoch(unix_seconds: float) -> int:
    return max(int(unix_seconds) - EPOCH, 0)


def from_epoch(value: int) -> int:
    return value + EPOCH


# --- signed payloads ---------------------------------------------------------------------------

@dataclass
class Signed:
    type: CodeType
    kid: int
    fields: dict
    not_before: int | None = None  # unix seconds
    not_after: int | None = None
    signed_part: bytes = field(default=b"", repr=False)
    signature: bytes = field(default=b"", repr=False)


def encode_signed(code_type: CodeType, fields: dict, *, kid: int, private_key: ed25519.Ed25519PrivateKey,
                  not_before: int | None = None, not_after: int | None = None) -> bytes:
    window = not_before is not None or not_after is not None
    out = bytearray([VERSION, int(code_type), FLAG_WINDOW if window else 0])
    out += put_uvarint(kid)
    if window:
        out += put_uvarint(to_epoch(not_before or EPOCH)) + put_uvarint(to_epoch(not_after or EPOCH))
    for name, kind in FIELDS[code_type]:
        value = fields[name]
        if kind == "uint":
            out += put_uvarint(int(value))
        else:
            size = int(kind[5:])
            if len(value) != size:
                raise ValueError(f"{name} must be {size} bytes")
            out += value
    return bytes(out) + private_key.sign(bytes(out))


def parse_signed(data: bytes) -> Signed:
    if len(data) < 4 + SIG_LEN or data[0] != VERSION:
        raise CodeError("malformed")
    try:
        code_type = CodeType(data[1])
    except ValueError:
        raise CodeError("malformed") from None
    if code_type == CodeType.personal:
        raise CodeError("wrong_type")
    if data[2] & ~FLAG_WINDOW:
        raise CodeError("malformed")
    body, signature = data[:-SIG_LEN], data[-SIG_LEN:]
    kid, pos = get_uvarint(body, 3)
    not_before = not_after = None
    if data[2] & FLAG_WINDOW:
        nb, pos = get_uvarint(body, pos)
        na, pos = get_uvarint(body, pos)
        not_before, not_after = from_epoch(nb), from_epoch(na)
    fields = {}
    for name, kind in FIELDS[code_type]:
        if kind == "uint":
            fields[name], pos = get_uvarint(body, pos)
        else:
            size = int(kind[5:])
            if pos + size > len(body):
                raise CodeError("malformed")
            fields[name], pos = body[pos:pos + size], pos + size
    if pos != len(body):
        raise CodeError("malformed")
    return Signed(code_type, kid, fields, not_before, not_after, body, signature)


# Signatures already verified, per process, keyed by the exact bytes of the signed payload (a phone's
# credential is shown in every personal code it makes for weeks; a scanner's batch carries hundreds).
# Only authenticity is remembered: "these bytes were signed by the key whose public bytes are …". A
# hit still needs that kid to be an active key now, with the same public key, so a retired key stops
# verifying at once; and everything that can change after signing is checked on every call by the
# callers, never cached: the type, the validity window against that call's ``now``, the revocation
# lists (``verify_signed``), and the live database's revoked phones and blocked people (the check-in
# engine's ``_people``, ``devices.verify_code``). Bytes that fail are never remembered. Bounded: the
# oldest entry goes first when full (a few hundred bytes each).
VERIFIED_MAX = 8192
_verified: dict[bytes, tuple[Signed, bytes]] = {}
_verified_lock = threading.Lock()


def _remember(data: bytes, parsed: Signed, public: bytes) -> None:
    with _verified_lock:
        if len(_verified) >= VERIFIED_MAX:
            _verified.pop(next(iter(_verified)), None)
        _verified[data] = (parsed, public)


def forget_verified() -> None:
    """Empty this process's cache of verified signatures (tests)."""
    with _verified_lock:
        _verified.clear()


def authentic(data: bytes, *, keys: dict[int, ed25519.Ed25519PublicKey]) -> Signed:
    """Parse and check the server signature only (the returned ``Signed`` may be shared: read it only)."""
    blob = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else None
    hit = _verified.get(blob) if blob is not None else None
    if hit is not None:
        parsed, public = hit
        key = keys.get(parsed.kid)
        if key is not None and key.public_bytes_raw() == public:
            return parsed
    parsed = parse_signed(data)
    key = keys.get(parsed.kid)
    if key is None:
        raise CodeError("unknown_key")
    try:
        key.verify(parsed.signature, parsed.signed_part)
    except InvalidSignature:
        raise CodeError("bad_signature") from None
    if blob is not None:
        _remember(blob, parsed, key.public_bytes_raw())
    return parsed


def verify_signed(data: bytes, *, keys: dict[int, ed25519.Ed25519PublicKey], now: float,
                  expected: CodeType | tuple[CodeType, ...] | None = None, revoked=()) -> Signed:
    """Check in the order a forger cannot exploit: shape, key, signature, then meaning."""
    parsed = authentic(data, keys=keys)
    allowed = (expected,) if isinstance(expected, CodeType) else expected
    if allowed and parsed.type not in allowed:
        raise CodeError("wrong_type")
    if parsed.not_before is not None and now < parsed.not_before:
        raise CodeError("not_yet_valid")
    if parsed.not_after is not None and now > parsed.not_after:
        raise CodeError("expired")
    if parsed.fields[REVOCATION_FIELD[parsed.type]] in revoked:
        raise CodeError("revoked")
    return parsed


# --- personal codes ----------------------------------------------------------------------------

def personal_code_refresh(window: int) -> int:
    """How often a phone makes a new personal code, from how long the server accepts one: two thirds
    of the window, so a code on screen is never older than that and a third of the window is left
    for the scan to reach the server. (30 s → 20 s.)"""
    return max(1, window * 2 // 3)


@dataclass
class Personal:
    user_id: int
    device_id: int
    purpose: Purpose
    ts: int  # unix seconds, the phone's clock
    credential: Signed


def compress_p256(public_key: ec.EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def load_p256(point: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise CodeError("malformed") from None


@functools.lru_cache(maxsize=VERIFIED_MAX)
def _device_key(point: bytes) -> ec.EllipticCurvePublicKey:
    """A verified credential's device key, decompressed once per process (a failure is not cached)."""
    return load_p256(point)


def encode_personal(credential: bytes, *, device_key: ec.EllipticCurvePrivateKey, purpose: Purpose, ts: int) -> bytes:
    """What the phone does (in JS); here for tests, vectors and benchmarks."""
    body = bytes([VERSION, int(CodeType.personal), int(purpose)]) + put_uvarint(to_epoch(ts))
    body += put_uvarint(len(credential)) + credential
    r, s = decode_dss_signature(device_key.sign(body, ec.ECDSA(hashes.SHA256())))
    return body + r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_personal(data: bytes, *, keys: dict[int, ed25519.Ed25519PublicKey], now: float,
                    window: int = 30, skew: int = 20, revoked_devices=()) -> Personal:
    """A personal code is good for ``window`` seconds after the phone made it, ± ``skew``."""
    if len(data) > 2 and data[0] == VERSION and data[1] != CodeType.personal:
        authentic(data, keys=keys)  # a forged code of another type is "bad_signature", not "wrong_type"
        raise CodeError("wrong_type")
    if len(data) < 5 + SIG_LEN or data[0] != VERSION:
        raise CodeError("malformed")
    try:
        purpose = Purpose(data[2])
    except ValueError:
        raise CodeError("malformed") from None
    body, signature = data[:-SIG_LEN], data[-SIG_LEN:]
    ts, pos = get_uvarint(body, 3)
    length, pos = get_uvarint(body, pos)
    if pos + length != len(body):
        raise CodeError("malformed")
    credential = verify_signed(body[pos:], keys=keys, now=now, expected=CodeType.credential,
                               revoked=revoked_devices)
    device_key = _device_key(bytes(credential.fields["device_key"]))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        device_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise CodeError("bad_signature") from None
    made = from_epoch(ts)
    if made > now + skew:
        raise CodeError("not_yet_valid")
    if now - made > window + skew:
        raise CodeError("expired")
    return Personal(credential.fields["user_id"], credential.fields["device_id"], purpose, made, credential)


def fingerprint(data: bytes) -> str:
    """A short stable id of a code's bytes (for duplicate detection and logs)."""
    return hashlib.sha256(data).hexdigest()[:32]


def verify_any(data: bytes, *, expect: str, keys, now: float, window: int = 30, skew: int = 20,
               revoked: dict | None = None):
    """Verify a code expected to be of type ``expect`` (a CodeType name); ``revoked`` maps type
    names to collections of revoked identifiers (personal codes use the "credential" list)."""
    revoked = revoked or {}
    if expect == "personal":
        return verify_personal(data, keys=keys, now=now, window=window, skew=skew,
                               revoked_devices=revoked.get("credential", ()))
    return verify_signed(data, keys=keys, now=now, expected=CodeType[expect], revoked=revoked.get(expect, ()))
