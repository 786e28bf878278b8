// The one database (lib/db.js): its stores, and the upgrade from the seven databases before it — a
// phone updated mid-shift keeps what it had queued and sends it, once.
import { IDBFactory } from 'fake-indexeddb'
import { openDB } from 'idb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readCached } from '../lib/cache.js'
import { DB_NAME, STORES, closeDB, db } from '../lib/db.js'
import { loadDevice } from '../lib/device.js'
import { loadDoor } from '../lib/door.js'
import * as outbox from '../lib/outbox.js'
import { doorLog, listScans, placeLog } from '../lib/scan-log.js'
import { loadScanner } from '../lib/scanner-device.js'
import { loadStored } from '../lib/scanner-verify.js'
import { loadMeta } from '../lib/visit-scan.js'

beforeEach(async () => {
  await closeDB()
  globalThis.indexedDB = new IDBFactory()
})

afterEach(async () => {
  await closeDB()
})

/** The old databases, made exactly as the app before this version made them, with a shift's data. */
async function oldPhone() {
  const make = async (name, upgrade, fill) => {
    const old = await openDB(name, 1, { upgrade })
    await fill(old)
    old.close()
  }
  await make('cyql-outbox', (d) => {
    const o = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
    o.createIndex('by_nonce', 'nonce', { unique: true })
    o.createIndex('by_user', 'user_id')
    d.createObjectStore('failed', { keyPath: 'nonce' }).createIndex('by_user', 'user_id')
  }, async (d) => {
    await d.add('outbox', { nonce: 'q-visit-1', user_id: 7, op: 'visit_scan', payload: { device_id: 4, place_id: 9, device_token: 't', items: [{ nonce: 's-visit-1', code: 'CY:a', purpose: 'loan', scanned_at: '2026-11-22T01:00:00Z', offline: true, note: null }] }, client_ts: '2026-11-22T01:00:00Z', attempts: 2, next_try_at: 0, last_error: 'Failed to fetch' })
    await d.add('outbox', { nonce: 'q-door-1', user_id: 7, op: 'event_checkin', payload: { event_id: 5, items: [{ nonce: 's-door-1', code: 'CY:b', scanned_at: '2026-11-22T01:05:00Z', offline: true }] }, client_ts: '2026-11-22T01:05:00Z', attempts: 0, next_try_at: 0, last_error: null })
    await d.put('failed', { nonce: 'f-1', user_id: 7, op: 'event_checkin', message: '请求格式不正确', failed_at: '2026-11-21T00:00:00Z' })
  })
  await make('cyql-cache', (d) => {
    const s = d.createObjectStore('responses', { keyPath: 'key' })
    s.createIndex('by_user', 'user_id')
    s.createIndex('by_stored_at', 'stored_at')
  }, (d) => d.put('responses', { key: '7|/api/me', user_id: 7, url: '/api/me', data: { id: 7 }, stored_at: '2026-11-22T00:00:00Z' }))
  await make('cyql-device', (d) => d.createObjectStore('devices', { keyPath: 'user_id' }),
    (d) => d.put('devices', { user_id: 7, public_key: 'pk', device_id: 3, credential: 'c', expires_at: 99 }))
  await make('cyql-door', (d) => {
    d.createObjectStore('events', { keyPath: 'key' })
    d.createObjectStore('scans', { keyPath: 'nonce' }).createIndex('by_key', 'key')
  }, async (d) => {
    await d.put('events', { key: '7|5', user_id: 7, event_id: 5, door: { registered: [1] } })
    await d.put('scans', { nonce: 's-door-1', key: '7|5', event_id: 5, registration_id: 1, scanned_at: '2026-11-22T01:05:00Z', offline: true, result: 'ok', state: 'queued', outbox_nonce: 'q-door-1' })
  })
  await make('cyql-visit-scan', (d) => {
    d.createObjectStore('scans', { keyPath: 'nonce' }).createIndex('by_device', 'device_id')
    d.createObjectStore('meta', { keyPath: 'device_id' })
  }, async (d) => {
    await d.put('scans', { nonce: 's-visit-1', device_id: 4, user_id: 11, purpose: 'loan', scanned_at: '2026-11-22T01:00:00Z', offline: true, state: 'queued', result: null, local_result: 'ok', outbox_nonce: 'q-visit-1' })
    await d.put('meta', { device_id: 4, purpose: 'loan', last_sync_at: '2026-11-21T09:00:00Z' })
  })
  await make('cyql-scanner-device', (d) => d.createObjectStore('device'),
    (d) => d.put('device', { device: { id: 4, place_id: 9, name: '前台' }, token: 't' }, 'current'))
  await make('cyql-scanner', (d) => d.createObjectStore('bundle'),
    (d) => d.put('bundle', { cursor: 12, keys: [], revoked_credentials: ['x'] }, 'current'))
}

