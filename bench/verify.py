"""How fast are personal codes verified and made, and do the two implementations agree?

    .venv/bin/python bench/verify.py

(a) Python (backend/core/codes.py): personal-code verifications per second.
(b) Chromium (miniapp/lib/codes.js, loaded as ES modules from a local static server, @noble/curves
    from miniapp/node_modules through an import map — no build, no CDN): ms per verification.
(c) Chromium: ms to make one personal code with WebCrypto (ECDSA P-256 sign), as the phone does.
Agreement: every shared vector gives its recorded result in both, a few thousand mutated codes
(bit flips, truncations, garbled text and URLs) give the same result in both, and codes made in
the browser verify in Python. The last line is the one-line summary.
"""
from __future__ import annotations

import base64
import functools
import json
import os
import random
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from backend.core import codes  # noqa: E402
from backend.core.codes import CodeError, CodeType, Purpose  # noqa: E402

MINIAPP = ROOT / "miniapp"
VECTORS = json.loads((ROOT / "tests" / "vectors" / "codes.json").read_text())
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.5"))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def trusted_keys() -> dict:
    return {k["kid"]: ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(k["public_key"] + "=="))
            for k in VECTORS["server_keys"]}


def run_case(text, expect, keys) -> dict:
    """tests/core/test_codes.py's run_case: the result both sides must give."""
    try:
        result = codes.verify_any(codes.from_text(text), expect=expect, keys=keys, now=VECTORS["now"],
                                  window=VECTORS["window"], skew=VECTORS["skew"], revoked=VECTORS["revoked"])
    except CodeError as exc:
        return {"error": exc.code}
    if isinstance(result, codes.Personal):
        return {"ok": True, "type": "personal", "fields": {"user_id": result.user_id, "device_id": result.device_id,
                                                           "purpose": result.purpose.name, "ts": result.ts}}
    fields = {k: b64(v) if isinstance(v, bytes) else v for k, v in result.fields.items()}
    return {"ok": True, "type": result.type.name, "kid": result.kid, "fields": fields,
            "not_before": result.not_before, "not_after": result.not_after}


# --- (a) Python ----------------------------------------------------------------------------------

def python_rate() -> tuple[float, bytes]:
    """Personal codes as tests/vectors/make_codes.py makes them; verifications per second."""
    now = time.time()
    server = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32)
    device = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
    credential = codes.encode_signed(CodeType.credential, {"user_id": 501, "device_id": 11,
                                                           "device_key": codes.compress_p256(device.public_key())},
                                     kid=2, private_key=server, not_before=int(now) - 300, not_after=int(now) + 86400)
    made = [codes.encode_personal(credential, device_key=device, purpose=Purpose.pay, ts=int(now) - i) for i in range(8)]
    keys = {2: server.public_key()}
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        for data in made:
            codes.verify_personal(data, keys=keys, now=now)
        count += len(made)
    return count / (time.perf_counter() - start), made[0]


# --- agreement cases -----------------------------------------------------------------------------

NOISE = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abcxyz=_~?#中\u00a0\u3000\t\n\x1c\ufeff"


