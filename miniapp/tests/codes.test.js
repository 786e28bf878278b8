// codes.js against the shared vectors (the same file pytest checks backend/core/codes.py with),
// plus personal codes made here with WebCrypto, as the phone does.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import {
  CodeError, MESSAGES, b45decode, b45encode, b64url, compressP256, encodeSigned, fingerprint, fromText,
  getUvarint, keysFromListing, makePersonal, putUvarint, toText, toUrl, verifyAny, verifyPersonal,
} from '../lib/codes.js'

const VECTORS = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../tests/vectors/codes.json'), 'utf8'))
const KEYS = keysFromListing(VECTORS.server_keys)
const hex = (bytes) => Buffer.from(bytes).toString('hex')
const utf8 = (text) => new TextEncoder().encode(text)

/** The JS twin of tests/core/test_codes.py's run_case: same fields, same formats. */
function runCase(testCase) {
  let result
  try {
    const data = fromText(testCase.text)
    result = verifyAny(data, {
      expect: testCase.expect, keys: KEYS, now: VECTORS.now, window: VECTORS.window, skew: VECTORS.skew,
      revoked: VECTORS.revoked,
    })
  } catch (error) {
    if (error instanceof CodeError) return { error: error.code }
    throw error
  }
  if (result.type === 'personal') {
    return {
      ok: true, type: 'personal',
      fields: { user_id: result.userId, device_id: result.deviceId, purpose: result.purpose, ts: result.ts },
    }
  }
  const fields = Object.fromEntries(Object.entries(result.fields).map(([k, v]) => [k, v instanceof Uint8Array ? b64url(v) : v]))
  return { ok: true, type: result.type, kid: result.kid, fields, not_before: result.notBefore, not_after: result.notAfter }
}

function codeOf(fn) {
  try {
    fn()
  } catch (error) {
    if (error instanceof CodeError) return error.code
    throw error
  }
  return 'ok'
}

describe('shared vectors', () => {
  it.each(VECTORS.cases.map((c) => [c.name, c]))('%s', (_name, testCase) => {
    expect(runCase(testCase)).toEqual(testCase.result)
  })

  it('cover every failure code', () => {
    const seen = new Set(VECTORS.cases.map((c) => c.result.error))
    for (const code of Object.keys(MESSAGES)) expect(seen).toContain(code)
  })

  it.each(VECTORS.base45)('base45 %j ↔ %j (RFC 9285)', (raw, text) => {
    expect(b45encode(utf8(raw))).toBe(text)
    expect(hex(b45decode(text))).toBe(hex(utf8(raw)))
  })

  it.each(VECTORS.uvarint)('uvarint %i ↔ %s', (value, hexed) => {
    expect(hex(putUvarint(value))).toBe(hexed)
    expect(getUvarint(Buffer.from(hexed, 'hex'), 0)).toEqual([value, hexed.length / 2])
  })

  it('sizes match the recorded ones', () => {
    const personal = VECTORS.cases.find((c) => c.name === 'personal pay code, fresh')
    expect(fromText(personal.text).length).toBe(VECTORS.sizes.personal)
    expect(personal.text.length).toBe(VECTORS.sizes.personal_text_chars)
  })
})

