// @vitest-environment happy-dom
// The scanning flow shared by the door and the station (lib/scan.js): online answer or offline
// verdict and queue, the card, the log, the counts, one scan at a time in order.
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../lib/api.js'
import { closeDB } from '../lib/db.js'
import * as outbox from '../lib/outbox.js'
import { scanStatus, serialQueue, useScanFlow } from '../lib/scan.js'
import { listScans } from '../lib/scan-log.js'

const USER = 7
const OP = 'test_checkin'
let flow

function kind(overrides = {}) {
  return {
    op: OP,
    log: () => 'door|7|4',
    owns: (item) => item.payload?.event_id === 4,
    online: vi.fn(async (scan) => ({ row: { result: 'ok', message: '签到成功' }, card: { tone: 'ok', result: 'ok', title: '签到成功' } })),
    refused: (error) => ({ tone: 'bad', result: 'rejected', title: error.message }),
    offline: vi.fn(async (scan) => ({
      row: { local_result: 'ok', result: 'ok', message: '签到成功（离线）' },
      payload: { event_id: 4, items: [{ nonce: scan.nonce, code: scan.text, scanned_at: scan.scannedAt, offline: true }] },
      card: { tone: 'ok', result: 'ok', title: '签到成功（离线）' },
    })),
    cardOf: (row) => ({ tone: row.result === 'forced' ? 'bad' : 'ok', result: row.result, title: row.result }),
    refreshFigures: vi.fn(async () => {}),
    ...overrides,
  }
}

function setOnline(value) {
  Object.defineProperty(window.navigator, 'onLine', { value, configurable: true })
}

beforeEach(async () => {
  await closeDB()
  globalThis.indexedDB = new IDBFactory()
  outbox.registerOp(OP, '/api/test', { send: async () => ({ status: 200 }), batch: { max: 50, group: (i) => String(i.payload.event_id) } })
})

afterEach(async () => {
  flow?.stop()
  flow = null
  setOnline(true)
  await closeDB()
})

describe('record', () => {
  it('online: keeps the server answer in the log and shows its card', async () => {
    setOnline(true)
    const k = kind()
    flow = useScanFlow(k, { userId: USER })
    await flow.decode('CY:ticket-1', (scan) => flow.record(scan))
    expect(k.online).toHaveBeenCalledTimes(1)
    expect(k.offline).not.toHaveBeenCalled()
    expect(flow.card.value).toMatchObject({ title: '签到成功', offline: false })
    expect(flow.scans.value).toMatchObject([{ state: 'done', result: 'ok', offline: false, log: 'door|7|4' }])
    expect(await outbox.pending(USER)).toBe(0)
  })

  it('no answer: the local verdict, queued in the outbox, 待上传 in the log', async () => {
    setOnline(true)
    const k = kind({ online: vi.fn(async () => Promise.reject(new ApiError(0, { code: 'network_error' }))) })
    flow = useScanFlow(k, { userId: USER })
    await flow.decode('CY:ticket-2', (scan) => flow.record(scan))
    expect(k.offline).toHaveBeenCalledTimes(1)
    expect(flow.online.value).toBe(false) // works offline until the next answer
    expect(flow.card.value).toMatchObject({ title: '签到成功（离线）', offline: true })
    const [row] = await listScans('door|7|4')
    expect(row).toMatchObject({ state: 'queued', local_result: 'ok', result: null, offline: true })
    const [item] = await outbox.list(USER)
    expect(item.nonce).toBe(row.outbox_nonce)
    expect(item.payload.items[0].nonce).toBe(row.nonce)
    expect(scanStatus(row).text).toBe('待上传')
  })

  it('a definite refusal online is shown, not queued', async () => {
    const k = kind({ online: vi.fn(async () => Promise.reject(new ApiError(409, { code: 'wrong_event', message: '这张票不是本场活动的' }))) })
    flow = useScanFlow(k, { userId: USER })
    await flow.decode('CY:other', (scan) => flow.record(scan))
    expect(flow.card.value).toMatchObject({ result: 'rejected', title: '这张票不是本场活动的' })
    expect(k.offline).not.toHaveBeenCalled()
    expect(await outbox.pending(USER)).toBe(0)
  })
})

