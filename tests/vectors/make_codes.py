"""Writes tests/vectors/codes.json: the one set of test vectors that both the Python
(backend/core/codes.py) and the JS (miniapp/lib/codes.js) implementations must agree with.

    python tests/vectors/make_codes.py

Keys are fixed so the file is reproducible except for ECDSA signatures (random by design)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from backend.core import codes
from backend.core.codes import CodeType, Purpose

NOW = 1795315200  # 2026-11-22T00:00:00Z
WINDOW, SKEW = 30, 20


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def main() -> None:
    server = {kid: ed25519.Ed25519PrivateKey.from_private_bytes(bytes([kid]) * 32) for kid in (1, 2, 9)}
    trusted = {1: server[1].public_key(), 2: server[2].public_key()}  # 9 is unknown to verifiers
    device = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
    other_device = ec.derive_private_key(0xBADBAD, ec.SECP256R1())

    def signed(code_type, fields, kid=1, **window):
        return codes.encode_signed(code_type, fields, kid=kid, private_key=server[kid], **window)

    def credential(device_id=11, key=device, not_after=NOW + 7 * 86400, kid=2):
        return signed(CodeType.credential, {"user_id": 501, "device_id": device_id,
                                            "device_key": codes.compress_p256(key.public_key())},
                      kid=kid, not_before=NOW - 86400, not_after=not_after)

    def personal(cred=None, key=device, ts=NOW - 5, purpose=Purpose.pay):
        return codes.encode_personal(cred or credential(), device_key=key, purpose=purpose, ts=ts)

    place = signed(CodeType.place, {"place_id": 42})
    ticket = signed(CodeType.ticket, {"event_id": 7, "registration_id": 1234},
                    not_before=NOW - 3600, not_after=NOW + 3600)
    tampered = bytearray(ticket)
    tampered[-codes.SIG_LEN - 1] ^= 0x01  # flip a bit of the last field (the registration id)
    forged_cred = bytearray(credential())
    forged_cred[5] ^= 0x01
    revoked = {"ticket": [999], "credential": [13], "place": [], "setup": []}

    def ok(code_type, fields, kid, window=(None, None)):
        return {"ok": True, "type": code_type, "kid": kid, "fields": fields,
                "not_before": window[0], "not_after": window[1]}

    cases = [
        ("place poster", codes.to_text(place), "place", ok("place", {"place_id": 42}, 1)),
        ("place poster as a URL", codes.to_url("https://cyql.example.cn", place), "place",
         ok("place", {"place_id": 42}, 1)),
        ("ticket inside its window", codes.to_text(ticket), "ticket",
         ok("ticket", {"event_id": 7, "registration_id": 1234}, 1, (NOW - 3600, NOW + 3600))),
        ("ticket after its window", codes.to_text(signed(CodeType.ticket, {"event_id": 7, "registration_id": 1},
                                                         not_before=NOW - 7200, not_after=NOW - 1)),
         "ticket", {"error": "expired"}),
        ("ticket before its window", codes.to_text(signed(CodeType.ticket, {"event_id": 7, "registration_id": 1},
                                                          not_before=NOW + 60, not_after=NOW + 7200)),
         "ticket", {"error": "not_yet_valid"}),
        ("revoked ticket", codes.to_text(signed(CodeType.ticket, {"event_id": 7, "registration_id": 999},
                                                not_before=NOW - 60, not_after=NOW + 60)),
         "ticket", {"error": "revoked"}),
        ("ticket signed by an unknown key", codes.to_text(signed(CodeType.ticket, {"event_id": 7, "registration_id": 5},
                                                                 kid=9)), "ticket", {"error": "unknown_key"}),
        ("ticket with a changed field", codes.to_text(bytes(tampered)), "ticket", {"error": "bad_signature"}),
        ("place code where a ticket is expected", codes.to_text(place), "ticket", {"error": "wrong_type"}),
        ("truncated code", codes.to_text(place[:20]), "place", {"error": "malformed"}),
        ("not our code at all", "https://weixin.qq.com/", "place", {"error": "malformed"}),
        ("characters outside Base45", "CY:abc~", "place", {"error": "malformed"}),
        ("unknown version", codes.to_text(b"\x07" + place[1:]), "place", {"error": "malformed"}),
        ("scanner setup code", codes.to_text(signed(CodeType.setup, {"setup_id": 3, "nonce": bytes(range(16))},
                                                    not_before=NOW - 60, not_after=NOW + 540)),
         "setup", ok("setup", {"setup_id": 3, "nonce": b64(bytes(range(16)))}, 1, (NOW - 60, NOW + 540))),
        ("personal pay code, fresh", codes.to_text(personal()), "personal",
         {"ok": True, "type": "personal", "fields": {"user_id": 501, "device_id": 11, "purpose": "pay", "ts": NOW - 5}}),
        ("personal code at the edge of window + skew", codes.to_text(personal(ts=NOW - WINDOW - SKEW)), "personal",
         {"ok": True, "type": "personal",
          "fields": {"user_id": 501, "device_id": 11, "purpose": "pay", "ts": NOW - WINDOW - SKEW}}),
        ("personal code screenshot a minute old", codes.to_text(personal(ts=NOW - 60)), "personal",
         {"error": "expired"}),
        ("personal code from a phone clock far ahead", codes.to_text(personal(ts=NOW + SKEW + 5)), "personal",
         {"error": "not_yet_valid"}),
        ("personal code of a revoked device", codes.to_text(personal(cred=credential(device_id=13))), "personal",
         {"error": "revoked"}),
        ("personal code with an expired credential", codes.to_text(personal(cred=credential(not_after=NOW - 1))),
         "personal", {"error": "expired"}),
        ("personal code signed by another device", codes.to_text(personal(key=other_device)), "personal",
         {"error": "bad_signature"}),
        ("personal code with a forged credential", codes.to_text(personal(cred=bytes(forged_cred))), "personal",
         {"error": "bad_signature"}),
        ("personal code with a credential from an unknown key", codes.to_text(personal(cred=credential(kid=9))),
         "personal", {"error": "unknown_key"}),
        ("place code shown as a personal code", codes.to_text(place), "personal", {"error": "wrong_type"}),
        ("personal identify code", codes.to_text(personal(purpose=Purpose.identify)), "personal",
         {"ok": True, "type": "personal", "fields": {"user_id": 501, "device_id": 11, "purpose": "identify",
                                                     "ts": NOW - 5}}),
    ]
    doc = {
        "comment": "Shared test vectors for backend/core/codes.py and miniapp/lib/codes.js. "
                   "Regenerate with: python tests/vectors/make_codes.py",
        "now": NOW, "window": WINDOW, "skew": SKEW,
        "server_keys": [{"kid": kid, "alg": "Ed25519", "public_key": b64(codes_raw(key))} for kid, key in trusted.items()],
        "revoked": revoked,
        "base45": [["", ""], ["AB", "BB8"], ["Hello!!", "%69 VD92EX0"], ["base-45", "UJCLQE7W581"], ["ietf!", "QED8WEX0"]],
        "uvarint": [[0, "00"], [1, "01"], [127, "7f"], [128, "8001"], [300, "ac02"], [16384, "808001"]],
        "sizes": {},
        "cases": [{"name": n, "text": t, "expect": e, "result": r} for n, t, e, r in cases],
    }
    doc["sizes"] = {"place": len(place), "ticket": len(ticket), "credential": len(credential()),
                    "personal": len(personal()), "personal_text_chars": len(codes.to_text(personal()))}
    out = Path(__file__).with_name("codes.json")
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases); sizes in bytes: {doc['sizes']}")


def codes_raw(public_key):
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


if __name__ == "__main__":
    main()