describe('primitives', () => {
  it('refuses non-minimal varints and running off the end', () => {
    expect(codeOf(() => getUvarint(Buffer.from('8000', 'hex'), 0))).toBe('malformed')
    expect(codeOf(() => getUvarint(Buffer.from('80', 'hex'), 0))).toBe('malformed')
    expect(codeOf(() => getUvarint(Buffer.from('ffffffffffffffffffff01', 'hex'), 0))).toBe('malformed')
  })

  it('refuses Base45 triplets above 65535 and a dangling character', () => {
    expect(codeOf(() => b45decode(':::'))).toBe('malformed')
    expect(codeOf(() => b45decode('FGW'))).toBe('ok') // 65535
    expect(codeOf(() => b45decode('ABCD'))).toBe('malformed')
    expect(codeOf(() => b45decode('V5'))).toBe('malformed') // 31 + 5*45 > 255
  })

  it('reads poster URLs as Python does, query and fragment ignored', () => {
    const place = fromText(VECTORS.cases[0].text)
    const url = toUrl('https://cyql.example.cn/', place)
    expect(url).toBe(VECTORS.cases[1].text)
    expect(hex(fromText(`  ${url}?from=poster#top \n`))).toBe(hex(place))
    expect(toText(place)).toBe(VECTORS.cases[0].text)
    expect(codeOf(() => fromText('https://x.cn/c/A'))).toBe('malformed') // one digit short of a byte
    expect(codeOf(() => fromText('https://x.cn/c/中文'))).toBe('malformed')
    expect(codeOf(() => fromText(42))).toBe('malformed')
  })

  it('fingerprints like Python (first 32 hex digits of SHA-256)', () => {
    expect(fingerprint(utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223')
  })
})

describe('every single bit flip is caught', () => {
  it.each([['place poster', 'place'], ['ticket inside its window', 'ticket'], ['personal pay code, fresh', 'personal']])(
    '%s',
    (name, expectType) => {
      const data = fromText(VECTORS.cases.find((c) => c.name === name).text)
      for (let i = 0; i < data.length * 8; i++) {
        const flipped = Uint8Array.from(data)
        flipped[i >> 3] ^= 1 << (i & 7)
        const code = codeOf(() =>
          verifyAny(flipped, { expect: expectType, keys: KEYS, now: VECTORS.now, revoked: VECTORS.revoked }))
        expect(code, `bit ${i}`).not.toBe('ok')
      }
    },
    60_000, // ~1,500 P-256 verifications in pure JS: seconds on a busy 2-core machine
  )
})

describe('personal codes made with WebCrypto', () => {
  const NOW = VECTORS.now
  const serverKey = new Uint8Array(32).fill(2) // tests/vectors/make_codes.py's kid 2

  async function phone(deviceId = 21) {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
    const credential = encodeSigned('credential', { user_id: 777, device_id: deviceId, device_key: compressP256(raw) }, {
      kid: 2, privateKey: serverKey, notBefore: NOW - 300, notAfter: NOW + 7 * 86400,
    })
    return { pair, raw, credential }
  }

  it('compresses the exported 65-byte key to 33 bytes with the parity of y', async () => {
    const { raw } = await phone()
    const compressed = compressP256(raw)
    expect(compressed.length).toBe(33)
    expect(compressed[0]).toBe(2 + (raw[64] & 1))
  })

  it('verifies, many times over (high-S signatures included), and names user, device and purpose', async () => {
    const { pair, credential } = await phone()
    for (let i = 0; i < 40; i++) {
      const code = await makePersonal(credential, pair.privateKey, i % 2 ? 'pay' : 'identify', NOW - 3)
      const text = toText(code)
      expect(text).toMatch(/^CY:[0-9A-Z $%*+\-./:]+$/)
      const result = verifyPersonal(fromText(text), { keys: KEYS, now: NOW, window: 30, skew: 20 })
      expect(result).toMatchObject({ userId: 777, deviceId: 21, purpose: i % 2 ? 'pay' : 'identify', ts: NOW - 3 })
    }
  })

  it('refuses the code once the window has passed, and from a revoked device', async () => {
    const { pair, credential } = await phone(13)
    const code = await makePersonal(credential, pair.privateKey, 'identify', NOW)
    expect(codeOf(() => verifyPersonal(code, { keys: KEYS, now: NOW + 51 }))).toBe('expired')
    expect(codeOf(() => verifyPersonal(code, { keys: KEYS, now: NOW + 50 }))).toBe('ok')
    expect(codeOf(() => verifyPersonal(code, { keys: KEYS, now: NOW, revokedDevices: [13] }))).toBe('revoked')
  })

  it('refuses a code signed by another phone for this credential', async () => {
    const { credential } = await phone()
    const other = await phone()
    const code = await makePersonal(credential, other.pair.privateKey, 'pay', NOW)
    expect(codeOf(() => verifyPersonal(code, { keys: KEYS, now: NOW }))).toBe('bad_signature')
  })

  it('calls a credential with an invalid device point malformed, before checking the signature', async () => {
    const badPoint = new Uint8Array(33).fill(0xff)
    badPoint[0] = 2
    const credential = encodeSigned('credential', { user_id: 1, device_id: 1, device_key: badPoint }, {
      kid: 2, privateKey: serverKey, notBefore: NOW - 300, notAfter: NOW + 300,
    })
    const { pair } = await phone()
    const code = await makePersonal(credential, pair.privateKey, 'pay', NOW)
    expect(codeOf(() => verifyPersonal(code, { keys: KEYS, now: NOW }))).toBe('malformed')
  })

  it('uses Ed25519 server keys as the vectors publish them', () => {
    const publicKey = ed25519.getPublicKey(serverKey)
    expect(b64url(publicKey)).toBe(VECTORS.server_keys.find((k) => k.kid === 2).public_key)
  })
})
