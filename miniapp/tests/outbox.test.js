import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as outbox from '../lib/outbox.js'

const USER = 7
const T0 = Date.parse('2025-11-22T02:00:00Z')

/** A sender that answers from a script: a number is a status, 'offline' throws like fetch does. */
function scriptedSender(script) {
  const calls = []
  const sender = vi.fn(async (item) => {
    calls.push(item)
    const answer = typeof script === 'function' ? script(item, calls.length) : script.shift()
    if (answer === 'offline') throw new TypeError('Failed to fetch')
    if (typeof answer === 'number') return { status: answer, body: answer >= 400 ? { code: 'rejected', message: '签到码已失效' } : {} }
    return answer
  })
  return { sender, calls }
}

async function queue(...ops) {
  const items = []
  for (const op of ops) items.push(await outbox.enqueue(op, { code: `${op}-code` }, { userId: USER, now: T0 }))
  return items
}

beforeEach(async () => {
  await outbox.closeOutboxDB()
  globalThis.indexedDB = new IDBFactory()
})

afterEach(async () => {
  await outbox.closeOutboxDB()
})

describe('enqueue', () => {
  it('stores nonce, op, payload, client_ts, attempts and next_try_at', async () => {
    const [item] = await queue('place_visit')
    expect(item.nonce).toMatch(/^[0-9a-f]{32}$/)
    expect(item).toMatchObject({
      op: 'place_visit',
      payload: { code: 'place_visit-code' },
      client_ts: '2025-11-22T02:00:00.000Z',
      attempts: 0,
      next_try_at: 0,
      last_error: null,
      user_id: USER,
    })
    expect(await outbox.pending(USER)).toBe(1)
  })

  it('gives each item its own nonce and tells subscribers', async () => {
    const listener = vi.fn()
    const stop = outbox.subscribe(listener)
    const [a, b] = await queue('a', 'b')
    stop()
    expect(a.nonce).not.toBe(b.nonce)
    expect(listener).toHaveBeenCalledTimes(2)
  })
})

