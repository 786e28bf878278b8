import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../lib/api.js'
import { postVisitSync } from '../lib/api/checkins.js'
import { closeDB } from '../lib/db.js'
import { newNonce } from '../lib/nonce.js'
import * as outbox from '../lib/outbox.js'
import { scanStatus } from '../lib/scan.js'
import { BATCH_MAX } from '../lib/scan-op.js'
import { listScans, placeLog, putScan, recordResults } from '../lib/scan-log.js'
import { beijingDay } from '../lib/format.js'
import {
  answerCard, buildNote, judgeCode, loadMeta, personLabel, queuePayload, seenToday,
  syncItem, todayFigures,
} from '../lib/visit-scan.js'
import { VISIT_OP } from '../lib/visit-scan-op.js'

const DEVICE = { id: 4, place_id: 9, name: '前台手机' }
const TOKEN = 'device-token-4'
const NOW = new Date('2025-11-22T02:00:00Z') // 10:00 in Beijing

beforeEach(async () => {
  await closeDB()
  globalThis.indexedDB = new IDBFactory()
})

afterEach(async () => {
  await closeDB()
  vi.unstubAllGlobals()
})

const okAnswer = (item) => ({ nonce: item.nonce, result: 'ok', code: null, message: '签到成功', conflict: false, replayed: false, visit: { id: 1, name: '张*', purpose: item.purpose, purpose_label: '政策咨询', visited_at: item.scanned_at } })

/** fetch answering POST /api/checkins/sync like the server (`answer(item)` per item, or throw). */
function serverStub(answer = okAnswer) {
  const calls = []
  const fetchMock = vi.fn(async (url, init) => {
    const body = JSON.parse(init.body)
    calls.push({ url, init, body })
    const reply = answer.length === 2 ? answer(body, init) : { results: body.items.map(answer), server_time: NOW.toISOString() }
    if (reply instanceof Response) return reply
    return new Response(JSON.stringify(reply), { status: 200, headers: { 'Content-Type': 'application/json' } })
  })
  vi.stubGlobal('fetch', fetchMock)
  return { fetchMock, calls }
}

const refuse = (status, code, message) => new Response(JSON.stringify({ code, message }), { status, headers: { 'Content-Type': 'application/json' } })

async function queuedScan({ seconds = 0, purpose = 'policy', token = TOKEN } = {}) {
  const nonce = newNonce()
  const scannedAt = new Date(NOW.getTime() + seconds * 1000).toISOString()
  const item = syncItem({ nonce, code: `CY:code-${nonce}`, purpose, scannedAt, offline: true })
  const queued = await outbox.enqueue(VISIT_OP, queuePayload({ device: DEVICE, token, item }), { userId: 7 })
  await putScan({ nonce, log: placeLog(DEVICE.id), device_id: DEVICE.id, user_id: 11, name: '', purpose, scanned_at: scannedAt, offline: true, state: 'queued', local_result: 'ok', result: null, outbox_nonce: queued.nonce })
  return { nonce, queued }
}

