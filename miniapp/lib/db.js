// The app's one IndexedDB database. Every module that keeps something on the phone (the outbox, the
// read cache, the device key, the door, the station scanner and its offline bundle) keeps it here,
// each in its own stores; one connection, opened once, closed when a newer version of the app wants
// to upgrade. Each version's stores are made in the upgrade callback, never elsewhere.
//
// Before this database there were seven (cyql-outbox, cyql-cache, cyql-device, cyql-door,
// cyql-visit-scan, cyql-scanner-device, cyql-scanner). On the first open their records are copied
// in — with their keys, so a queued scan keeps its place and nonce — in one transaction that also
// marks the import done; then the old databases are deleted. A phone updated mid-shift sends what it
// had queued, once. No fetch is ever awaited inside a transaction of this database.
import { deleteDB, openDB } from 'idb'

export const DB_NAME = 'cyql'
export const DB_VERSION = 1

/** store → its options and indexes, as of version 1. */
const STORES_V1 = {
  outbox: { options: { keyPath: 'seq', autoIncrement: true }, indexes: [['by_nonce', 'nonce', { unique: true }], ['by_user', 'user_id']] },
  failed: { options: { keyPath: 'nonce' }, indexes: [['by_user', 'user_id']] },
  cache: { options: { keyPath: 'key' }, indexes: [['by_user', 'user_id'], ['by_stored_at', 'stored_at']] },
  devices: { options: { keyPath: 'user_id' }, indexes: [] },
  // the scan log of the door and the station scanner: `log` is 'door|<user>|<event>' or 'place|<device>'
  scans: { options: { keyPath: 'nonce' }, indexes: [['by_log', 'log']] },
  door_events: { options: { keyPath: 'key' }, indexes: [] },
  visit_meta: { options: { keyPath: 'device_id' }, indexes: [] },
  scanner: { options: {}, indexes: [] }, // 'device' (token, place) and 'bundle' (offline data)
  meta: { options: {}, indexes: [] }, // 'legacy_import'
}

export const STORES = Object.freeze(Object.keys(STORES_V1))

// --- the old databases -------------------------------------------------------------------------------

/** A door scan of cyql-door in the scan log's shape: what the phone decided is local_result, what
 *  the server said (server_result, server_message) is result and message. */
function doorScan({ server_result: serverResult, server_message: serverMessage, ...scan }) {
  const answered = scan.state === 'sent' || scan.state === 'failed'
  return {
    ...scan,
    log: `door|${scan.key}`,
    local_result: scan.result ?? null,
    result: answered ? serverResult ?? null : scan.state === 'queued' ? null : scan.result ?? null,
    message: (answered && serverMessage) || scan.message || '',
  }
}

/** Old database → store → (key, value) → [newStore, key | undefined for in-line, value]. */
export const LEGACY = Object.freeze({
  'cyql-outbox': { outbox: (key, value) => ['outbox', undefined, value], failed: (key, value) => ['failed', undefined, value] },
  'cyql-cache': { responses: (key, value) => ['cache', undefined, value] },
  'cyql-device': { devices: (key, value) => ['devices', undefined, value] },
  'cyql-door': {
    events: (key, value) => ['door_events', undefined, value],
    scans: (key, value) => ['scans', undefined, doorScan(value)],
  },
  'cyql-visit-scan': {
    scans: (key, value) => ['scans', undefined, { ...value, log: `place|${value.device_id}` }],
    meta: (key, value) => ['visit_meta', undefined, value],
  },
  'cyql-scanner-device': { device: (key, value) => ['scanner', 'device', value] },
  'cyql-scanner': { bundle: (key, value) => ['scanner', 'bundle', value] },
})

async function existingLegacy(factory) {
  const names = Object.keys(LEGACY)
  if (typeof factory.databases !== 'function') return names // open each: an absent one comes up empty
  const present = new Set((await factory.databases()).map((d) => d.name))
  return names.filter((name) => present.has(name))
}

async function readLegacy(name) {
  let created = false
  const old = await openDB(name, undefined, {
    upgrade() {
      created = true // it did not exist: nothing to read
    },
  })
  const rows = []
  try {
    if (created) return rows
    for (const storeName of old.objectStoreNames) {
      const map = LEGACY[name][storeName]
      if (!map) continue
      let cursor = await old.transaction(storeName).store.openCursor()
      while (cursor) {
        rows.push(map(cursor.key, cursor.value))
        cursor = await cursor.continue()
      }
    }
    return rows
  } finally {
    old.close()
  }
}

/**
 * Copy the old databases' records in, then delete the old databases. Returns how many rows. Done
 * at the first start; later, only when an old database is there again (a tab still running the old
 * version wrote after the import: its scans are not lost; a queued item is matched by its nonce).
 * An old database whose deletion that tab still blocks is read again too: an item sent since then
 * goes once more, and the server, knowing its nonce, answers as it did the first time.
 */
export async function importLegacy(database, factory = globalThis.indexedDB) {
  const done = await database.get('meta', 'legacy_import')
  if (done && typeof factory.databases !== 'function') return 0 // cannot look without creating them
  const names = await existingLegacy(factory)
  if (done && !names.length) return 0
  const rows = []
  for (const name of names) rows.push(...(await readLegacy(name)))
  const tx = database.transaction(STORES, 'readwrite')
  for (const [store, key, value] of rows) {
    // What this database already holds wins (written after an earlier import failed half-way). A
    // queued item is known by its nonce; one whose place (seq) is taken goes to the end of the queue.
    const target = tx.objectStore(store)
    if (store === 'outbox') {
      if ((await target.index('by_nonce').getKey(value.nonce)) !== undefined) continue
      const { seq, ...item } = value
      target.put((await target.getKey(seq)) === undefined ? value : item)
      continue
    }
    const inline = target.keyPath
    const id = inline ? value[inline] : key
    if (id !== undefined && (await target.getKey(id)) !== undefined) continue
    if (inline) target.put(value)
    else target.put(value, key)
  }
  tx.objectStore('meta').put({ at: new Date().toISOString(), from: [...new Set([...(done?.from || []), ...names])], rows: (done?.rows || 0) + rows.length }, 'legacy_import')
  await tx.done
  // Not awaited: another tab of the old app version may hold one open (deleting waits for it).
  for (const name of names) deleteDB(name).catch(() => {})
  return rows.length
}

// --- the connection ---------------------------------------------------------------------------------

let dbPromise = null

function upgrade(database, oldVersion) {
  if (oldVersion < 1) {
    for (const [name, { options, indexes }] of Object.entries(STORES_V1)) {
      const store = database.createObjectStore(name, options)
      for (const [index, keyPath, opts] of indexes) store.createIndex(index, keyPath, opts)
    }
  }
  // version 2 and later: `if (oldVersion < 2) { … }` here, moving what changes shape.
}

/** The open database (opened, upgraded and the old databases imported on first use). */
export function db() {
  if (!dbPromise) {
    const opening = openDB(DB_NAME, DB_VERSION, {
      upgrade,
      blocking() {
        closeDB() // a newer version of the app wants to upgrade: let it
      },
    }).then(async (database) => {
      try {
        await importLegacy(database)
      } catch (error) {
        console.error('importing the old databases failed', error) // they stay, tried again next start
      }
      return database
    })
    dbPromise = opening
    opening.catch(() => {
      if (dbPromise === opening) dbPromise = null
    })
  }
  return dbPromise
}

/** Close the connection (a page reload in tests; a newer version upgrading). */
export async function closeDB() {
  const pending = dbPromise
  dbPromise = null
  if (pending) (await pending.catch(() => null))?.close()
}
