// The outbox: writes made while the network is away (a scan at a station with no signal) wait
// here until they reach the server. Each item is
//   {seq, nonce, user_id, op, payload, client_ts, attempts, next_try_at, last_error, unknown}
// The server treats `nonce` as an idempotency key, so sending an item twice acts once.
//
// One queue per kind of operation (`op`): items of one op go in the order they were queued (a
// check-out must not overtake its check-in), and a head that waits — back-off, or an op this version
// of the app does not know — holds back only its own kind.
// Outcome of one send:  2xx → delete;  definite 4xx → delete and record in `failed`;
// no answer, 5xx, 408, 429 → keep, back off exponentially, and that kind waits;
// 401 → keep and stop everything (the user has to sign in again; nothing is lost).
// An op registered with `batch` sends its queued items together (one request for a day offline);
// when the server accepts the batch, all its items leave the queue in one transaction.
// An op nobody registered is never dropped: it is kept, flagged `unknown`, and counted as needing
// an app update. Items are never dropped for age either: older than RETAIN_DAYS they are flagged
// stale (summary()) and the page says what to do.
// No fetch is ever awaited inside an IndexedDB transaction: read, close, send, then write.
import { ApiError, apiRequest } from './api.js'
import { closeDB, db } from './db.js'
import { newNonce } from './nonce.js'

export const BACKOFF_BASE_MS = 2_000
export const BACKOFF_CAP_MS = 5 * 60_000
/** Kept longer than this unsent, an item is flagged stale (kept all the same). */
export const RETAIN_DAYS = 7

/** op → URL of the endpoint that accepts it. Feature modules add theirs with registerOp(). */
export const OP_ROUTES = {}
/** op → its own sender, for an op that needs more than the default POST. Same contract as
 *  defaultSender; a batch op's sender gets the array of items sent together. */
export const OP_SENDERS = {}
/** op → {max, group(item)}: items of the op with the same group go in one request, up to max. */
export const OP_BATCHES = {}

export function registerOp(op, url, { send, batch } = {}) {
  OP_ROUTES[op] = url
  if (send) OP_SENDERS[op] = send
  else delete OP_SENDERS[op]
  if (batch) OP_BATCHES[op] = { max: batch.max || 100, group: batch.group || (() => '') }
  else delete OP_BATCHES[op]
}

/** Thrown by a sender for an op this version of the app does not know. */
export class UnknownOp extends Error {
  constructor(op) {
    super(`unknown outbox op: ${op}`)
    this.name = 'UnknownOp'
  }
}

export const UNKNOWN_MESSAGE = '需要更新应用后才能上传'

/** Close the app's database connection (tests use this to simulate a page reload). */
export const closeOutboxDB = closeDB

// ---- subscribers (UI badges, the "待同步" cell, the scan pages' 待上传) --------------------------

const listeners = new Set()

/**
 * fn(change) is called whenever the outbox or the failed list may have changed. `change.items`,
 * when present, is the whole queue as the transaction that changed it left it (a page counts its
 * 待上传 from it without reading again). Returns unsubscribe.
 */