describe('pure', () => {
  it('makes nonces the server takes', () => {
    expect(newNonce()).toMatch(/^[0-9a-f]{32}$/)
    expect(newNonce()).not.toBe(newNonce())
  })

  it('counts days in Beijing time', () => {
    expect(beijingDay('2025-11-21T16:30:00Z')).toBe('2025-11-22')
    expect(beijingDay('2025-11-21T15:59:00Z')).toBe('2025-11-21')
    expect(beijingDay('nope')).toBe('')
  })

  it('names a person by the masked name, else by user id', () => {
    expect(personLabel({ name: '张*', userId: 5 })).toBe('张*')
    expect(personLabel({ userId: 5 })).toBe('已核验的创业者')
    expect(personLabel({})).toBe('创业者（待服务器核验）')
  })

  it('judges a code: refused offline, left to the server online only for what this phone cannot know', () => {
    const messages = { expired: '二维码已过期', unknown_key: '签名密钥未知' }
    expect(judgeCode({ ok: true, userId: 3 }, { online: false })).toEqual({ ok: true, userId: 3 })
    expect(judgeCode({ error: 'expired' }, { online: true, messages })).toEqual({ ok: false, code: 'expired', message: '二维码已过期' })
    expect(judgeCode({ error: 'unknown_key' }, { online: false, messages })).toMatchObject({ ok: false, code: 'unknown_key' })
    expect(judgeCode({ error: 'unknown_key' }, { online: true, messages })).toEqual({ ok: true, userId: null, unverified: 'unknown_key' })
    expect(judgeCode(null, { online: true })).toMatchObject({ ok: false, code: 'malformed' })
  })

  it('reads the amount sought in 元 with lib/money.js, within what the server takes', () => {
    const amount = (text) => buildNote({ amount: text }, 'loan')
    expect(amount('').note).toBeNull()
    expect(amount('12.5').note.loan_amount).toBe(1250)
    expect(amount('1,000.05').note.loan_amount).toBe(100_005)
    expect(amount('1000000000').note.loan_amount).toBe(10 ** 11)
    for (const bad of ['12.345', '-3', '十万']) expect(amount(bad).error).toEqual({ field: 'amount', message: '拟贷金额请填写数字（元），最多两位小数' })
    expect(amount('1000000000.01').error).toEqual({ field: 'amount', message: '拟贷金额不能超过 10 亿元' })
  })

  it('builds the note: nothing written is no note; loan fields only for 贷款咨询', () => {
    expect(buildNote({ text: '  ' }, 'policy')).toEqual({ note: null })
    expect(buildNote({ text: '问了租金补贴', amount: '5' }, 'policy')).toEqual({ note: { text: '问了租金补贴', loan_amount: null, business_type: '', referred_bank: '' } })
    expect(buildNote({ amount: '200000', businessType: ' 餐饮 ', referredBank: '济宁银行' }, 'loan')).toEqual({
      note: { text: '', loan_amount: 20_000_000, business_type: '餐饮', referred_bank: '济宁银行' },
    })
    expect(buildNote({ amount: 'abc' }, 'loan').error.field).toBe('amount')
    expect(buildNote({ text: 'x'.repeat(501) }, 'other').error.field).toBe('text')
  })

  it('finds the first visit of a person today on this phone', () => {
    const scans = [
      { user_id: 5, scanned_at: '2025-11-22T03:00:00Z', state: 'done', result: 'duplicate' },
      { user_id: 5, scanned_at: '2025-11-22T01:00:00Z', state: 'queued', result: null },
      { user_id: 5, scanned_at: '2025-11-21T01:00:00Z', state: 'done', result: 'ok' }, // yesterday
      { user_id: 6, scanned_at: '2025-11-22T01:30:00Z', state: 'done', result: 'rejected' },
    ]
    expect(seenToday(scans, 5, NOW).scanned_at).toBe('2025-11-22T01:00:00Z')
    expect(seenToday(scans, 6, NOW)).toBeNull()
    expect(seenToday(scans, null, NOW)).toBeNull()
  })

  it("adds the queued scans that would make a visit to today's figures, and ignores yesterday's figures", () => {
    const today = { day: '2025-11-22', total: 3, by_purpose: { policy: 2, guidance: 0, loan: 1, event: 0, other: 0 } }
    const scans = [
      { state: 'queued', local_result: 'ok', purpose: 'loan', scanned_at: '2025-11-22T01:00:00Z' },
      { state: 'queued', local_result: 'duplicate', purpose: 'loan', scanned_at: '2025-11-22T01:10:00Z' },
      { state: 'sent', local_result: 'ok', purpose: 'loan', scanned_at: '2025-11-22T01:20:00Z' },
    ]
    expect(todayFigures(today, scans, NOW)).toEqual({ total: 4, by_purpose: { policy: 2, guidance: 0, loan: 2, event: 0, other: 0 }, unsent: 1, known: true })
    expect(todayFigures({ ...today, day: '2025-11-21' }, scans, NOW)).toMatchObject({ total: 1, known: false })
    expect(todayFigures(null, [], NOW)).toMatchObject({ total: 0, unsent: 0, known: false })
  })

  it('says what happened to each scan, with the review flags', () => {
    expect(scanStatus({ state: 'queued', offline: true })).toMatchObject({ text: '待上传', flags: [{ key: 'offline' }] })
    expect(scanStatus({ state: 'sent', result: 'forced', offline: true }).text).toBe('离线放行待核查')
    expect(scanStatus({ state: 'sent', result: 'duplicate', conflict: true, offline: true }).flags.map((f) => f.text)).toEqual(['离线', '多设备重复'])
    expect(scanStatus({ state: 'done', result: 'rejected', local: true }).text).toBe('未通过（本机）')
    expect(scanStatus({ state: 'failed' }).text).toBe('上传被拒绝')
  })

  it("turns the server's answer into the big card", () => {
    const visit = { name: '李*', purpose_label: '贷款咨询' }
    expect(answerCard({ result: 'ok', visit }, { userId: 3 })).toMatchObject({ tone: 'ok', title: '签到成功', name: '李*', detail: '贷款咨询' })
    expect(answerCard({ result: 'duplicate', message: '今日已到访（09:58），不重复计数', conflict: true, visit })).toMatchObject({ tone: 'dup', title: '今日已到访', flags: ['多设备重复'] })
    expect(answerCard({ result: 'rejected', message: '二维码已过期', visit: null }, { userId: 3 })).toMatchObject({ tone: 'bad', title: '二维码已过期', name: '已核验的创业者' })
  })
})

