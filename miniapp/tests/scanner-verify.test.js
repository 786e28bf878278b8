// Offline verification on a scanner: bundles (full, then deltas) decide what is refused.
import { IDBFactory } from 'fake-indexeddb'
import { ed25519 } from '@noble/curves/ed25519.js'
import { beforeEach, describe, expect, it } from 'vitest'
import { b64url, compressP256, encodeSigned, makePersonal, toText } from '../lib/codes.js'
import {
  applyBundle, closeScannerDB, loadStored, nextQuery, storeBundle, verifyScanned,
} from '../lib/scanner-verify.js'

const NOW = 1795315200
const SEEDS = { 1: new Uint8Array(32).fill(31), 3: new Uint8Array(32).fill(33) }
const keyOut = (kid) => ({ kid, alg: 'Ed25519', public_key: b64url(ed25519.getPublicKey(SEEDS[kid])) })
const PLACE = { id: 8, name: '创贷之家·任城驿站' }
const DEVICE = { id: 2, place_id: 8, name: '前台扫码机' }

function bundle(overrides = {}) {
  return {
    full: false, cursor: 1, keys: [keyOut(1)], revoked_credentials: [], revoked_tickets: [], blocked_users: [],
    restored_users: [], place: PLACE, device: DEVICE, personal_code_window: 30, personal_code_skew: 20,
    ...overrides,
  }
}

/** A phone of `userId` with device `deviceId`, its credential signed by server key `kid`. */
async function phone(userId, deviceId, kid = 1) {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  const credential = encodeSigned('credential', { user_id: userId, device_id: deviceId, device_key: compressP256(raw) }, {
    kid, privateKey: SEEDS[kid], notBefore: NOW - 300, notAfter: NOW + 7 * 86400,
  })
  return {
    show: async (purpose = 'identify', at = NOW - 2) => toText(await makePersonal(credential, pair.privateKey, purpose, at)),
  }
}

function ticket(registrationId) {
  return toText(encodeSigned('ticket', { event_id: 4, registration_id: registrationId }, {
    kid: 1, privateKey: SEEDS[1], notBefore: NOW - 3600, notAfter: NOW + 3600,
  }))
}

beforeEach(async () => {
  await closeScannerDB()
  globalThis.indexedDB = new IDBFactory()
})

describe('applyBundle', () => {
  it('a full bundle replaces, a delta adds revocations and blocks and removes restored users', () => {
    let stored = applyBundle(null, bundle({ full: true, cursor: 5, revoked_credentials: [1], blocked_users: [7, 8] }))
    expect(stored).toMatchObject({ cursor: 5, revoked_credentials: [1], blocked_users: [7, 8], window: 30, skew: 20, place: PLACE })
    stored = applyBundle(stored, bundle({ cursor: 9, revoked_credentials: [2], revoked_tickets: [40], blocked_users: [9], restored_users: [7] }))
    expect(stored).toMatchObject({ cursor: 9, revoked_credentials: [1, 2], revoked_tickets: [40], blocked_users: [8, 9] })
    stored = applyBundle(stored, bundle({ full: true, cursor: 10, revoked_credentials: [3] }))
    expect(stored).toMatchObject({ cursor: 10, revoked_credentials: [3], revoked_tickets: [], blocked_users: [] })
  })

  it('refuses a delta with nothing to apply it to', () => {
    expect(() => applyBundle(null, bundle())).toThrow()
  })

  it('asks for a delta after the stored cursor, or for everything', () => {
    expect(nextQuery(null)).toBe('')
    expect(nextQuery({ cursor: 12 })).toBe('?since=12')
  })

  it('keeps the merged bundle in IndexedDB', async () => {
    await storeBundle(bundle({ full: true, cursor: 3, revoked_credentials: [5] }))
    await storeBundle(bundle({ cursor: 4, revoked_credentials: [6] }))
    await closeScannerDB()
    expect(await loadStored()).toMatchObject({ cursor: 4, revoked_credentials: [5, 6], device: DEVICE })
  })
})

