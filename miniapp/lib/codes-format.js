// The bytes of a signed code, without any signature checking: uvarint, Base45, the text and URL
// forms, parsing a server-signed payload, and making a personal code with WebCrypto.
// Split from codes.js so a page that only *shows* codes (个人码) never loads the verifier's curves.
// Layout and rules: backend/core/codes.py (the reference); tests/vectors/codes.json keeps the two equal.

export const VERSION = 1
export const EPOCH = 1704067200 // 2024-01-01T00:00:00Z
export const PREFIX = 'CY:'
export const SIG_LEN = 64
export const FLAG_WINDOW = 1

export const CodeType = Object.freeze({ place: 1, ticket: 2, credential: 3, personal: 4, setup: 5 })
export const Purpose = Object.freeze({ identify: 1, pay: 2 })
const TYPE_NAMES = Object.fromEntries(Object.entries(CodeType).map(([name, value]) => [value, name]))
const PURPOSE_NAMES = Object.fromEntries(Object.entries(Purpose).map(([name, value]) => [value, name]))

/** field name and kind per type; "uint" is a varint, "bytesN" N raw bytes */
export const FIELDS = Object.freeze({
  place: [['place_id', 'uint']],
  ticket: [['event_id', 'uint'], ['registration_id', 'uint']],
  credential: [['user_id', 'uint'], ['device_id', 'uint'], ['device_key', 'bytes33']],
  setup: [['setup_id', 'uint'], ['nonce', 'bytes16']],
})
/** the field a revocation list names, per type */
export const REVOCATION_FIELD = Object.freeze({
  place: 'place_id', ticket: 'registration_id', credential: 'device_id', setup: 'setup_id',
})

export const MESSAGES = Object.freeze({
  malformed: '无法识别的二维码',
  unknown_key: '签名密钥未知，请更新离线数据后重试',
  bad_signature: '二维码签名无效，可能是伪造的',
  wrong_type: '这个二维码不能在这里使用',
  not_yet_valid: '二维码尚未生效，请检查手机时间',
  expired: '二维码已过期，请刷新后重新出示',
  revoked: '二维码已作废',
})

export class CodeError extends Error {
  constructor(code) {
    super(MESSAGES[code] || code)
    this.name = 'CodeError'
    this.code = code
  }
}

export function typeName(value) {
  return TYPE_NAMES[value]
}

export function purposeName(value) {
  return PURPOSE_NAMES[value]
}

// --- bytes -------------------------------------------------------------------------------------

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const part of parts) {
    out.set(part, pos)
    pos += part.length
  }
  return out
}

export function putUvarint(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('uvarint must be a safe integer >= 0')
  const out = []
  for (;;) {
    const byte = value % 128
    value = Math.floor(value / 128)
    if (value) out.push(byte | 0x80)
    else {
      out.push(byte)
      return Uint8Array.from(out)
    }
  }
}

/**
 * Read a uvarint at `pos`: [value, next pos]. Malformed past the end, past 10 bytes, or when not
 * minimal (one payload, one byte string). Values are Numbers: exact up to 2^53, which every value
 * the server signs is (ids, seconds since 2024).
 */
export function getUvarint(data, pos) {
  let value = 0
  let shift = 0
  for (;;) {
    if (pos >= data.length || shift > 63) throw new CodeError('malformed')
    const byte = data[pos]
    pos += 1
    value += (byte & 0x7f) * 2 ** shift
    if (!(byte & 0x80)) {
      if (byte === 0 && shift) throw new CodeError('malformed')
      return [value, pos]
    }
    shift += 7
  }
}

// --- Base45 (RFC 9285) -------------------------------------------------------------------------

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'
const B45_INDEX = new Map([...B45].map((c, i) => [c, i]))

export function b45encode(data) {
  let out = ''
  for (let i = 0; i + 1 < data.length; i += 2) {
    const n = data[i] * 256 + data[i + 1]
    out += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)]
  }
  if (data.length % 2) {
    const last = data[data.length - 1]
    out += B45[last % 45] + B45[Math.floor(last / 45)]
  }
  return out
}

