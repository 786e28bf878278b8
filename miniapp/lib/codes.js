// Signed QR payloads, the JS twin of backend/core/codes.py: the same bytes, the same stable error
// codes, checked in the same order. The format itself (and making personal codes with WebCrypto)
// is in codes-format.js; this file adds verification.
//
// Verification uses @noble/curves (audited, pure JS), not WebCrypto: WeChat's in-app browser and
// older iOS Safari have no Ed25519 in WebCrypto, and a scanner must verify synchronously, offline.
//   - Ed25519 (server signatures): RFC 8032 / FIPS 186-5 strict decoding (zip215: false), as OpenSSL.
//   - ECDSA P-256 (device signatures): the message is hashed once with SHA-256 (prehash: true, as
//     Python's ECDSA(SHA256())); raw r||s ("compact"); high-S accepted (lowS: false), because
//     WebCrypto and OpenSSL make high-S signatures half of the time and Python accepts them.
import { ed25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  CodeError, CodeType, REVOCATION_FIELD, SIG_LEN, VERSION, b64urlDecode, concatBytes, encodeSignedBody,
  fromEpoch, getUvarint, parseSigned, purposeName,
} from './codes-format.js'

export * from './codes-format.js'

/** GET /api/keys (or a bundle's `keys`) → Map kid → raw Ed25519 public key. */
export function keysFromListing(listing) {
  const keys = new Map()
  for (const { kid, alg, public_key: publicKey } of listing || []) {
    if (alg === 'Ed25519') keys.set(Number(kid), b64urlDecode(publicKey))
  }
  return keys
}

function lookup(keys, kid) {
  return keys instanceof Map ? keys.get(kid) : keys?.[kid]
}

function has(collection, value) {
  if (!collection) return false
  return typeof collection.has === 'function' ? collection.has(value) : collection.includes(value)
}

/** Test and bench helper: a server-signed payload, signed with a 32-byte Ed25519 secret key. */
export function encodeSigned(type, fields, { kid, privateKey, notBefore = null, notAfter = null }) {
  const body = encodeSignedBody(type, fields, { kid, notBefore, notAfter })
  return concatBytes(body, ed25519.sign(body, privateKey))
}

function ed25519Verify(signature, message, publicKey) {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false // a key or signature of the wrong shape verifies nothing
  }
}

/** Parse and check the server signature only. */
export function authentic(data, { keys }) {
  const parsed = parseSigned(data)
  const key = lookup(keys, parsed.kid)
  if (!key) throw new CodeError('unknown_key')
  if (!ed25519Verify(parsed.signature, parsed.signedPart, key)) throw new CodeError('bad_signature')
  return parsed
}

/** Check in the order a forger cannot exploit: shape, key, signature, then meaning. */
export function verifySigned(data, { keys, now, expected = null, revoked = [] }) {
  const parsed = authentic(data, { keys })
  const allowed = expected == null ? null : [].concat(expected)
  if (allowed && allowed.length && !allowed.includes(parsed.type)) throw new CodeError('wrong_type')
  if (parsed.notBefore !== null && now < parsed.notBefore) throw new CodeError('not_yet_valid')
  if (parsed.notAfter !== null && now > parsed.notAfter) throw new CodeError('expired')
  if (has(revoked, parsed.fields[REVOCATION_FIELD[parsed.type]])) throw new CodeError('revoked')
  return parsed
}

function loadP256(point) {
  try {
    return p256.Point.fromBytes(point)
  } catch {
    throw new CodeError('malformed')
  }
}

/**
 * A personal code is good for `window` seconds after the phone made it, ± `skew`.
 * Resolves {userId, deviceId, purpose (name), ts (unix seconds, the phone's clock), credential}.
 */
export function verifyPersonal(data, { keys, now, window = 30, skew = 20, revokedDevices = [] }) {
  if (data.length > 2 && data[0] === VERSION && data[1] !== CodeType.personal) {
    authentic(data, { keys }) // a forged code of another type is "bad_signature", not "wrong_type"
    throw new CodeError('wrong_type')
  }
  if (data.length < 5 + SIG_LEN || data[0] !== VERSION) throw new CodeError('malformed')
  const purpose = purposeName(data[2])
  if (!purpose) throw new CodeError('malformed')
  const body = data.subarray(0, data.length - SIG_LEN)
  const signature = data.subarray(data.length - SIG_LEN)
  let [ts, pos] = getUvarint(body, 3)
  let length
  ;[length, pos] = getUvarint(body, pos)
  if (pos + length !== body.length) throw new CodeError('malformed')
  const credential = verifySigned(body.subarray(pos), {
    keys, now, expected: 'credential', revoked: revokedDevices,
  })
  const deviceKey = loadP256(credential.fields.device_key)
  let good = false
  try {
    good = !deviceKey.is0() && p256.verify(signature, body, credential.fields.device_key, { prehash: true, lowS: false, format: 'compact' })
  } catch {
    good = false // r or s out of range
  }
  if (!good) throw new CodeError('bad_signature')
  const made = fromEpoch(ts)
  if (made > now + skew) throw new CodeError('not_yet_valid')
  if (now - made > window + skew) throw new CodeError('expired')
  return {
    type: 'personal',
    userId: credential.fields.user_id,
    deviceId: credential.fields.device_id,
    purpose,
    ts: made,
    credential,
  }
}

/**
 * Verify a code expected to be of type `expect` (a CodeType name). `revoked` maps type names to
 * collections (arrays or Sets) of revoked identifiers; personal codes use the "credential" list.
 */
export function verifyAny(data, { expect, keys, now, window = 30, skew = 20, revoked = {} }) {
  revoked = revoked || {}
  if (expect === 'personal') {
    return verifyPersonal(data, { keys, now, window, skew, revokedDevices: revoked.credential || [] })
  }
  if (!(expect in CodeType)) throw new TypeError(`unknown code type ${expect}`)
  return verifySigned(data, { keys, now, expected: expect, revoked: revoked[expect] || [] })
}

/** A short stable id of a code's bytes (for duplicate detection and logs), as Python's fingerprint. */
export function fingerprint(data) {
  return Array.from(sha256(data).subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')
}

