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


# --- verified signatures remembered per process -----------------------------------------------------

class CountingKey:
    """A server public key that counts its signature checks."""

    def __init__(self, key: ed25519.Ed25519PublicKey):
        self.key, self.checks = key, 0

    def verify(self, signature, data):
        self.checks += 1
        return self.key.verify(signature, data)

    def public_bytes_raw(self):
        return self.key.public_bytes_raw()


def signed_place(place_id=7, kid=9, key=None):
    key = key or ed25519.Ed25519PrivateKey.generate()
    data = codes.encode_signed(codes.CodeType.place, {"place_id": place_id}, kid=kid, private_key=key,
                               not_before=codes.EPOCH + 100, not_after=codes.EPOCH + 1000)
    return data, key


def test_a_verified_signature_is_remembered_and_what_can_change_is_checked_every_time():
    codes.forget_verified()
    data, key = signed_place()
    public = CountingKey(key.public_key())
    keys = {9: public}
    inside = codes.EPOCH + 500
    assert codes.verify_signed(data, keys=keys, now=inside, expected=codes.CodeType.place).fields == {"place_id": 7}
    assert codes.verify_signed(data, keys=keys, now=inside, expected=codes.CodeType.place).fields == {"place_id": 7}
    assert public.checks == 1  # the second time from the cache
    for kwargs, code in [({"now": codes.EPOCH + 2000}, "expired"), ({"now": codes.EPOCH}, "not_yet_valid"),
                         ({"revoked": {7}}, "revoked"), ({"expected": codes.CodeType.ticket}, "wrong_type")]:
        with pytest.raises(CodeError) as refused:
            codes.verify_signed(data, keys=keys, **{"now": inside, **kwargs})
        assert refused.value.code == code
    # the key retired (no longer among the active keys): refused at once, cached or not
    with pytest.raises(CodeError) as refused:
        codes.verify_signed(data, keys={}, now=inside)
    assert refused.value.code == "unknown_key"
    # another key under the same kid: verified again, and refused
    with pytest.raises(CodeError) as refused:
        codes.verify_signed(data, keys={9: ed25519.Ed25519PrivateKey.generate().public_key()}, now=inside)
    assert refused.value.code == "bad_signature"
    assert public.checks == 1


def test_bytes_that_fail_are_never_remembered():
    codes.forget_verified()
    data, key = signed_place()
    public = CountingKey(key.public_key())
    forged = bytearray(data)
    forged[-1] ^= 1
    for _ in range(2):
        with pytest.raises(CodeError) as refused:
            codes.authentic(bytes(forged), keys={9: public})
        assert refused.value.code == "bad_signature"
    assert public.checks == 2 and bytes(forged) not in codes._verified


def test_the_cache_of_verified_signatures_is_bounded(monkeypatch):
    codes.forget_verified()
    monkeypatch.setattr(codes, "VERIFIED_MAX", 3)
    key = ed25519.Ed25519PrivateKey.generate()
    payloads = [signed_place(place_id=n, key=key)[0] for n in range(1, 6)]
    for data in payloads:
        codes.authentic(data, keys={9: key.public_key()})
    assert list(codes._verified) == payloads[2:]  # the oldest went first
    codes.forget_verified()
