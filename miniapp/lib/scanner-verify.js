// Offline verification on a scanner device (a station's phone): the bundle from
// GET /api/scanner/bundle (keys, revocation feed, window and skew) kept in IndexedDB, and
// verifyScanned() that checks a scanned code against it with lib/codes.js — no network needed.
//
// The bundle comes whole (`full`: replaces what is stored) or as a delta after `?since=cursor`:
// revoked credentials and tickets are added, blocked users added, restored users removed; the keys
// are always the server's whole active set, so they replace the stored ones (a key rotation brings
// the new key; a retired key stops verifying).
import { CodeError, fromText, keysFromListing, verifyAny } from './codes.js'
import { closeDB, db } from './db.js'

const STORE = 'scanner'
const KEY = 'bundle'

const union = (a = [], b = []) => [...new Set([...a, ...b])]

/** Merge a bundle answer into what is stored (pure; returns the new stored value). */
export function applyBundle(stored, bundle) {
  if (!bundle.full && !stored) throw new Error('a delta bundle needs a stored full bundle first')
  const base = bundle.full ? {} : stored
  const restored = new Set(bundle.restored_users || [])
  return {
    cursor: bundle.cursor,
    keys: bundle.keys,
    revoked_credentials: union(bundle.full ? [] : base.revoked_credentials, bundle.revoked_credentials),
    revoked_tickets: union(bundle.full ? [] : base.revoked_tickets, bundle.revoked_tickets),
    blocked_users: union((bundle.full ? [] : base.blocked_users).filter((id) => !restored.has(id)), bundle.blocked_users),
    place: bundle.place ?? base.place ?? null,
    device: bundle.device ?? base.device ?? null,
    window: bundle.personal_code_window ?? base.window ?? 30,
    skew: bundle.personal_code_skew ?? base.skew ?? 20,
    updated_at: new Date().toISOString(),
  }
}

// --- persistence -------------------------------------------------------------------------------

/** Close the app's database connection (tests: a page reload). */
export const closeScannerDB = closeDB

export async function loadStored() {
  return (await (await db()).get(STORE, KEY)) || null
}

/** Merge a freshly fetched bundle into the stored one and keep the result (fetch first, then this). */
export async function storeBundle(bundle) {
  const next = applyBundle(await loadStored(), bundle)
  await (await db()).put(STORE, next, KEY)
  return next
}

export async function clearStored() {
  await (await db()).delete(STORE, KEY)
}

/** The `since` to ask for next: a delta after what we have, or (nothing stored) the full bundle. */
export function nextQuery(stored) {
  return stored ? `?since=${stored.cursor}` : ''
}

// --- verifying ---------------------------------------------------------------------------------

// Lookups built once per stored bundle (keys decoded, lists as Sets).
const prepared = new WeakMap()

function prepare(stored) {
  let ready = prepared.get(stored)
  if (!ready) {
    ready = {
      keys: keysFromListing(stored.keys),
      revoked: { credential: new Set(stored.revoked_credentials), ticket: new Set(stored.revoked_tickets) },
      blocked: new Set(stored.blocked_users),
    }
    prepared.set(stored, ready)
  }
  return ready
}

/**
 * Verify a scanned text offline. `expect`: 'personal' | 'place' | 'ticket' | 'setup'.
 * → {ok: true, type, …} — personal: {userId, deviceId, purpose, ts}; others: {kid, fields, notBefore, notAfter}
 * → {error: code, message} with the stable codes of codes.js; a personal code of a blocked user
 *   or a removed device is 'revoked'.
 */
export function verifyScanned(text, expect, stored, nowSeconds = Date.now() / 1000) {
  if (!stored) return { error: 'unknown_key', message: '还没有离线数据，请联网更新后重试' }
  const { keys, revoked, blocked } = prepare(stored)
  try {
    const result = verifyAny(text instanceof Uint8Array ? text : fromText(text), {
      expect, keys, now: nowSeconds, window: stored.window, skew: stored.skew, revoked,
    })
    if (result.type === 'personal') {
      if (blocked.has(result.userId)) throw new CodeError('revoked')
      const { userId, deviceId, purpose, ts } = result
      return { ok: true, type: 'personal', userId, deviceId, purpose, ts }
    }
    const { type, kid, fields, notBefore, notAfter } = result
    return { ok: true, type, kid, fields, notBefore, notAfter }
  } catch (error) {
    if (error instanceof CodeError) return { error: error.code, message: error.message }
    throw error
  }
}