export function b45decode(text) {
  const values = []
  for (const c of text) {
    const v = B45_INDEX.get(c)
    if (v === undefined) throw new CodeError('malformed')
    values.push(v)
  }
  if (values.length % 3 === 1) throw new CodeError('malformed')
  const out = []
  for (let i = 0; i < values.length; i += 3) {
    if (i + 2 < values.length) {
      const n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
      if (n > 0xffff) throw new CodeError('malformed')
      out.push(n >> 8, n & 0xff)
    } else {
      const n = values[i] + values[i + 1] * 45
      if (n > 0xff) throw new CodeError('malformed')
      out.push(n)
    }
  }
  return Uint8Array.from(out)
}

// --- base64url ---------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]))

/** Unpadded base64url, as the API and the vectors write bytes. */
export function b64url(data) {
  let out = ''
  for (let i = 0; i < data.length; i += 3) {
    const n = (data[i] << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0)
    const chars = [n >> 18, (n >> 12) & 63, (n >> 6) & 63, n & 63].map((v) => B64[v])
    out += chars.slice(0, Math.min(4, data.length - i + 1)).join('')
  }
  return out.replace(/\+/g, '-').replace(/\//g, '_')
}

/**
 * Decode base64url the way Python's base64.urlsafe_b64decode does (non-strict binascii): '-' and
 * '_' as well as '+' and '/' are digits, other ASCII is skipped, '=' ends the input once it
 * completes a quantum, a lone trailing digit or a short quantum is an error. Non-ASCII is an error.
 * The same text must give the same bytes (or the same failure) on both sides.
 */
export function b64urlDecodeLenient(text) {
  if (/[^\x00-\x7f]/.test(text)) throw new CodeError('malformed') // the whole text, before any decoding
  const out = []
  let quad = 0
  let left = 0
  let pads = 0
  for (const ch of text) {
    if (ch === '=') {
      if (quad >= 2 && quad + ++pads >= 4) return Uint8Array.from(out)
      continue
    }
    const v = B64_INDEX.get(ch === '-' ? '+' : ch === '_' ? '/' : ch)
    if (v === undefined) continue
    pads = 0
    if (quad === 0) {
      left = v
      quad = 1
    } else if (quad === 1) {
      out.push(((left << 2) | (v >> 4)) & 0xff)
      left = v & 0x0f
      quad = 2
    } else if (quad === 2) {
      out.push(((left << 4) | (v >> 2)) & 0xff)
      left = v & 0x03
      quad = 3
    } else {
      out.push(((left << 6) | v) & 0xff)
      quad = 0
    }
  }
  if (quad !== 0) throw new CodeError('malformed')
  return Uint8Array.from(out)
}

/** Strict unpadded base64url (keys and credentials from our own API). */
export function b64urlDecode(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new CodeError('malformed')
  }
  return b64urlDecodeLenient(text + '='.repeat((4 - (text.length % 4)) % 4))
}

// --- text forms --------------------------------------------------------------------------------

// Python's str.strip() whitespace (str.isspace), which differs from JS trim() in a few characters.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g')

export function toText(payload) {
  return PREFIX + b45encode(payload)
}

export function toUrl(baseUrl, payload) {
  return `${baseUrl.replace(/\/+$/, '')}/c/${b64url(payload)}`
}

/** Accept `CY:<base45>` or a URL ending in `/c/<base64url>`; anything else is malformed. */
export function fromText(text) {
  if (typeof text !== 'string') throw new CodeError('malformed')
  text = text.replace(PY_STRIP, '')
  if (text.startsWith(PREFIX)) return b45decode(text.slice(PREFIX.length))
  const marker = text.lastIndexOf('/c/')
  if (marker >= 0) {
    const tail = text.slice(marker + 3).split('?')[0].split('#')[0]
    // Python pads by the length in code points; a non-ASCII tail fails either way.
    return b64urlDecodeLenient(tail + '='.repeat((4 - ([...tail].length % 4)) % 4))
  }
  throw new CodeError('malformed')
}

export function toEpoch(unixSeconds) {
  return Math.max(Math.trunc(unixSeconds) - EPOCH, 0)
}

export function fromEpoch(value) {
  return value + EPOCH
}

// --- server-signed payloads --------------------------------------------------------------------

