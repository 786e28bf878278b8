// The organiser's door offline: which tickets it lets in, what it keeps, and its upload.
import { IDBFactory } from 'fake-indexeddb'
import { ed25519 } from '@noble/curves/ed25519.js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { b64url, encodeSigned, toText } from '../lib/codes.js'
import { closeDB } from '../lib/db.js'
import { DOOR_OP, checkedInAt, judgeOffline, keysBundle, loadDoor, offlinePayload, saveDoor } from '../lib/door.js'
import { newNonce } from '../lib/nonce.js'
import * as outbox from '../lib/outbox.js'
import { doorLog, listScans, putScan } from '../lib/scan-log.js'
import { formatClock as hhmm } from '../lib/format.js'
import { endSession, startSession } from '../lib/session.js'

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
  await closeDB()
  globalThis.indexedDB = new IDBFactory()
})

afterEach(async () => {
  await closeDB()
  vi.unstubAllGlobals()
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
    expect(outbox.OP_ROUTES[DOOR_OP]).toBe('/api/events/checkins')
    expect(offlinePayload(4, { nonce: 'n'.repeat(20), code: 'CY:x', scannedAt: '2026-11-22T06:00:00Z' }))
      .toEqual({ event_id: 4, items: [{ nonce: 'n'.repeat(20), code: 'CY:x', scanned_at: '2026-11-22T06:00:00Z', offline: true }] })
  })

  it('shows times in Beijing and takes the earliest own scan', () => {
    expect(hhmm('2026-11-22T23:59:00Z')).toBe('07:59')
    const scans = [
      { registration_id: 2, result: 'ok', scanned_at: '2026-11-22T07:00:00Z' },
      { registration_id: 2, result: 'ok', scanned_at: '2026-11-22T06:00:00Z' },
      { registration_id: 2, result: 'rejected', scanned_at: '2026-11-22T05:00:00Z' },
      { registration_id: 2, state: 'queued', local_result: 'duplicate', result: null, scanned_at: '2026-11-22T04:00:00Z' },
    ]
    expect(checkedInAt({ checked_in: {} }, scans, 2)).toBe('2026-11-22T06:00:00Z')
    expect(checkedInAt(null, [], 2)).toBeNull()
    // a scan let in offline and still queued counts as in
    const queued = [{ registration_id: 3, state: 'queued', local_result: 'ok', result: null, scanned_at: '2026-11-22T03:00:00Z' }]
    expect(checkedInAt({ checked_in: {} }, queued, 3)).toBe('2026-11-22T03:00:00Z')
  })
})

describe('storage', () => {
  it('keeps the door list and scans per user and event', async () => {
    await saveDoor(7, 4, { door: DOOR, keys: KEYS })
    await saveDoor(7, 4, { synced_at: 'x' })
    expect(await loadDoor(7, 4)).toMatchObject({ door: DOOR, synced_at: 'x', event_id: 4 })
    expect(await loadDoor(8, 4)).toBeNull()
    await putScan({ nonce: 'n1', log: doorLog(7, 4), scanned_at: '2026-11-22T06:00:00Z' })
    await putScan({ nonce: 'n2', log: doorLog(7, 4), scanned_at: '2026-11-22T07:00:00Z' })
    await putScan({ nonce: 'n3', log: doorLog(7, 5), scanned_at: '2026-11-22T07:00:00Z' })
    await closeDB() // a reload
    expect((await listScans(doorLog(7, 4))).map((s) => s.nonce)).toEqual(['n2', 'n1'])
  })
})

describe('the upload (lib/scan-op.js)', () => {
  async function queueScan(eventId, seconds) {
    const nonce = newNonce()
    const scannedAt = new Date(Date.UTC(2026, 10, 22, 6, 0, seconds)).toISOString()
    const queued = await outbox.enqueue(DOOR_OP, offlinePayload(eventId, { nonce, code: ticket(eventId, 11), scannedAt }), { userId: 7 })
    await putScan({ nonce, log: doorLog(7, eventId), scanned_at: scannedAt, offline: true, state: 'queued', local_result: 'ok', result: null, outbox_nonce: queued.nonce })
    return nonce
  }

  it('sends the queue of an event as one batch with sent_at, records each answer, and empties the queue at once', async () => {
    startSession({ access_token: 'a', refresh_token: 'r', user: { id: 7, roles: ['organiser'] } })
    const a = await queueScan(4, 0)
    const b = await queueScan(4, 10)
    const c = await queueScan(5, 20)
    const bodies = []
    vi.stubGlobal('fetch', vi.fn(async (url, init) => {
      const body = JSON.parse(init.body)
      bodies.push({ url, body })
      const results = body.items.map((item, i) => ({
        nonce: item.nonce, result: i === 0 ? 'ok' : 'forced', code: null, message: i === 0 ? '签到成功' : '离线放行，报名已取消',
        registration: { id: 11, name: '张*' }, checked_in_at: item.scanned_at,
      }))
      return new Response(JSON.stringify({ results }), { status: 200, headers: { 'Content-Type': 'application/json' } })
    }))
    const changes = []
    const stop = outbox.subscribe((change) => change.sent && changes.push(change))
    const result = await outbox.replay(undefined, { userId: 7 })
    stop()
    expect(result).toMatchObject({ sent: 3, waiting: 0 })
    expect(bodies.map((r) => [r.url, r.body.event_id, r.body.items.map((i) => i.nonce)])).toEqual([
      ['/api/events/checkins', 4, [a, b]], ['/api/events/checkins', 5, [c]],
    ])
    expect(bodies[0].body.sent_at).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(bodies[0].body.items[0]).toMatchObject({ offline: true, scanned_at: '2026-11-22T06:00:00.000Z' })
    // one change per accepted batch, carrying the queue as that transaction left it
    expect(changes.map((ch) => [ch.sent.length, ch.items.length])).toEqual([[2, 1], [1, 0]])
    const rows = Object.fromEntries((await listScans(doorLog(7, 4))).map((s) => [s.nonce, s]))
    expect(rows[a]).toMatchObject({ state: 'sent', result: 'ok', name: '张*' })
    expect(rows[b]).toMatchObject({ state: 'sent', result: 'forced', message: '离线放行，报名已取消' })
    endSession()
  })
})