export function subscribe(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

function notify(change = {}) {
  for (const fn of listeners) {
    try {
      fn(change)
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
  const tx = (await db()).transaction('outbox', 'readwrite')
  item.seq = await tx.store.add(item)
  const items = await tx.store.getAll()
  await tx.done
  notify({ items })
  requestBackgroundSync()
  return item
}

/** Items waiting to be sent, oldest first. userId undefined = everyone's. */
export async function list(userId) {
  const all = await (await db()).getAll('outbox')
  return userId === undefined ? all : all.filter((item) => item.user_id === userId)
}

export async function pending(userId) {
  if (userId === undefined) return (await db()).count('outbox')
  return (await db()).countFromIndex('outbox', 'by_user', userId)
}

/** An item kept unsent longer than RETAIN_DAYS. */
export function isStale(item, now = Date.now()) {
  return Date.parse(item.client_ts) < now - RETAIN_DAYS * 86_400_000
}

/**
 * What the queue holds, for the page to say: {pending, unknown, stale, byOp: {op: n}, oldest}.
 * `unknown`: items of an op this version does not know (kept until the app is updated);
 * `stale`: items older than RETAIN_DAYS (kept; the page asks to go online, then to call for help).
 */
export function summarize(items, now = Date.now()) {
  const summary = { pending: items.length, unknown: 0, stale: 0, byOp: {}, oldest: null }
  for (const item of items) {
    summary.byOp[item.op] = (summary.byOp[item.op] || 0) + 1
    if (item.unknown || !(item.op in OP_ROUTES)) summary.unknown += 1
    if (isStale(item, now)) summary.stale += 1
    if (!summary.oldest || item.client_ts < summary.oldest) summary.oldest = item.client_ts
  }
  return summary
}

export async function summary(userId, now = Date.now()) {
  return summarize(await list(userId), now)
}

/** The sentence a page shows about what the queue keeps too long, or '' when all is well. */
export function noticeText({ unknown = 0, stale = 0 } = {}) {
  const parts = []
  if (unknown) parts.push(`${unknown} 条离线记录${UNKNOWN_MESSAGE}：请刷新页面或更新「创业齐鲁」，记录会一直保留在本机`)
  if (stale) parts.push(`${stale} 条离线记录已超过 ${RETAIN_DAYS} 天未上传：请连上网络，本机会自动重试上传；仍无法上传请联系管理员，不要清除本机数据`)
  return parts.map((part) => `${part}。`).join('\n') // one line each (the page keeps the line breaks)
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
 * The default sender: the op's own sender when it registered one (with `batch`, it gets `items`, the
 * items sent together), otherwise POST `{...payload, nonce, client_ts}` to OP_ROUTES[op] with
 * `Idempotency-Key: <nonce>`. Must resolve `{status, body}` for any HTTP answer, throw UnknownOp
 * for an op nobody registered, and throw otherwise only when there was no answer.
 */
export async function defaultSender(item, items = [item]) {
  const url = OP_ROUTES[item.op]
  if (!url) throw new UnknownOp(item.op)
  if (OP_SENDERS[item.op]) return OP_SENDERS[item.op](OP_BATCHES[item.op] ? items : item)
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

/** Remove sent items in ONE transaction; resolves the queue as that transaction left it. */
async function removeItems(items) {
  const tx = (await db()).transaction('outbox', 'readwrite')
  for (const item of items) tx.store.delete(item.seq)
  const rest = await tx.store.getAll()
  await tx.done
  return rest
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

async function markUnknown(item) {
  if (item.unknown) return
  await (await db()).put('outbox', { ...item, unknown: true, last_error: UNKNOWN_MESSAGE })
}

let running = null
let rerun = false

/**
 * Send queued items through `sender`. Only one replay runs at a time (in this page via a shared
 * promise, across tabs via the Web Locks API where available); a call made while one runs makes it
 * go round once more and shares its result.
 * Resolves {sent, dropped, unknown, waiting, retryAt}: retryAt is when the earliest waiting head
 * may be tried again.
 */
export function replay(sender = defaultSender, options = {}) {
  if (running) {
    rerun = true
    return running
  }
  running = (async () => {
    const total = { sent: 0, dropped: 0, unknown: 0, waiting: 0, retryAt: null }
    try {
      do {
        rerun = false
        const result = await withCrossTabLock(() => drain(sender, options))
        total.sent += result.sent
        total.dropped += result.dropped
        total.unknown = result.unknown
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

/** The items that go with `head` in one request: its op's batch group, in queue order. */
function batchOf(head, queue, alone) {
  const spec = OP_BATCHES[head.op]
  if (!spec || alone) return [head]
  const group = spec.group(head)
  return queue.filter((item) => item.op === head.op && spec.group(item) === group).slice(0, spec.max)
}

async function drain(sender, { userId, now = () => Date.now(), random = Math.random } = {}) {
  const result = { sent: 0, dropped: 0, unknown: 0, waiting: 0, retryAt: null }
  const held = new Set() // ops whose head waits: the rest of that kind waits behind it
  const alone = new Set() // ops whose batch was refused: its head goes next by itself
  const wait = (at) => {
    result.retryAt = result.retryAt == null ? at : Math.min(result.retryAt, at)
  }
  for (;;) {
    const queue = await list(userId)
    const head = queue.find((item) => !held.has(item.op))
    if (!head) break
    if (head.next_try_at > now()) {
      held.add(head.op)
      wait(head.next_try_at)
      continue
    }
    const batch = batchOf(head, queue, alone.has(head.op))
    alone.delete(head.op)

    let status = 0
    let body = null
    let error = null
    try {
      ;({ status, body } = await sender(head, batch))
    } catch (err) {
      if (err instanceof UnknownOp) {
        await markUnknown(head)
        held.add(head.op)
        result.unknown += queue.filter((item) => item.op === head.op).length
        continue
      }
      error = err?.message || String(err)
    }

    const outcome = classify(status)
    if (outcome === 'done') {
      const rest = await removeItems(batch)
      result.sent += batch.length
      notify({ items: rest, sent: batch.map((item) => item.nonce) })
    } else if (outcome === 'drop' && batch.length > 1) {
      alone.add(head.op) // one bad item must not hold the others back: the head goes alone
    } else if (outcome === 'drop') {
      await moveToFailed(head, status, body, now())
      result.dropped += 1
      notify()
    } else if (outcome === 'auth') {
      await (await db()).put('outbox', { ...head, last_error: body?.message || '登录已失效' })
      break
    } else {
      const reason = error || body?.message || `HTTP ${status}`
      const updated = await postpone(head, reason, now(), random)
      held.add(head.op)
      wait(updated.next_try_at)
    }
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