describe('replay', () => {
  it('sends items in the order they were queued and deletes them on 2xx', async () => {
    await queue('first', 'second', 'third')
    const { sender, calls } = scriptedSender([201, 200, 204])
    const result = await outbox.replay(sender, { userId: USER, now: () => T0 })
    expect(calls.map((c) => c.op)).toEqual(['first', 'second', 'third'])
    expect(result).toMatchObject({ sent: 3, dropped: 0, waiting: 0 })
    expect(await outbox.pending(USER)).toBe(0)
  })

  it('keeps the item on a network error, backs off, and holds later items of its kind back', async () => {
    const [first] = await queue('scan', 'scan')
    const { sender } = scriptedSender(['offline'])
    const result = await outbox.replay(sender, { userId: USER, now: () => T0, random: () => 0.5 })

    expect(sender).toHaveBeenCalledTimes(1)
    expect(result.waiting).toBe(2)
    const [kept] = await outbox.list(USER)
    expect(kept.nonce).toBe(first.nonce)
    expect(kept.attempts).toBe(1)
    expect(kept.last_error).toBe('Failed to fetch')
    expect(kept.next_try_at).toBe(T0 + 1500) // ceiling 2 s, jitter ½–1×
    expect(result.retryAt).toBe(kept.next_try_at)
  })

  it('does not resend before the back-off runs out, and sends when it has', async () => {
    await queue('scan', 'scan')
    await outbox.replay(scriptedSender(['offline']).sender, { userId: USER, now: () => T0, random: () => 1 })

    const early = scriptedSender([200, 200])
    await outbox.replay(early.sender, { userId: USER, now: () => T0 + 1000 })
    expect(early.sender).not.toHaveBeenCalled()

    const later = scriptedSender([200, 200])
    const result = await outbox.replay(later.sender, { userId: USER, now: () => T0 + 2000 })
    expect(later.calls.map((c) => c.op)).toEqual(['scan', 'scan'])
    expect(result.waiting).toBe(0)
  })

  it('keeps the item on 5xx with exponentially growing, capped delays', async () => {
    await queue('scan')
    let now = T0
    const delays = []
    for (let i = 0; i < 10; i++) {
      await outbox.replay(scriptedSender([503]).sender, { userId: USER, now: () => now, random: () => 1 })
      const [item] = await outbox.list(USER)
      delays.push(item.next_try_at - now)
      now = item.next_try_at
    }
    expect(delays.slice(0, 5)).toEqual([2000, 4000, 8000, 16000, 32000])
    expect(Math.max(...delays)).toBe(outbox.BACKOFF_CAP_MS)
    const [item] = await outbox.list(USER)
    expect(item.attempts).toBe(10)
    expect(item.last_error).toBe('签到码已失效')
  })

  it.each([429, 408])('keeps the item on %i', async (status) => {
    await queue('scan')
    const result = await outbox.replay(scriptedSender([status]).sender, { userId: USER, now: () => T0 })
    expect(result.waiting).toBe(1)
    expect(await outbox.failed(USER)).toEqual([])
    expect((await outbox.list(USER))[0].attempts).toBe(1)
  })

  it('drops an item the server refuses for good (4xx), records why, and goes on', async () => {
    const [bad] = await queue('bad', 'good')
    const { sender, calls } = scriptedSender([422, 200])
    const result = await outbox.replay(sender, { userId: USER, now: () => T0 })

    expect(calls.map((c) => c.op)).toEqual(['bad', 'good'])
    expect(result).toMatchObject({ sent: 1, dropped: 1, waiting: 0 })
    const failures = await outbox.failed(USER)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({
      nonce: bad.nonce,
      op: 'bad',
      status: 422,
      code: 'rejected',
      message: '签到码已失效',
      client_ts: bad.client_ts,
    })

    await outbox.dismissFailed(bad.nonce)
    expect(await outbox.failed(USER)).toEqual([])
  })

  it('keeps the item without counting an attempt when the session has expired (401)', async () => {
    await queue('scan', 'next')
    const { sender } = scriptedSender([401])
    const result = await outbox.replay(sender, { userId: USER, now: () => T0 })
    expect(sender).toHaveBeenCalledTimes(1)
    expect(result.waiting).toBe(2)
    expect((await outbox.list(USER))[0]).toMatchObject({ attempts: 0, next_try_at: 0 })
  })

  it('never sends an item twice when replay is called concurrently', async () => {
    await queue('a', 'b', 'c')
    let release
    const gate = new Promise((resolve) => (release = resolve))
    const { sender, calls } = scriptedSender(async () => {
      await gate
      return { status: 200 }
    })

    const runs = [
      outbox.replay(sender, { userId: USER }),
      outbox.replay(sender, { userId: USER }),
      outbox.replay(sender, { userId: USER }),
    ]
    release()
    await Promise.all(runs)

    expect(calls.map((c) => c.op)).toEqual(['a', 'b', 'c'])
    expect(new Set(calls.map((c) => c.nonce)).size).toBe(3)
    expect(await outbox.pending(USER)).toBe(0)
  })

  it('picks up an item queued while a replay is running', async () => {
    await queue('a')
    const { sender, calls } = scriptedSender(async (item) => {
      if (item.op === 'a') await outbox.enqueue('b', {}, { userId: USER })
      return { status: 200 }
    })
    await outbox.replay(sender, { userId: USER })
    expect(calls.map((c) => c.op)).toEqual(['a', 'b'])
  })

  it('holds no IndexedDB transaction open while the sender waits on the network', async () => {
    await queue('slow', 'slower')
    const { sender } = scriptedSender(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)) // a real round trip, several tasks long
      return { status: 200 }
    })
    const result = await outbox.replay(sender, { userId: USER })
    expect(result).toMatchObject({ sent: 2, waiting: 0 })
  })

  it('sends only the signed-in user’s items', async () => {
    await outbox.enqueue('mine', {}, { userId: USER })
    await outbox.enqueue('theirs', {}, { userId: 99 })
    const { calls, sender } = scriptedSender(() => ({ status: 200 }))
    await outbox.replay(sender, { userId: USER })
    expect(calls.map((c) => c.op)).toEqual(['mine'])
    expect(await outbox.pending(99)).toBe(1)

    await outbox.clearUser(99)
    expect(await outbox.pending()).toBe(0)
  })
})

