// The outbox: writes made while the network is away (a scan at a station with no signal) wait
// here, in order, until they reach the server. Each item is
//   {seq, nonce, user_id, op, payload, client_ts, attempts, next_try_at, last_error}
// The server treats `nonce` as an idempotency key, so sending an item twice acts once.
//
// Outcome of one send:  2xx → delete;  definite 4xx → delete and record in `failed`;
// no answer, 5xx, 408, 429 → keep, back off exponentially, and stop (later items wait their turn);
// 401 → keep and stop (the user has to sign in again; nothing is lost).
// No fetch is ever awaited inside an IndexedDB transaction: read, close, send, then write.
import { openDB } from 'idb'
import { ApiError, apiRequest } from './api.js'
import { newNonce } from './nonce.js'

export const OUTBOX_DB = 'cyql-outbox'
const VERSION = 1

export const BACKOFF_BASE_MS = 2_000
export const BACKOFF_CAP_MS = 5 * 60_000

/** op → URL of the endpoint that accepts it. Feature modules add theirs with registerOp(). */
export const OP_ROUTES = {}
/** op → its own sender, for an op that needs more than the default POST (other headers, a body
 *  made at send time). Same contract as defaultSender. */
export const OP_SENDERS = {}

export function registerOp(op, url, { send } = {}) {
  OP_ROUTES[op] = url
  if (send) OP_SENDERS[op] = send
  else delete OP_SENDERS[op]
}

let dbPromise = null

function db() {
  if (!dbPromise) {
    dbPromise = openDB(OUTBOX_DB, VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          const outbox = database.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
          outbox.createIndex('by_nonce', 'nonce', { unique: true })
          outbox.createIndex('by_user', 'user_id')
          const failed = database.createObjectStore('failed', { keyPath: 'nonce' })
          failed.createIndex('by_user', 'user_id')
        }
      },
      blocking() {
        closeOutboxDB()
      },
    })
  }
  return dbPromise
}

/** Close the connection (tests use this to simulate a page reload). */
export async function closeOutboxDB() {
  const pending = dbPromise
  dbPromise = null
  if (pending) (await pending).close()
}

// ---- subscribers (UI badges, the "待同步" cell) ----------------------------------------------

const listeners = new Set()