describe('postVisitSync', () => {
  it('sends the device token (not the sign-in) and sent_at', async () => {
    const calls = []
    const request = vi.fn(async (url, options) => {
      calls.push({ url, options })
      return { status: 200, data: { results: [] } }
    })
    const item = syncItem({ nonce: newNonce(), code: 'CY:x', purpose: 'loan', scannedAt: NOW.toISOString(), offline: false })
    await postVisitSync({ items: [item], sentAt: '2025-11-22T02:00:05.000Z', token: TOKEN, placeId: 9, request })
    expect(calls[0].url).toBe('/api/checkins/sync')
    expect(calls[0].options).toMatchObject({ method: 'POST', auth: false, headers: { 'X-Device-Token': TOKEN } })
    expect(calls[0].options.body).toEqual({ items: [item], sent_at: '2025-11-22T02:00:05.000Z', place_id: 9 })
  })

  it('falls back to the staff sign-in when the server no longer knows the device', async () => {
    const request = vi.fn(async (url, options) => {
      if (options.headers?.['X-Device-Token']) throw new ApiError(401, { code: 'device_unauthorized', message: '扫码设备未开通' })
      return { status: 200, data: { results: [] } }
    })
    await postVisitSync({ items: [], sentAt: NOW.toISOString(), token: TOKEN, placeId: 9, request })
    expect(request).toHaveBeenCalledTimes(2)
    expect(request.mock.calls[1][1].auth).toBeUndefined()
    expect(request.mock.calls[1][1].headers).toBeUndefined()
  })
})