describe('verifyScanned offline', () => {
  it('refuses the codes of a device once a delta bundle says it was removed', async () => {
    const alice = await phone(100, 5)
    let stored = applyBundle(null, bundle({ full: true, cursor: 1 }))
    const before = verifyScanned(await alice.show('pay'), 'personal', stored, NOW)
    expect(before).toEqual({ ok: true, type: 'personal', userId: 100, deviceId: 5, purpose: 'pay', ts: NOW - 2 })

    stored = applyBundle(stored, bundle({ cursor: 2, revoked_credentials: [5] }))
    expect(verifyScanned(await alice.show(), 'personal', stored, NOW)).toMatchObject({ error: 'revoked', message: '二维码已作废' })
  })

  it('refuses a blocked user on every device, and lets a restored user in again', async () => {
    const phoneA = await phone(200, 21)
    const phoneB = await phone(200, 22)
    let stored = applyBundle(null, bundle({ full: true }))
    stored = applyBundle(stored, bundle({ cursor: 2, blocked_users: [200] }))
    expect(verifyScanned(await phoneA.show(), 'personal', stored, NOW).error).toBe('revoked')
    expect(verifyScanned(await phoneB.show(), 'personal', stored, NOW).error).toBe('revoked')

    stored = applyBundle(stored, bundle({ cursor: 3, restored_users: [200] }))
    expect(verifyScanned(await phoneA.show(), 'personal', stored, NOW)).toMatchObject({ ok: true, userId: 200, deviceId: 21 })
  })

  it('does not know a rotated-in key until the bundle brings it', async () => {
    const newcomer = await phone(300, 31, 3) // credential signed with the new key 3
    let stored = applyBundle(null, bundle({ full: true, keys: [keyOut(1)] }))
    expect(verifyScanned(await newcomer.show(), 'personal', stored, NOW).error).toBe('unknown_key')

    stored = applyBundle(stored, bundle({ cursor: 2, keys: [keyOut(1), keyOut(3)] }))
    expect(verifyScanned(await newcomer.show(), 'personal', stored, NOW)).toMatchObject({ ok: true, userId: 300 })

    // key 1 retired: what it signed stops verifying
    stored = applyBundle(stored, bundle({ cursor: 3, keys: [keyOut(3)] }))
    expect(verifyScanned(await (await phone(1, 1, 1)).show(), 'personal', stored, NOW).error).toBe('unknown_key')
  })

  it("uses the bundle's window and skew", async () => {
    const alice = await phone(100, 5)
    const text = await alice.show('identify', NOW - 40)
    const tight = applyBundle(null, bundle({ full: true, personal_code_window: 10, personal_code_skew: 5 }))
    const loose = applyBundle(null, bundle({ full: true }))
    expect(verifyScanned(text, 'personal', tight, NOW).error).toBe('expired')
    expect(verifyScanned(text, 'personal', loose, NOW).ok).toBe(true)
  })

  it('checks tickets against the revoked tickets, and types against what is expected', async () => {
    let stored = applyBundle(null, bundle({ full: true }))
    expect(verifyScanned(ticket(77), 'ticket', stored, NOW)).toMatchObject({ ok: true, type: 'ticket', fields: { event_id: 4, registration_id: 77 } })
    stored = applyBundle(stored, bundle({ cursor: 2, revoked_tickets: [77] }))
    expect(verifyScanned(ticket(77), 'ticket', stored, NOW).error).toBe('revoked')
    expect(verifyScanned(ticket(78), 'personal', stored, NOW).error).toBe('wrong_type')
    expect(verifyScanned('https://weixin.qq.com/', 'ticket', stored, NOW).error).toBe('malformed')
  })

  it('has nothing to verify with before the first bundle', () => {
    expect(verifyScanned('CY:00', 'personal', null, NOW).error).toBe('unknown_key')
  })
})