/** fn() is called whenever the outbox or the failed list may have changed. Returns unsubscribe. */
export function subscribe(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function notify() {
  for (const fn of listeners) {
    try {
      fn()
    } catch (err) {
      console.error('outbox listener failed', err)
    }
  }
}

// ---- queue --------------------------------------------------------------------------------------

/** Queue a write. Resolves the stored item (with its nonce). */
export async function enqueue(op, payload, { userId = null, now = Date.now() } = {}) {
  const item = {
    nonce: newNonce(),
    user_id: userId,
    op,
    payload,
    client_ts: new Date(now).toISOString(),
    attempts: 0,
    next_try_at: 0,
    last_error: null,
  }
  item.seq = await (await db()).add('outbox', item)
  notify()
  requestBackgroundSync()
  return item
}

/** Items waiting to be sent, oldest first. userId undefined = everyone's. */
export async function list(userId) {
  const database = await db()
  const all = await database.getAll('outbox')
  return userId === undefined ? all : all.filter((item) => item.user_id === userId)
}

export async function pending(userId) {
  if (userId === undefined) return (await db()).count('outbox')
  return (await db()).countFromIndex('outbox', 'by_user', userId)
}

/** Items the server refused for good, with the reason, newest first. */
export async function failed(userId) {
  const all = userId === undefined
    ? await (await db()).getAll('failed')
    : await (await db()).getAllFromIndex('failed', 'by_user', userId)
  return all.sort((a, b) => (a.failed_at < b.failed_at ? 1 : -1))
}

export async function dismissFailed(nonce) {
  await (await db()).delete('failed', nonce)
  notify()
}

/** Remove one user's queued and failed items (used on logout, after the user agreed). */
export async function clearUser(userId) {
  const tx = (await db()).transaction(['outbox', 'failed'], 'readwrite')
  for (const name of ['outbox', 'failed']) {
    let cursor = await tx.objectStore(name).index('by_user').openCursor(IDBKeyRange.only(userId))
    while (cursor) {
      cursor.delete()
      cursor = await cursor.continue()
    }
  }
  await tx.done
  notify()
}

// ---- backoff ------------------------------------------------------------------------------------

/** Delay before try number attempts+1: exponential from 2 s, capped at 5 min, with jitter (½–1×). */
export function backoffDelay(attempts, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/** What to do with an item after the server said `status` (0 = no answer). */
export function classify(status) {
  if (status >= 200 && status < 300) return 'done'
  if (status === 401) return 'auth'
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'retry'
  if (status >= 400 && status < 500) return 'drop'
  return 'retry' // 1xx/3xx should not reach us; be safe and keep the item
}

// ---- replay -------------------------------------------------------------------------------------

/**
 * The default sender: the op's own sender when it registered one, otherwise POST
 * `{...payload, nonce, client_ts}` to OP_ROUTES[op] with `Idempotency-Key: <nonce>`. Must resolve
 * `{status, body}` for any HTTP answer and throw only when there was no answer. Tests pass their own sender.
 */
export async function defaultSender(item) {
  const url = OP_ROUTES[item.op]
  if (!url) return { status: 400, body: { code: 'unknown_op', message: '此类离线操作已不再支持，未能提交' } }
  if (OP_SENDERS[item.op]) return OP_SENDERS[item.op](item)
  try {
    const response = await apiRequest(url, {
      method: 'POST',
      headers: { 'Idempotency-Key': item.nonce },
      body: { ...item.payload, nonce: item.nonce, client_ts: item.client_ts },
    })
    return { status: response.status, body: response.data }
  } catch (error) {
    if (error instanceof ApiError && error.status) {
      return { status: error.status, body: { code: error.code, message: error.message, details: error.details } }
    }
    throw error // no answer: keep the item
  }
}

async function firstItem(userId) {
  const tx = (await db()).transaction('outbox')
  let cursor = await tx.store.openCursor()
  while (cursor && userId !== undefined && cursor.value.user_id !== userId) cursor = await cursor.continue()
  const item = cursor ? cursor.value : null
  await tx.done
  return item
}

async function removeItem(seq) {
  await (await db()).delete('outbox', seq)
}

async function moveToFailed(item, status, body, now) {
  const tx = (await db()).transaction(['outbox', 'failed'], 'readwrite')
  tx.objectStore('outbox').delete(item.seq)
  tx.objectStore('failed').put({
    nonce: item.nonce,
    user_id: item.user_id,
    op: item.op,
    payload: item.payload,
    client_ts: item.client_ts,
    status,
    code: body?.code || `http_${status}`,
    message: body?.message || `服务器拒绝了此操作（${status}）`,
    failed_at: new Date(now).toISOString(),
  })
  await tx.done
}

async function postpone(item, error, now, random) {
  const attempts = item.attempts + 1
  const updated = { ...item, attempts, next_try_at: now + backoffDelay(attempts, random), last_error: error }
  await (await db()).put('outbox', updated)
  return updated
}

let running = null
let rerun = false

/**
 * Send queued items in order through `sender`. Only one replay runs at a time (in this page via
 * a shared promise, across tabs via the Web Locks API where available); a call made while one
 * runs makes it go round once more and shares its result.
 * Resolves {sent, dropped, waiting, retryAt}: retryAt is when the head item may be tried again.
 */
export function replay(sender = defaultSender, options = {}) {
  if (running) {
    rerun = true
    return running
  }
  running = (async () => {
    const total = { sent: 0, dropped: 0, waiting: 0, retryAt: null }
    try {
      do {
        rerun = false
        const result = await withCrossTabLock(() => drain(sender, options))
        total.sent += result.sent
        total.dropped += result.dropped
        total.waiting = result.waiting
        total.retryAt = result.retryAt
      } while (rerun)
      return total
    } finally {
      running = null
      notify()
    }
  })()
  return running
}

async function withCrossTabLock(fn) {
  const locks = globalThis.navigator?.locks
  if (!locks?.request) return fn()
  return locks.request('cyql-outbox-replay', fn)
}

async function drain(sender, { userId, now = () => Date.now(), random = Math.random } = {}) {
  const result = { sent: 0, dropped: 0, waiting: 0, retryAt: null }
  for (;;) {
    const item = await firstItem(userId)
    if (!item) break
    if (item.next_try_at > now()) {
      // Order matters (a check-out must not overtake its check-in): the head waits, so do the rest.
      result.retryAt = item.next_try_at
      break
    }

    let status = 0
    let body = null
    let error = null
    try {
      ;({ status, body } = await sender(item))
    } catch (err) {
      error = err?.message || String(err)
    }

    const outcome = classify(status)
    if (outcome === 'done') {
      await removeItem(item.seq)
      result.sent += 1
    } else if (outcome === 'drop') {
      await moveToFailed(item, status, body, now())
      result.dropped += 1
    } else if (outcome === 'auth') {
      await (await db()).put('outbox', { ...item, last_error: body?.message || '登录已失效' })
      break
    } else {
      const reason = error || body?.message || `HTTP ${status}`
      const updated = await postpone(item, reason, now(), random)
      result.retryAt = updated.next_try_at
      break
    }
    notify()
  }
  result.waiting = await pending(userId)
  return result
}

// ---- triggers -----------------------------------------------------------------------------------

/** Ask the service worker for a Background Sync so the page is woken to replay when online. */
function requestBackgroundSync() {
  const sw = globalThis.navigator?.serviceWorker
  if (!sw?.ready) return
  sw.ready.then((registration) => registration.sync?.register('outbox')).catch(() => {})
}
