// This phone's device key, which signs the personal code (个人码) offline, and the server-signed
// credential that vouches for it. One record per user id in IndexedDB:
//   {user_id, key_pair, public_key, device_id, credential, expires_at, code_window, refresh_seconds, updated_at}
//
// Why ECDSA P-256 and not Ed25519 for the device key: the key is made and used through WebCrypto
// (the private key is generated non-extractable: no script, not even ours, can read it out, and it
// survives in IndexedDB as a CryptoKey). ECDSA P-256 has been in WebCrypto everywhere we run for
// years — iOS Safari / WKWebView, and WeChat's in-app browser (XWeb / X5, Chromium-based but some
// versions behind). Ed25519 arrived in WebCrypto only in recent Chrome (137) and Safari (17), so a
// good share of phones in WeChat would have none. The server's own keys stay Ed25519: phones only
// verify those, in pure JS (lib/codes.js), never sign with them.
import { ApiError, apiFetch } from './api.js'
import { b64url, compressP256, fromText, parseSigned } from './codes-format.js'
import { closeDB, db } from './db.js'
import { currentUserId } from './session.js'

const STORE = 'devices'
/** Renew the credential when fewer than this many seconds are left (and the network answers). */
export const RENEW_BEFORE = 3 * 86400

/** Close the app's database connection (tests: a page reload). */
export const closeDeviceDB = closeDB

const nowSeconds = () => Date.now() / 1000

/** The stored record of this phone for a user (no network). */
export async function loadDevice(userId = currentUserId()) {
  if (userId == null) return null
  return (await (await db()).get(STORE, userId)) || null
}

async function saveDevice(record) {
  const entry = { ...record, updated_at: new Date().toISOString() }
  await (await db()).put(STORE, entry)
  return entry
}

/** Forget this phone's key for a user, here only. */
export async function dropLocalDevice(userId = currentUserId()) {
  if (userId == null) return
  await (await db()).delete(STORE, userId)
}

/** A credential that can sign codes now: present, not past its expiry. */
export function usableCredential(record, now = nowSeconds()) {
  return Boolean(record?.key_pair?.privateKey && record.credential && record.expires_at && now < record.expires_at)
}

/** The credential's bytes, to put inside a personal code. */
export function credentialBytes(record) {
  return fromText(record.credential)
}

/** A short label for 我的设备, from the user agent: 'iPhone · 微信', 'Android · Chrome'. */
export function deviceLabel(userAgent = globalThis.navigator?.userAgent || '') {
  const ua = userAgent
  const platform = /iPhone/.test(ua) ? 'iPhone'
    : /iPad/.test(ua) ? 'iPad'
      : /HarmonyOS|OpenHarmony/.test(ua) ? '鸿蒙'
        : /Android/.test(ua) ? 'Android'
          : /Windows/.test(ua) ? 'Windows'
            : /Mac OS X|Macintosh/.test(ua) ? 'Mac'
              : /Linux/.test(ua) ? 'Linux' : '手机'
  const app = /MicroMessenger/.test(ua) ? '微信'
    : /AlipayClient/.test(ua) ? '支付宝'
      : /EdgA?\//.test(ua) ? 'Edge'
        : /Firefox|FxiOS/.test(ua) ? 'Firefox'
          : /Chrome|CriOS|Chromium/.test(ua) ? 'Chrome'
            : /Safari/.test(ua) ? 'Safari' : '浏览器'
  return `${platform} · ${app}`
}

async function newKey(userId) {
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false /* private key non-extractable */,
    ['sign', 'verify'])
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey))
  return saveDevice({
    user_id: userId, key_pair: keyPair, public_key: b64url(compressP256(raw)),
    device_id: null, credential: null, expires_at: null,
  })
}

function withCredential(record, { device, credential, code_window, refresh_seconds }) {
  const parsed = parseSigned(fromText(credential))
  // the code timing comes with the credential, so it is there offline too (the personal-code page)
  return { ...record, device_id: device.id, credential, expires_at: parsed.notAfter, code_window, refresh_seconds }
}

/** Save what the server said — unless someone else has signed in on this phone meanwhile. */
async function keep(record) {
  if (currentUserId() !== record.user_id) return record
  return saveDevice(record)
}

async function register(record) {
  const answer = await apiFetch('/api/me/devices', {
    method: 'POST', body: { public_key: record.public_key, name: deviceLabel() },
  })
  return keep(withCredential(record, answer))
}

const GONE = new Set(['device_not_found', 'device_revoked'])

class DeviceGone extends Error {}

async function renew(record) {
  try {
    const answer = await apiFetch(`/api/me/devices/${record.device_id}/credential`, { method: 'POST' })
    return keep(withCredential(record, answer))
  } catch (error) {
    if (error instanceof ApiError && GONE.has(error.code)) throw new DeviceGone()
    throw error
  }
}

/** Still one of my devices on the server? (Removed in 我的设备 on another phone, or by an administrator.) */
async function stillListed(record) {
  const devices = await apiFetch('/api/me/devices')
  if (!Array.isArray(devices) || !devices.some((d) => d.id === record.device_id)) throw new DeviceGone()
  return record
}

async function ensure(userId, { now, online, check }) {
  let record = await loadDevice(userId)
  if (!record?.key_pair) record = await newKey(userId)
  if (!online) return record
  let fallback = usableCredential(record, now) ? record : null
  try {
    try {
      if (!record.device_id || !record.credential) return await register(record)
      // a record stored before the server sent the code timing renews once to learn it
      if (record.expires_at - now < RENEW_BEFORE || !record.refresh_seconds) return await renew(record)
      return check ? await stillListed(record) : record
    } catch (error) {
      if (!(error instanceof DeviceGone)) throw error
      // This key is no longer vouched for: start over with a new one.
      fallback = null
      await dropLocalDevice(userId)
      return await register(await newKey(userId))
    }
  } catch (error) {
    // No answer, server trouble, or a refusal we cannot fix here: keep showing codes for as long
    // as the credential we have is good; otherwise the caller shows why.
    if (fallback) return fallback
    throw error
  }
}

const pending = new Map()

/**
 * This phone's device for the signed-in user, registered and fresh when the network allows.
 * Resolves the record (its credential may be missing or expired when offline), or null when
 * nobody is signed in; rejects with ApiError only when there is no usable credential to fall back on.
 * `check`: also ask the server whether this device is still listed (the personal-code page does, so
 * a phone removed elsewhere gets a new key instead of showing codes that scanners refuse).
 */
export function ensureDevice({ now = nowSeconds(), online = globalThis.navigator?.onLine !== false, check = false } = {}) {
  const userId = currentUserId()
  if (userId == null) return Promise.resolve(null)
  if (!pending.has(userId)) {
    pending.set(userId, ensure(userId, { now, online, check }).finally(() => pending.delete(userId)))
  }
  return pending.get(userId)
}

/** On logout: tell the server to drop this phone (best effort), then forget the key here. */
export async function forgetDevice(userId = currentUserId()) {
  if (userId == null) return
  const record = await loadDevice(userId).catch(() => null)
  if (record?.device_id) {
    try {
      await apiFetch(`/api/me/devices/${record.device_id}`, { method: 'DELETE', authRedirect: false })
    } catch {
      // Offline or signed out already: the key is forgotten here all the same, and the credential
      // ends by itself within days.
    }
  }
  await dropLocalDevice(userId)
}