describe('the outbox op (lib/scan-op.js)', () => {
  it('is registered as a batch op with its own sender', () => {
    expect(outbox.OP_ROUTES[VISIT_OP]).toBe('/api/checkins/sync')
    expect(typeof outbox.OP_SENDERS[VISIT_OP]).toBe('function')
    expect(outbox.OP_BATCHES[VISIT_OP].max).toBe(BATCH_MAX)
  })

  it('sends the whole queue of the device in one request, with sent_at at sending, and keeps each answer', async () => {
    const a = await queuedScan({ seconds: 0 })
    const b = await queuedScan({ seconds: 60, purpose: 'loan' })
    const c = await queuedScan({ seconds: 120 })
    const { calls } = serverStub()
    const before = Date.now()

    const result = await outbox.replay(undefined, { userId: 7 })
    expect(result).toMatchObject({ sent: 3, dropped: 0, waiting: 0 })
    expect(calls).toHaveLength(1)
    const { body, init } = calls[0]
    expect(init.headers['X-Device-Token']).toBe(TOKEN)
    expect(body.items.map((i) => i.nonce)).toEqual([a.nonce, b.nonce, c.nonce])
    expect(body.items.every((i) => i.offline === true)).toBe(true)
    expect(Date.parse(body.sent_at)).toBeGreaterThanOrEqual(before - 1000)
    expect(body).not.toHaveProperty('device_token')
    expect(body.items[0]).not.toHaveProperty('device_token')
    const scans = await listScans(placeLog(DEVICE.id))
    expect(scans.map((s) => [s.state, s.result, s.name])).toEqual([['sent', 'ok', '张*'], ['sent', 'ok', '张*'], ['sent', 'ok', '张*']])
    expect((await loadMeta(DEVICE.id)).last_sync_at).toBeTruthy()
  })

  it('keeps the queue when there is no answer, and sends it later', async () => {
    const a = await queuedScan()
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    const first = await outbox.replay(undefined, { userId: 7, now: () => NOW.getTime() })
    expect(first.waiting).toBe(1)
    expect((await listScans(placeLog(DEVICE.id)))[0].state).toBe('queued')

    const { calls } = serverStub()
    const later = NOW.getTime() + 86_400_000
    await outbox.replay(undefined, { userId: 7, now: () => later })
    expect(calls[0].body).toMatchObject({ items: [{ nonce: a.nonce }] })
    expect(await outbox.pending(7)).toBe(0)
  })

  it('records forced and conflict answers', async () => {
    const a = await queuedScan()
    const b = await queuedScan({ seconds: 10 })
    serverStub((item) => (item.nonce === a.nonce
      ? { nonce: item.nonce, result: 'forced', code: 'revoked', message: '离线时已放行，已记录待核查：二维码已作废', conflict: false, visit: { id: 2, name: '王*' } }
      : { nonce: item.nonce, result: 'duplicate', code: null, message: '今日已到访（09:00），不重复计数', conflict: true, visit: { id: 3, name: '赵*' } }))
    await outbox.replay(undefined, { userId: 7 })
    const byNonce = Object.fromEntries((await listScans(placeLog(DEVICE.id))).map((s) => [s.nonce, s]))
    expect(byNonce[a.nonce]).toMatchObject({ state: 'sent', result: 'forced', code: 'revoked', conflict: false })
    expect(byNonce[b.nonce]).toMatchObject({ state: 'sent', result: 'duplicate', conflict: true, name: '赵*' })
    expect(scanStatus(byNonce[a.nonce]).text).toBe('离线放行待核查') // never 今日已到访
  })

  it('retries a refused batch scan by scan, so one bad scan does not hold the others', async () => {
    const a = await queuedScan()
    const b = await queuedScan({ seconds: 10 })
    serverStub((body, _init) => (body.items.length > 1 || body.items[0].nonce === a.nonce
      ? refuse(422, 'validation', '个人码不正确')
      : { results: body.items.map(okAnswer) }))
    const result = await outbox.replay(undefined, { userId: 7 })
    expect(result).toMatchObject({ sent: 1, dropped: 1 })
    expect((await outbox.failed(7))[0]).toMatchObject({ code: 'validation', message: '个人码不正确' })
    const byNonce = Object.fromEntries((await listScans(placeLog(DEVICE.id))).map((s) => [s.nonce, s]))
    expect(byNonce[b.nonce].state).toBe('sent')
    expect(byNonce[a.nonce].state).toBe('queued') // the page marks it failed from the failed list
  })

  it('never puts scans of another device in the same request', async () => {
    for (let i = 0; i < 3; i += 1) await queuedScan({ seconds: i, token: 'other-device' })
    await queuedScan({ seconds: 5 })
    const { calls } = serverStub()
    await outbox.replay(undefined, { userId: 7 })
    expect(calls.map((c) => [c.init.headers['X-Device-Token'], c.body.items.length])).toEqual([['other-device', 3], [TOKEN, 1]])
  })

  it('never puts more than BATCH_MAX scans in one request', async () => {
    for (let i = 0; i < BATCH_MAX + 5; i += 1) await queuedScan({ seconds: i })
    const { calls } = serverStub()
    const result = await outbox.replay(undefined, { userId: 7 })
    expect(calls.map((c) => c.body.items.length)).toEqual([BATCH_MAX, 5])
    expect(result).toMatchObject({ sent: BATCH_MAX + 5, waiting: 0 })
  })

  it('writes answers only into scans this phone knows', async () => {
    expect(await recordResults([{ nonce: 'unknown-nonce-1234', result: 'ok' }])).toEqual([])
  })
})