/**
 * Parse (not verify) a server-signed payload:
 * {type, kid, fields, notBefore, notAfter, signedPart, signature}; times are unix seconds or null,
 * bytes fields are Uint8Arrays. Throws CodeError('malformed' | 'wrong_type').
 */
export function parseSigned(data) {
  if (data.length < 4 + SIG_LEN || data[0] !== VERSION) throw new CodeError('malformed')
  const type = typeName(data[1])
  if (!type) throw new CodeError('malformed')
  if (type === 'personal') throw new CodeError('wrong_type')
  if (data[2] & ~FLAG_WINDOW) throw new CodeError('malformed')
  const body = data.subarray(0, data.length - SIG_LEN)
  const signature = data.subarray(data.length - SIG_LEN)
  let [kid, pos] = getUvarint(body, 3)
  let notBefore = null
  let notAfter = null
  if (data[2] & FLAG_WINDOW) {
    let nb, na
    ;[nb, pos] = getUvarint(body, pos)
    ;[na, pos] = getUvarint(body, pos)
    notBefore = fromEpoch(nb)
    notAfter = fromEpoch(na)
  }
  const fields = {}
  for (const [name, kind] of FIELDS[type]) {
    if (kind === 'uint') {
      ;[fields[name], pos] = getUvarint(body, pos)
    } else {
      const size = Number(kind.slice(5))
      if (pos + size > body.length) throw new CodeError('malformed')
      fields[name] = body.slice(pos, pos + size)
      pos += size
    }
  }
  if (pos !== body.length) throw new CodeError('malformed')
  return { type, kid, fields, notBefore, notAfter, signedPart: body, signature }
}

/** The unsigned part of a server-signed payload (encodeSigned in codes.js adds the signature). */
export function encodeSignedBody(type, fields, { kid, notBefore = null, notAfter = null }) {
  const hasWindow = notBefore !== null || notAfter !== null
  const parts = [Uint8Array.of(VERSION, CodeType[type], hasWindow ? FLAG_WINDOW : 0), putUvarint(kid)]
  if (hasWindow) parts.push(putUvarint(toEpoch(notBefore || EPOCH)), putUvarint(toEpoch(notAfter || EPOCH)))
  for (const [name, kind] of FIELDS[type]) {
    const value = fields[name]
    if (kind === 'uint') parts.push(putUvarint(Number(value)))
    else {
      const size = Number(kind.slice(5))
      if (value.length !== size) throw new RangeError(`${name} must be ${size} bytes`)
      parts.push(value)
    }
  }
  return concatBytes(...parts)
}

// --- personal codes (made on the phone) --------------------------------------------------------

/** SEC1 uncompressed (65 bytes, 0x04|x|y) → compressed (33 bytes, 0x02/0x03|x). */
export function compressP256(raw) {
  if (raw.length === 33 && (raw[0] === 2 || raw[0] === 3)) return Uint8Array.from(raw)
  if (raw.length !== 65 || raw[0] !== 4) throw new RangeError('expected a 65-byte uncompressed P-256 point')
  const out = new Uint8Array(33)
  out[0] = 2 + (raw[64] & 1)
  out.set(raw.subarray(1, 33), 1)
  return out
}

export function personalBody(credential, purpose, ts) {
  const value = typeof purpose === 'string' ? Purpose[purpose] : purpose
  if (!purposeName(value)) throw new RangeError(`unknown purpose ${purpose}`)
  return concatBytes(Uint8Array.of(VERSION, CodeType.personal, value), putUvarint(toEpoch(ts)),
    putUvarint(credential.length), credential)
}

/**
 * Make a personal code: body signed by this phone's device key with ECDSA P-256 / SHA-256.
 * WebCrypto already returns the raw r||s (IEEE P1363) form the format wants — no DER.
 * Resolves the payload bytes (show them with toText).
 */
export async function makePersonal(credentialBytes, privateKey, purpose, nowSeconds) {
  const body = personalBody(credentialBytes, purpose, nowSeconds)
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, body))
  if (signature.length !== SIG_LEN) throw new Error('unexpected ECDSA signature length')
  return concatBytes(body, signature)
}