describe('one queue per kind', () => {
  it('a failing head of one kind does not hold back the others', async () => {
    await queue('door', 'door', 'visit', 'claim')
    const { sender, calls } = scriptedSender((item) => (item.op === 'door' ? 'offline' : { status: 200 }))
    const result = await outbox.replay(sender, { userId: USER, now: () => T0, random: () => 1 })
    expect(calls.map((c) => c.op)).toEqual(['door', 'visit', 'claim'])
    expect(result).toMatchObject({ sent: 2, waiting: 2, retryAt: T0 + 2000 })
    expect((await outbox.list(USER)).map((i) => [i.op, i.attempts])).toEqual([['door', 1], ['door', 0]])
  })

  it('a kind that waits for its back-off lets the others go, and says when to try again', async () => {
    await queue('door', 'visit')
    await outbox.replay(scriptedSender(['offline', 'offline']).sender, { userId: USER, now: () => T0, random: () => 1 })
    const { sender, calls } = scriptedSender(() => ({ status: 200 }))
    await outbox.enqueue('claim', {}, { userId: USER, now: T0 })
    const result = await outbox.replay(sender, { userId: USER, now: () => T0 + 500 })
    expect(calls.map((c) => c.op)).toEqual(['claim'])
    expect(result).toMatchObject({ sent: 1, waiting: 2, retryAt: T0 + 2000 })
  })

  it('never drops an op it does not know: kept, flagged, counted, and the others go on', async () => {
    outbox.registerOp('known_op', '/api/known')
    await outbox.enqueue('from_a_newer_app', { x: 1 }, { userId: USER, now: T0 })
    await outbox.enqueue('known_op', { y: 2 }, { userId: USER, now: T0 })
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 201, headers: { 'Content-Type': 'application/json' } })))
    const result = await outbox.replay(undefined, { userId: USER, now: () => T0 })
    vi.unstubAllGlobals()
    expect(result).toMatchObject({ sent: 1, dropped: 0, unknown: 1, waiting: 1 })
    const [kept] = await outbox.list(USER)
    expect(kept).toMatchObject({ op: 'from_a_newer_app', payload: { x: 1 }, unknown: true, attempts: 0, last_error: outbox.UNKNOWN_MESSAGE })
    expect(await outbox.failed(USER)).toEqual([])
    const summary = await outbox.summary(USER, T0)
    expect(summary).toMatchObject({ pending: 1, unknown: 1, stale: 0, byOp: { from_a_newer_app: 1 } })
    expect(outbox.noticeText(summary)).toBe('1 条离线记录需要更新应用后才能上传：请刷新页面或更新「创业齐鲁」，记录会一直保留在本机。')

    // once the app knows the op (updated), it is sent like any other
    outbox.registerOp('from_a_newer_app', '/api/newer')
    const { sender, calls } = scriptedSender([200])
    await outbox.replay(sender, { userId: USER, now: () => T0 })
    expect(calls.map((c) => c.op)).toEqual(['from_a_newer_app'])
  })
})

describe('retention', () => {
  it(`keeps an item older than ${outbox.RETAIN_DAYS} days, flags it stale, and says what to do`, async () => {
    const day = 86_400_000
    outbox.registerOp('scan', '/api/scan')
    await outbox.enqueue('scan', {}, { userId: USER, now: T0 - 8 * day })
    await outbox.enqueue('scan', {}, { userId: USER, now: T0 - 6 * day })
    const summary = await outbox.summary(USER, T0)
    expect(summary).toMatchObject({ pending: 2, stale: 1, oldest: new Date(T0 - 8 * day).toISOString() })
    expect(outbox.noticeText(summary)).toContain('1 条离线记录已超过 7 天未上传：请连上网络，本机会自动重试上传；仍无法上传请联系管理员')
    expect(outbox.noticeText(await outbox.summary(USER, T0 - 6 * day))).toBe('')
    // a stale item is still sent, never dropped for its age
    const { sender, calls } = scriptedSender([200, 200])
    await outbox.replay(sender, { userId: USER, now: () => T0 })
    expect(calls).toHaveLength(2)
  })
})

describe('batch ops', () => {
  const batchSender = (script) => {
    const calls = []
    const sender = vi.fn(async (head, items) => {
      calls.push(items.map((i) => i.payload.n))
      const answer = script(items)
      if (answer === 'offline') throw new TypeError('Failed to fetch')
      return { status: answer, body: answer >= 400 ? { code: 'validation', message: '不正确' } : {} }
    })
    return { sender, calls }
  }

  beforeEach(() => {
    outbox.registerOp('batched', '/api/batched', { send: async () => ({ status: 200 }), batch: { max: 3, group: (item) => item.payload.g } })
  })

  it('sends a group together (up to max) and removes a batch in one transaction, telling listeners once', async () => {
    for (let n = 1; n <= 5; n += 1) await outbox.enqueue('batched', { n, g: n === 2 ? 'other' : 'main' }, { userId: USER })
    const changes = []
    const stop = outbox.subscribe((change) => change.sent && changes.push(change))
    const { sender, calls } = batchSender(() => 200)
    const result = await outbox.replay(sender, { userId: USER })
    stop()
    expect(calls).toEqual([[1, 3, 4], [2], [5]])
    expect(result).toMatchObject({ sent: 5, waiting: 0 })
    expect(changes.map((c) => [c.sent.length, c.items.map((i) => i.payload.n)])).toEqual([[3, [2, 5]], [1, [5]], [1, []]])
  })

  it('a refused batch goes item by item: the bad one fails, the rest are sent', async () => {
    for (let n = 1; n <= 3; n += 1) await outbox.enqueue('batched', { n, g: 'main' }, { userId: USER })
    const { sender, calls } = batchSender((items) => (items.length > 1 || items[0].payload.n === 2 ? 422 : 200))
    const result = await outbox.replay(sender, { userId: USER })
    expect(calls).toEqual([[1, 2, 3], [1], [2, 3], [2], [3]])
    expect(result).toMatchObject({ sent: 2, dropped: 1, waiting: 0 })
    expect((await outbox.failed(USER)).map((f) => f.payload.n)).toEqual([2])
  })

  it('keeps the whole batch when there is no answer', async () => {
    for (let n = 1; n <= 2; n += 1) await outbox.enqueue('batched', { n, g: 'main' }, { userId: USER })
    const { sender } = batchSender(() => 'offline')
    const result = await outbox.replay(sender, { userId: USER, now: () => T0 })
    expect(result).toMatchObject({ sent: 0, waiting: 2 })
  })
})