def mutations(seed: int = 2024, per_case: int = 60) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    kinds = ["place", "ticket", "personal", "setup"]
    for case in VECTORS["cases"]:
        try:
            data = codes.from_text(case["text"])
        except CodeError:
            data = case["text"].encode()
        for _ in range(per_case):
            expect = case["expect"] if rnd.random() < 0.8 else rnd.choice(kinds)
            how = rnd.randrange(7)
            raw = bytearray(data)
            if how == 0 and raw:  # one bit
                i = rnd.randrange(len(raw) * 8)
                raw[i // 8] ^= 1 << (i % 8)
                text = codes.to_text(bytes(raw))
            elif how == 1:  # cut short or run long
                cut = rnd.randrange(len(raw) + 1)
                text = codes.to_text(bytes(raw[:cut]) + bytes(rnd.randrange(256) for _ in range(rnd.randrange(3))))
            elif how == 2 and raw:  # a byte replaced (often a header byte)
                i = rnd.randrange(min(len(raw), 8)) if rnd.random() < 0.5 else rnd.randrange(len(raw))
                raw[i] = rnd.randrange(256)
                text = codes.to_text(bytes(raw))
            elif how == 3:  # the text garbled
                text = list(codes.to_text(bytes(raw)))
                for _ in range(rnd.randrange(1, 3)):
                    text.insert(rnd.randrange(len(text) + 1), rnd.choice(NOISE))
                text = "".join(text)
            elif how == 4:  # as a poster URL, decorated
                url = codes.to_url("https://cyql.example.cn/x", bytes(raw))
                tail = list(url[url.rfind("/c/") + 3:])
                for _ in range(rnd.randrange(0, 3)):
                    tail.insert(rnd.randrange(len(tail) + 1), rnd.choice("=.+/-_ ~!中\t"))
                text = url[:url.rfind("/c/") + 3] + "".join(tail) + rnd.choice(["", "?a=1", "#x", "=", "==", "==="])
            elif how == 5:  # whitespace around, the way scanners sometimes add it
                text = rnd.choice([" ", "\n", "\u3000", "\x1c", "\ufeff", "\u00a0"]) + case["text"] + rnd.choice(["", " \r\n", "\x85"])
            else:  # varints made non-minimal or huge
                tail = bytes(raw[3:])
                text = codes.to_text(bytes(raw[:3]) + rnd.choice([b"\x80\x00", b"\xff" * 10 + b"\x01", b"\x81\x80\x00"]) + tail)
            out.append({"text": text, "expect": expect})
    return out


def text_forms(seed: int = 45, count: int = 600) -> list[str]:
    """Raw texts for from_text alone: base64url tails with padding, junk and non-ASCII; Base45 bits."""
    rnd = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/"
    junk = "=.~! \t\n中é"
    out = []
    for _ in range(count):
        if rnd.random() < 0.7:
            tail = "".join(rnd.choice(alphabet if rnd.random() < 0.85 else junk) for _ in range(rnd.randrange(0, 14)))
            out.append(rnd.choice(["https://a.cn/c/", "/c/", "x/c/y/c/"]) + tail + rnd.choice(["", "?q", "#f", "?a#b"]))
        else:
            b45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
            out.append(rnd.choice(["CY:", " CY:", "cy:"]) + "".join(rnd.choice(b45) for _ in range(rnd.randrange(0, 8))))
    return out


def from_text_result(text: str) -> str:
    try:
        return codes.from_text(text).hex()
    except CodeError as exc:
        return exc.code


# --- (b), (c) the browser ------------------------------------------------------------------------

PAGE = """<!doctype html><meta charset="utf-8"><title>codes bench</title>
<script type="importmap">{"imports": {"@noble/curves/": "/node_modules/@noble/curves/",
                                       "@noble/hashes/": "/node_modules/@noble/hashes/"}}</script>
<script type="module">
import * as codes from '/lib/codes.js'
window.codes = codes
window.benchReady = true
</script>"""

BROWSER_JS = """async ({ vectors, fuzz, texts, seconds }) => {
  const c = window.codes
  const keys = c.keysFromListing(vectors.server_keys)
  const opts = { keys, now: vectors.now, window: vectors.window, skew: vectors.skew, revoked: vectors.revoked }
  const b64 = (v) => (v instanceof Uint8Array ? c.b64url(v) : v)
  function runCase({ text, expect }) {
    let r
    try {
      r = c.verifyAny(c.fromText(text), { ...opts, expect })
    } catch (e) {
      if (e instanceof c.CodeError) return { error: e.code }
      return { exception: String(e) }
    }
    if (r.type === 'personal') {
      return { ok: true, type: 'personal', fields: { user_id: r.userId, device_id: r.deviceId, purpose: r.purpose, ts: r.ts } }
    }
    return { ok: true, type: r.type, kid: r.kid, fields: Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, b64(v)])),
             not_before: r.notBefore, not_after: r.notAfter }
  }
  const vectorResults = vectors.cases.map(runCase)
  const fuzzResults = fuzz.map(runCase)
  const textResults = texts.map((t) => {
    try {
      return Array.from(c.fromText(t), (b) => b.toString(16).padStart(2, '0')).join('')
    } catch (e) {
      return e instanceof c.CodeError ? e.code : String(e)
    }
  })

  // (b) verify: the fresh personal vector, again and again (after one warm-up call)
  const fresh = c.fromText(vectors.cases.find((x) => x.name === 'personal pay code, fresh').text)
  const first = performance.now()
  c.verifyPersonal(fresh, opts)
  const coldMs = performance.now() - first
  let n = 0
  let start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    c.verifyPersonal(fresh, opts)
    n++
  }
  const verifyMs = (performance.now() - start) / n

  // (c) make: WebCrypto P-256 key (non-extractable), credential signed with make_codes.py's key 2
  const now = Date.now() / 1000
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  const credential = c.encodeSigned('credential', { user_id: 9001, device_id: 77, device_key: c.compressP256(raw) },
    { kid: 2, privateKey: new Uint8Array(32).fill(2), notBefore: now - 300, notAfter: now + 86400 })
  const madeTexts = []
  for (let i = 0; i < 8; i++) madeTexts.push(c.toText(await c.makePersonal(credential, pair.privateKey, i % 2 ? 'pay' : 'identify', now)))
  let m = 0
  start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    await c.makePersonal(credential, pair.privateKey, 'pay', now)
    m++
  }
  const makeMs = (performance.now() - start) / m
  return { vectorResults, fuzzResults, textResults, coldMs, verifyMs, verifyCount: n, makeMs, makeCount: m, madeTexts,
           userAgent: navigator.userAgent }
}"""


class Handler(SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0] == "/__bench.html":
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def browser_run(fuzz: list[dict], texts: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    if not (MINIAPP / "node_modules" / "@noble" / "curves").is_dir():
        sys.exit("miniapp/node_modules is missing: run `cd miniapp && npm ci` first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(MINIAPP)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/__bench.html")
            try:
                page.wait_for_function("window.benchReady === true", timeout=15_000)
            except Exception:
                sys.exit(f"codes.js did not load in Chromium: {errors}")
            result = page.evaluate(BROWSER_JS, {"vectors": VECTORS, "fuzz": fuzz, "texts": texts,
                                                "seconds": SECONDS})
            browser.close()
            return result
    finally:
        server.shutdown()


def main() -> int:
    keys = trusted_keys()
    problems = []

    # the shared vectors, Python side
    for case in VECTORS["cases"]:
        if run_case(case["text"], case["expect"], keys) != case["result"]:
            problems.append(f"python disagrees with the vector {case['name']!r}")

    rate, _ = python_rate()
    print(f"python  verify_personal: {rate:,.0f} codes/s ({1000 / rate:.3f} ms/code)")

    fuzz = mutations()
    expected = [run_case(f["text"], f["expect"], keys) for f in fuzz]
    texts = text_forms()
    got = browser_run(fuzz, texts)
    print(f"browser {got['userAgent'].split(') ')[-1] if got['userAgent'] else 'Chromium'}")
    print(f"browser verifyPersonal:  {got['verifyMs']:.2f} ms/code ({got['verifyCount']:,} runs; first call "
          f"{got['coldMs']:.1f} ms)")
    print(f"browser makePersonal:    {got['makeMs']:.2f} ms/code ({got['makeCount']:,} WebCrypto signatures)")

    for case, result in zip(VECTORS["cases"], got["vectorResults"]):
        if result != case["result"]:
            problems.append(f"codes.js disagrees with the vector {case['name']!r}: {result}")
    mismatches = [(f, e, g) for f, e, g in zip(fuzz, expected, got["fuzzResults"]) if e != g]
    for f, e, g in mismatches[:10]:
        problems.append(f"mutated code disagrees: {f!r}: python {e}, js {g}")
    text_mismatches = [(t, from_text_result(t), g) for t, g in zip(texts, got["textResults"]) if from_text_result(t) != g]
    for t, e, g in text_mismatches[:10]:
        problems.append(f"from_text disagrees on {t!r}: python {e}, js {g}")
    outcomes = {}
    for e in expected:
        outcomes[e.get("error", "ok")] = outcomes.get(e.get("error", "ok"), 0) + 1
    print(f"agreement: {len(VECTORS['cases'])} vectors, {len(fuzz):,} mutated codes "
          f"({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}), {len(texts)} raw texts; "
          f"{len(mismatches) + len(text_mismatches)} disagreements")

    for text in got["madeTexts"]:
        try:
            made = codes.verify_personal(codes.from_text(text), keys=keys, now=time.time())
            if (made.user_id, made.device_id) != (9001, 77):
                problems.append(f"a browser-made code names the wrong user/device: {made}")
        except CodeError as exc:
            problems.append(f"a code made in the browser fails in Python: {exc.code}")
    print(f"cross: {len(got['madeTexts'])} codes made with WebCrypto in Chromium verify in Python")

    for problem in problems:
        print("  ! " + problem)
    status = "vectors ok" if not problems else f"vectors MISMATCH ({len(problems)})"
    print(f"verify: python {rate:,.0f} codes/s, browser {got['verifyMs']:.1f} ms/code verify, "
          f"{got['makeMs']:.1f} ms/code make, {status}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
