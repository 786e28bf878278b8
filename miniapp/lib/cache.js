// Stored copies of API reads, so a page can render before (or without) the network.
// One record per user and URL: a different user on the same phone never sees another's data.
import { openDB } from 'idb'

export const CACHE_DB = 'cyql-cache'
const VERSION = 1
const STORE = 'responses'
const MAX_ENTRIES = 300

let dbPromise = null

function db() {
  if (!dbPromise) {
    dbPromise = openDB(CACHE_DB, VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          const store = database.createObjectStore(STORE, { keyPath: 'key' })
          store.createIndex('by_user', 'user_id')
          store.createIndex('by_stored_at', 'stored_at')
        }
      },
      blocking() {
        // A newer version of the app wants to upgrade: let it.
        closeCacheDB()
      },
    })
  }
  return dbPromise
}

export async function closeCacheDB() {
  const pending = dbPromise
  dbPromise = null
  if (pending) (await pending).close()
}

export function cacheKey(userId, url) {
  return `${userId ?? 'anon'}|${url}`
}

export async function readCached(userId, url) {
  return (await db()).get(STORE, cacheKey(userId, url))
}

export async function writeCached(userId, url, { data, pagination = null, etag = null }) {
  const entry = {
    key: cacheKey(userId, url),
    user_id: userId ?? 'anon',
    url,
    data,
    pagination,
    etag,
    stored_at: new Date().toISOString(),
  }
  await (await db()).put(STORE, entry)
  return entry
}

export async function deleteCached(userId, url) {
  await (await db()).delete(STORE, cacheKey(userId, url))
}

/** Forget everything stored for one user (on logout). */
export async function clearUserCache(userId) {
  const tx = (await db()).transaction(STORE, 'readwrite')
  let cursor = await tx.store.index('by_user').openCursor(IDBKeyRange.only(userId ?? 'anon'))
  while (cursor) {
    cursor.delete()
    cursor = await cursor.continue()
  }
  await tx.done
}

/** Keep the store bounded: drop the oldest records beyond `max`. */
export async function pruneCache(max = MAX_ENTRIES) {
  const tx = (await db()).transaction(STORE, 'readwrite')
  const excess = (await tx.store.count()) - max
  let cursor = excess > 0 ? await tx.store.index('by_stored_at').openCursor() : null
  for (let i = 0; cursor && i < excess; i++) {
    cursor.delete()
    cursor = await cursor.continue()
  }
  await tx.done
}
