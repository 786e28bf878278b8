// Stored copies of API reads, so a page can render before (or without) the network.
// One record per user and URL: a different user on the same phone never sees another's data.
import { closeDB, db } from './db.js'

const STORE = 'cache'
const MAX_ENTRIES = 300

/** Close the app's database connection (tests: a page reload). */
export const closeCacheDB = closeDB

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