describe('the database', () => {
  it('has one name and every store the app keeps', async () => {
    const database = await db()
    expect(database.name).toBe(DB_NAME)
    expect([...database.objectStoreNames].sort()).toEqual([...STORES].sort())
    expect((await indexedDB.databases()).map((d) => d.name)).toEqual([DB_NAME])
  })
})

describe('the upgrade from the seven databases', () => {
  it('moves everything in, keeps the queue with its nonces and order, and deletes the old databases', async () => {
    await oldPhone()
    const queue = await outbox.list(7)
    expect(queue.map((i) => [i.nonce, i.op, i.attempts])).toEqual([['q-visit-1', 'visit_scan', 2], ['q-door-1', 'event_checkin', 0]])
    expect((await outbox.failed(7)).map((f) => f.nonce)).toEqual(['f-1'])
    expect(await readCached(7, '/api/me')).toMatchObject({ data: { id: 7 } })
    expect(await loadDoor(7, 5)).toMatchObject({ door: { registered: [1] } })
    expect(await listScans(doorLog(7, 5))).toMatchObject([{ nonce: 's-door-1', state: 'queued', local_result: 'ok', result: null }])
    expect(await listScans(placeLog(4))).toMatchObject([{ nonce: 's-visit-1', state: 'queued', local_result: 'ok' }])
    expect(await loadMeta(4)).toMatchObject({ purpose: 'loan', last_sync_at: '2026-11-21T09:00:00Z' })
    expect(await loadScanner()).toMatchObject({ token: 't', device: { id: 4 } })
    expect(await loadStored()).toMatchObject({ cursor: 12, revoked_credentials: ['x'] })
    const { startSession } = await import('../lib/session.js')
    startSession({ access_token: 'a', refresh_token: 'r', user: { id: 7, roles: ['station_staff'] } })
    expect(await loadDevice(7)).toMatchObject({ public_key: 'pk', device_id: 3 })
    await vi.waitFor(async () => expect((await indexedDB.databases()).map((d) => d.name)).toEqual([DB_NAME]))
  })

  it('imports once: a reload does not bring back what was sent since', async () => {
    await oldPhone()
    const [first] = await outbox.list(7)
    await outbox.replay(async () => ({ status: 200 }), { userId: 7 })
    expect(await outbox.pending(7)).toBe(0)
    expect(first.nonce).toBe('q-visit-1')
    await closeDB() // a reload
    expect(await outbox.pending(7)).toBe(0)
  })

  it('a new item queued after the upgrade goes after the old ones', async () => {
    await oldPhone()
    const added = await outbox.enqueue('visit_scan', { items: [] }, { userId: 7 })
    expect((await outbox.list(7)).map((i) => i.nonce)).toEqual(['q-visit-1', 'q-door-1', added.nonce])
  })

  it('an import that failed is done again at the next start, and loses nothing queued meanwhile', async () => {
    await oldPhone()
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const databases = indexedDB.databases
    indexedDB.databases = async () => {
      throw new Error('no access') // this start cannot read the old databases
    }
    const added = await outbox.enqueue('visit_scan', { items: [] }, { userId: 7 }) // takes seq 1, an old item's place
    expect(await outbox.pending(7)).toBe(1)
    await closeDB() // the next start, where it works
    indexedDB.databases = databases
    expect((await outbox.list(7)).map((i) => i.nonce)).toEqual([added.nonce, 'q-visit-1', 'q-door-1'])
  })

  it('scans an old tab still queued after the import come in at the next start', async () => {
    await oldPhone()
    await outbox.replay(async () => ({ status: 200 }), { userId: 7 }) // both old items sent
    await vi.waitFor(async () => expect((await indexedDB.databases()).map((d) => d.name)).toEqual([DB_NAME]))
    // a tab of the old version, still open, queues one more scan in its own database
    const old = await openDB('cyql-outbox', 1, {
      upgrade(d) {
        const o = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
        o.createIndex('by_nonce', 'nonce', { unique: true })
        o.createIndex('by_user', 'user_id')
        d.createObjectStore('failed', { keyPath: 'nonce' }).createIndex('by_user', 'user_id')
      },
    })
    await old.add('outbox', { nonce: 'q-late-1', user_id: 7, op: 'visit_scan', payload: { items: [] }, client_ts: '2026-11-22T02:00:00Z', attempts: 0, next_try_at: 0, last_error: null })
    old.close()
    await closeDB() // the next start
    expect((await outbox.list(7)).map((i) => i.nonce)).toEqual(['q-late-1'])
  })

  it('a fresh phone opens with nothing to import', async () => {
    expect(await outbox.pending()).toBe(0)
    expect(await (await db()).get('meta', 'legacy_import')).toMatchObject({ from: [], rows: 0 })
  })
})
