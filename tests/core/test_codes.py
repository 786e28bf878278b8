"""The signed-code format against the shared vectors (the same file Vitest checks the JS twin with)."""
import base64
import json
from pathlib import Path

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric import ed25519

from backend.core import codes
from backend.core.codes import CodeError

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "codes.json").read_text())


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def trusted_keys():
    return {k["kid"]: ed25519.Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(k["public_key"] + "=" * (-len(k["public_key"]) % 4))) for k in VECTORS["server_keys"]}


def run_case(case) -> dict:
    try:
        data = codes.from_text(case["text"])
        result = codes.verify_any(data, expect=case["expect"], keys=trusted_keys(), now=VECTORS["now"],
                                  window=VECTORS["window"], skew=VECTORS["skew"], revoked=VECTORS["revoked"])
    except CodeError as exc:
        return {"error": exc.code}
    if isinstance(result, codes.Personal):
        return {"ok": True, "type": "personal", "fields": {"user_id": result.user_id, "device_id": result.device_id,
                                                           "purpose": result.purpose.name, "ts": result.ts}}
    fields = {k: b64(v) if isinstance(v, bytes) else v for k, v in result.fields.items()}
    return {"ok": True, "type": result.type.name, "kid": result.kid, "fields": fields,
            "not_before": result.not_before, "not_after": result.not_after}


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vector(case):
    assert run_case(case) == case["result"]


def test_vectors_cover_every_failure_code():
    seen = {c["result"].get("error") for c in VECTORS["cases"]}
    assert set(codes.MESSAGES) <= seen


@pytest.mark.parametrize("raw,text", VECTORS["base45"])
def test_base45_rfc9285_examples(raw, text):
    assert codes.b45encode(raw.encode()) == text
    assert codes.b45decode(text) == raw.encode()


@pytest.mark.parametrize("value,hexed", VECTORS["uvarint"])
def test_uvarint(value, hexed):
    assert codes.put_uvarint(value).hex() == hexed
    assert codes.get_uvarint(bytes.fromhex(hexed), 0) == (value, len(hexed) // 2)


def test_non_minimal_varint_is_malformed():
    with pytest.raises(CodeError) as err:
        codes.get_uvarint(bytes.fromhex("8000"), 0)
    assert err.value.code == "malformed"


def test_base45_rejects_out_of_range_triplets():
    with pytest.raises(CodeError):
        codes.b45decode(":::")  # 44 + 44*45 + 44*2025 > 65535


def test_personal_code_fits_a_version_10_qr_at_medium_correction():
    text = next(c["text"] for c in VECTORS["cases"] if c["name"] == "personal pay code, fresh")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= 10, qr.version
    assert VECTORS["sizes"]["personal"] == len(codes.from_text(text))


@pytest.mark.parametrize("name", ["place poster", "ticket inside its window"])
def test_every_single_bit_flip_is_caught(name):
    data = codes.from_text(next(c["text"] for c in VECTORS["cases"] if c["name"] == name))
    expect = "place" if name.startswith("place") else "ticket"
    for i in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(CodeError):
            codes.verify_any(bytes(flipped), expect=expect, keys=trusted_keys(), now=VECTORS["now"])