describe('one scan at a time', () => {
  it('two fast scans are both handled, in order, the second after the first is done', async () => {
    const order = []
    let release
    const gate = new Promise((resolve) => (release = resolve))
    flow = useScanFlow(kind(), { userId: USER })
    const first = flow.decode('CY:one', async (scan) => {
      order.push(`start ${scan.text}`)
      await gate
      order.push(`end ${scan.text}`)
    })
    const second = flow.decode('CY:two', async (scan) => {
      order.push(`start ${scan.text}`)
    })
    expect(flow.busy.value).toBe(true)
    release()
    await Promise.all([first, second])
    expect(order).toEqual(['start CY:one', 'end CY:one', 'start CY:two'])
    expect(flow.busy.value).toBe(false)
  })

  it('a failing scan does not stop the next one', async () => {
    const queue = serialQueue()
    const seen = []
    vi.spyOn(console, 'error').mockImplementation(() => {})
    queue.push(async () => {
      throw new Error('boom')
    })
    await queue.push(async () => seen.push('next'))
    expect(seen).toEqual(['next'])
  })
})

describe('counts follow the outbox and the server', () => {
  it('待上传 comes from the outbox transaction; after a sync the log and the day figure refresh at once', async () => {
    setOnline(false)
    const k = kind()
    flow = useScanFlow(k, { userId: USER })
    await flow.start()
    for (const code of ['CY:a', 'CY:b', 'CY:c']) await flow.decode(code, (scan) => flow.record(scan))
    await outbox.enqueue(OP, { event_id: 99, items: [] }, { userId: USER }) // another event's: not counted here
    expect(flow.pending.value).toBe(3)

    // the server answers the batch: the op's sender writes the answers, the outbox removes the batch
    const rows = await listScans('door|7|4')
    outbox.registerOp(OP, '/api/test', {
      batch: { max: 50, group: (i) => String(i.payload.event_id) },
      send: async (items) => {
        const { recordResults } = await import('../lib/scan-log.js')
        await recordResults(items.flatMap((i) => i.payload.items).map((s, n) => ({ nonce: s.nonce, result: n === 0 ? 'forced' : 'ok', message: 'm' })))
        return { status: 200 }
      },
    })
    setOnline(true)
    flow.browserOnline.value = true
    k.refreshFigures.mockClear()
    await outbox.replay(undefined, { userId: USER })
    expect(flow.pending.value).toBe(0) // at once, from the transaction that removed the batch
    await vi.waitFor(() => expect(k.refreshFigures).toHaveBeenCalled())
    await vi.waitFor(() => expect(flow.scans.value.every((s) => s.state === 'sent')).toBe(true))
    expect(rows).toHaveLength(3)
    const forced = flow.scans.value.find((s) => s.result === 'forced')
    expect(scanStatus(forced).text).toBe('离线放行待核查')
  })

  it('shows the retention notice for what waits too long', async () => {
    setOnline(false)
    flow = useScanFlow(kind(), { userId: USER, now: () => Date.parse('2026-12-20T00:00:00Z') })
    await outbox.enqueue(OP, { event_id: 4, items: [] }, { userId: USER, now: Date.parse('2026-12-01T00:00:00Z') })
    await flow.start()
    expect(flow.pending.value).toBe(1)
    expect(flow.notice.value).toContain('已超过 7 天未上传')
  })

  it('refreshes the day figure on a short interval while visible', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }) // IndexedDB keeps its own timers
    try {
      setOnline(true)
      const k = kind()
      flow = useScanFlow(k, { userId: USER })
      await flow.start()
      k.refreshFigures.mockClear()
      vi.advanceTimersByTime(5_000)
      expect(k.refreshFigures).toHaveBeenCalledTimes(1)
    } finally {
      vi.useRealTimers()
    }
  })
})
