// The organiser's door offline: which tickets it lets in, and how queued scans settle after sync.
import { IDBFactory } from 'fake-indexeddb'
import { ed25519 } from '@noble/curves/ed25519.js'
import { beforeEach, describe, expect, it } from 'vitest'
import { b64url, encodeSigned, toText } from '../lib/codes.js'
import {
  DOOR_OP, checkedInAt, closeDoorDB, hhmm, judgeOffline, keysBundle, listScans, loadDoor, newNonce, offlinePayload,
  putScan, saveDoor, settle,
} from '../lib/door.js'
import { OP_ROUTES } from '../lib/outbox.js'

const NOW = 1795315200
const SEED = new Uint8Array(32).fill(41)
const OTHER_SEED = new Uint8Array(32).fill(42)
const KEYS = keysBundle([{ kid: 1, alg: 'Ed25519', public_key: b64url(ed25519.getPublicKey(SEED)) }])

function ticket(eventId, registrationId, { seed = SEED, notBefore = NOW - 3600, notAfter = NOW + 3600 } = {}) {
  return toText(encodeSigned('ticket', { event_id: eventId, registration_id: registrationId }, {
    kid: 1, privateKey: seed, notBefore, notAfter,
  }))
}

const DOOR = { registered: [11, 12, 13], checked_in: { 13: '2026-11-22T06:02:00Z' } }
const judge = (text, extra = {}) => judgeOffline(text, { eventId: 4, door: DOOR, keys: KEYS, now: NOW, ...extra })

beforeEach(async () => {
  await closeDoorDB()
  globalThis.indexedDB = new IDBFactory()
})

describe('judgeOffline', () => {
  it('lets a registered ticket of this event in, once', () => {
    const first = judge(ticket(4, 11))
    expect(first).toMatchObject({ result: 'ok', message: '签到成功（离线）', registrationId: 11 })
    const scans = [{ registration_id: 11, result: 'ok', scanned_at: '2026-11-22T06:30:00Z' }]
    expect(judge(ticket(4, 11), { scans })).toMatchObject({ result: 'duplicate', message: '已签到（14:30）' })
  })

  it('answers 已签到 with the time from the door list', () => {
    expect(judge(ticket(4, 13))).toMatchObject({ result: 'duplicate', message: '已签到（14:02）', registrationId: 13 })
  })

  it('refuses another event, a person without a seat, a forgery, a wrong window and junk', () => {
    expect(judge(ticket(5, 11))).toMatchObject({ result: 'rejected', code: 'wrong_event', message: '这张票不是本场活动的' })
    expect(judge(ticket(4, 99))).toMatchObject({ result: 'rejected', code: 'not_registered' })
    expect(judge(ticket(4, 11, { seed: OTHER_SEED }))).toMatchObject({ result: 'rejected', code: 'bad_signature' })
    expect(judge(ticket(4, 11, { notBefore: NOW + 60 }))).toMatchObject({ result: 'rejected', code: 'not_yet_valid' })
    expect(judge(ticket(4, 11, { notAfter: NOW - 60 }))).toMatchObject({ result: 'rejected', code: 'expired' })
    expect(judge('hello')).toMatchObject({ result: 'rejected', code: 'malformed' })
    // another event's ticket, not valid yet either: the event is what matters at this door
    expect(judge(ticket(5, 11, { notBefore: NOW + 86400 }))).toMatchObject({ result: 'rejected', code: 'wrong_event' })
  })

  it('without a stored door list it refuses and says why', () => {
    expect(judgeOffline(ticket(4, 11), { eventId: 4, door: null, keys: KEYS, now: NOW }))
      .toMatchObject({ result: 'rejected', code: 'no_data' })
  })
})

describe('helpers', () => {
  it('makes nonces the server accepts', () => {
    const nonce = newNonce()
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{16,64}$/)
    expect(newNonce()).not.toBe(nonce)
  })

  it('registers the outbox op and builds its payload', () => {
    expect(OP_ROUTES[DOOR_OP]).toBe('/api/events/checkins')
    expect(offlinePayload(4, { nonce: 'n'.repeat(20), code: 'CY:x', scannedAt: '2026-11-22T06:00:00Z' }))
      .toEqual({ event_id: 4, items: [{ nonce: 'n'.repeat(20), code: 'CY:x', scanned_at: '2026-11-22T06:00:00Z', offline: true }] })
  })

  it('shows times in Beijing and takes the earliest own scan', () => {
    expect(hhmm('2026-11-22T23:59:00Z')).toBe('07:59')
    const scans = [
      { registration_id: 2, result: 'ok', scanned_at: '2026-11-22T07:00:00Z' },
      { registration_id: 2, result: 'ok', scanned_at: '2026-11-22T06:00:00Z' },
      { registration_id: 2, result: 'rejected', scanned_at: '2026-11-22T05:00:00Z' },
    ]
    expect(checkedInAt({ checked_in: {} }, scans, 2)).toBe('2026-11-22T06:00:00Z')
    expect(checkedInAt(null, [], 2)).toBeNull()
  })
})

describe('settle', () => {
  const scan = (nonce, outbox) => ({ nonce, outbox_nonce: outbox, state: 'queued', result: 'ok' })

  it('leaves what still waits, marks refusals, and reads the server result of what was sent', () => {
    const scans = [scan('a', 'oa'), scan('b', 'ob'), scan('c', 'oc'), scan('d', 'od'), { ...scan('e', 'oe'), state: 'done' }]
    const changed = settle(scans, {
      queued: new Set(['oa']),
      failed: new Map([['ob', { message: '请求格式不正确' }]]),
      server: new Map([['c', { nonce: 'c', result: 'forced', reason: 'registration_cancelled' }]]),
    })
    expect(changed.map((s) => [s.nonce, s.state, s.server_result])).toEqual([
      ['b', 'failed', 'rejected'], ['c', 'sent', 'forced'], ['d', 'sent', 'rejected'],
    ])
    expect(changed[1].server_message).toContain('该报名已取消')
  })

  it('waits for the scans list before deciding what the server said', () => {
    const changed = settle([scan('c', 'oc')], { queued: new Set(), failed: new Map(), server: null })
    expect(changed).toEqual([])
  })
})

describe('storage', () => {
  it('keeps the door list and scans per user and event', async () => {
    await saveDoor(7, 4, { door: DOOR, keys: KEYS })
    await saveDoor(7, 4, { synced_at: 'x' })
    expect(await loadDoor(7, 4)).toMatchObject({ door: DOOR, synced_at: 'x', event_id: 4 })
    expect(await loadDoor(8, 4)).toBeNull()
    await putScan(7, 4, { nonce: 'n1', scanned_at: '2026-11-22T06:00:00Z' })
    await putScan(7, 4, { nonce: 'n2', scanned_at: '2026-11-22T07:00:00Z' })
    await putScan(7, 5, { nonce: 'n3', scanned_at: '2026-11-22T07:00:00Z' })
    await closeDoorDB() // a reload
    expect((await listScans(7, 4)).map((s) => s.nonce)).toEqual(['n2', 'n1'])
  })
})