describe('after a reload', () => {
  it('still has the queue, with the same nonces and client times, in order', async () => {
    const queued = await queue('first', 'second')
    await outbox.replay(scriptedSender(['offline']).sender, { userId: USER, now: () => T0 })

    // Simulate a page reload: drop the connection and load the module afresh.
    await outbox.closeOutboxDB()
    vi.resetModules()
    const reloaded = await import('../lib/outbox.js')

    expect(await reloaded.pending(USER)).toBe(2)
    const { sender, calls } = scriptedSender([200, 200])
    await reloaded.replay(sender, { userId: USER, now: () => T0 + outbox.BACKOFF_CAP_MS })
    expect(calls.map((c) => [c.nonce, c.client_ts])).toEqual(queued.map((q) => [q.nonce, q.client_ts]))
    expect(calls[0].attempts).toBe(1)
    await reloaded.closeOutboxDB()
  })
})

describe('defaultSender', () => {
  it('POSTs the payload with nonce and client_ts and an Idempotency-Key header', async () => {
    outbox.registerOp('place_visit', '/api/checkins/visits')
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: 1 }), { status: 201 }))
    vi.stubGlobal('fetch', fetchMock)
    const [item] = await queue('place_visit')

    const answer = await outbox.defaultSender(item)

    expect(answer).toEqual({ status: 201, body: { id: 1 } })
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/checkins/visits')
    expect(init.method).toBe('POST')
    expect(init.headers['Idempotency-Key']).toBe(item.nonce)
    expect(JSON.parse(init.body)).toEqual({ code: 'place_visit-code', nonce: item.nonce, client_ts: item.client_ts })
    vi.unstubAllGlobals()
  })

  it('reports an HTTP error as a status (so replay can classify it) and rethrows no-network', async () => {
    outbox.registerOp('place_visit', '/api/checkins/visits')
    const [item] = await queue('place_visit')
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'place_closed', message: '场所已关闭' }), { status: 409 })))
    expect(await outbox.defaultSender(item)).toMatchObject({ status: 409, body: { code: 'place_closed', message: '场所已关闭' } })

    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    await expect(outbox.defaultSender(item)).rejects.toMatchObject({ status: 0 })
    vi.unstubAllGlobals()
  })

  it('throws UnknownOp for an op nobody registered (replay keeps it)', async () => {
    const [item] = await queue('no_such_op')
    await expect(outbox.defaultSender(item)).rejects.toBeInstanceOf(outbox.UnknownOp)
  })
})

describe('backoffDelay and classify', () => {
  it('grows from 2 s, caps at 5 min, and jitters between half and the whole ceiling', () => {
    expect(outbox.backoffDelay(1, () => 0)).toBe(1000)
    expect(outbox.backoffDelay(1, () => 1)).toBe(2000)
    expect(outbox.backoffDelay(3, () => 1)).toBe(8000)
    expect(outbox.backoffDelay(30, () => 1)).toBe(outbox.BACKOFF_CAP_MS)
    expect(outbox.backoffDelay(30, () => 0)).toBe(outbox.BACKOFF_CAP_MS / 2)
  })

  it('tells done, retry, drop and auth apart', () => {
    expect([200, 201, 204].map(outbox.classify)).toEqual(['done', 'done', 'done'])
    expect([0, 408, 429, 500, 502, 503].map(outbox.classify)).toEqual(Array(6).fill('retry'))
    expect([400, 403, 404, 409, 410, 422].map(outbox.classify)).toEqual(Array(6).fill('drop'))
    expect(outbox.classify(401)).toBe('auth')
  })
})
