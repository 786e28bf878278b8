// This phone as a scanner: the device record in IndexedDB, the bundle kept fresh (full, then deltas
// after ?since, conditional on the ETag), and a stopped device forgotten.
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  BUNDLE_URL, DEMO_SCANNER_NAME, PROVISION_URL, STOPPED_MESSAGE, ScannerStopped, VERIFY_MESSAGES, clearScanner,
  closeScannerDeviceDB, defaultScannerName, formatMoment, loadScanner, looksLikeSetupCode, maskUserId,
  provisionDemoScanner, provisionMessage, provisionScanner, refreshBundle, verifyMessage,
} from '../lib/scanner-device.js'
import { closeScannerDB, loadStored } from '../lib/scanner-verify.js'
import { MESSAGES } from '../lib/codes-format.js'
import { endSession, startSession } from '../lib/session.js'

const DEVICE = { id: 4, place_id: 8, name: '前台扫码手机', created_at: '2026-01-05T02:00:00+00:00', last_seen_at: null, revoked_at: null }
const PLACE = { id: 8, name: '创贷之家·古槐路驿站' }
const KEYS = [{ kid: 1, alg: 'Ed25519', public_key: 'A'.repeat(43) }]

function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

function bundle(overrides = {}) {
  return {
    full: false, cursor: 1, keys: KEYS, revoked_credentials: [], revoked_tickets: [], blocked_users: [],
    restored_users: [], place: PLACE, device: { id: 4, name: DEVICE.name, place_id: 8 },
    personal_code_window: 30, personal_code_skew: 20, ...overrides,
  }
}

/** fetch answering from a queue; 'offline' throws as fetch does with no network. */
function mockFetch(...answers) {
  const fetchMock = vi.fn(async (url) => {
    const next = answers.shift()
    if (next === undefined) throw new Error(`unexpected fetch ${url}`)
    if (next === 'offline') throw new TypeError('Failed to fetch')
    return next
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

const sent = (fetchMock, n) => ({ url: fetchMock.mock.calls[n][0], headers: fetchMock.mock.calls[n][1].headers })

async function provisioned(token = 'tok-1', device = DEVICE) {
  mockFetch(json({ device, token }, 201))
  return provisionScanner({ setupCode: '  CY:SETUP  ', name: ' 前台扫码手机 ' })
}

beforeEach(async () => {
  await closeScannerDeviceDB()
  await closeScannerDB()
  globalThis.indexedDB = new IDBFactory()
})

afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
})

describe('the device record', () => {
  it('is stored at provisioning, survives a restart, and is cleared with the offline data', async () => {
    expect(await loadScanner()).toBeNull()
    const fetchMock = mockFetch(json({ device: DEVICE, token: 'tok-1' }, 201))
    // signed in or not, the setup code is all the server needs: no bearer token goes with it
    startSession({ access_token: 'user-access', user: { id: 1, name: '王驿站', roles: ['station_staff'] } })
    const record = await provisionScanner({ setupCode: '  CY:SETUP  ', name: ' 前台扫码手机 ' })
    const { url, headers } = sent(fetchMock, 0)
    expect(url).toBe(PROVISION_URL)
    expect(headers.Authorization).toBeUndefined()
    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ setup_code: 'CY:SETUP', name: '前台扫码手机' })
    expect(record).toMatchObject({ device: DEVICE, token: 'tok-1', etag: null, synced_at: null })

    await closeScannerDeviceDB()
    expect(await loadScanner()).toMatchObject({ device: { id: 4 }, token: 'tok-1' })

    mockFetch(json(bundle({ full: true, cursor: 3 })))
    await refreshBundle()
    expect(await loadStored()).toMatchObject({ cursor: 3 })
    await clearScanner()
    expect(await loadScanner()).toBeNull()
    expect(await loadStored()).toBeNull()
  })

  it('keeps nothing when the server refuses the setup code', async () => {
    mockFetch(json({ code: 'setup_used', message: '设置码已使用过，请让管理员重新生成' }, 409))
    await expect(provisionScanner({ setupCode: 'CY:X', name: '前台' })).rejects.toMatchObject({
      status: 409, code: 'setup_used', message: '设置码已使用过，请让管理员重新生成',
    })
    expect(await loadScanner()).toBeNull()
  })

  it('drops the offline data of an earlier provisioning', async () => {
    await provisioned('tok-old', { ...DEVICE, id: 3 })
    mockFetch(json(bundle({ full: true, cursor: 9, device: { id: 3, name: 'old', place_id: 2 } })))
    await refreshBundle()
    expect(await loadStored()).toMatchObject({ cursor: 9 })
    await provisioned('tok-new')
    expect(await loadStored()).toBeNull()
  })
})

describe('the demo station phone', () => {
  it('asks for its own setup code and provisions under the demo name, once', async () => {
    const fetchMock = mockFetch(
      json({ setup_id: 1, setup_code: 'CY:DEMO', expires_at: '2026-12-04T10:10:00+00:00' }, 201),
      json({ device: { ...DEVICE, name: DEMO_SCANNER_NAME }, token: 'tok-demo' }, 201),
    )
    const record = await provisionDemoScanner('staff-access') // before the session starts
    expect(fetchMock.mock.calls[0][0]).toBe('/api/scanner/demo-setup')
    expect(fetchMock.mock.calls[0][1].headers.Authorization).toBe('Bearer staff-access')
    expect(JSON.parse(fetchMock.mock.calls[1][1].body)).toEqual({ setup_code: 'CY:DEMO', name: DEMO_SCANNER_NAME })
    expect(record).toMatchObject({ token: 'tok-demo', device: { name: DEMO_SCANNER_NAME } })
    // already a scanner: nothing is asked again
    const again = mockFetch()
    expect(await provisionDemoScanner('staff-access')).toMatchObject({ token: 'tok-demo' })
    expect(again).not.toHaveBeenCalled()
  })
})

it('looksLikeSetupCode tells a setup code from a URL or text', () => {
  expect(looksLikeSetupCode(' CY:6BFOXN*TS0 $%*+-./: ')).toBe(true)
  expect(looksLikeSetupCode('https://example.com/c/AAAA')).toBe(false)
  expect(looksLikeSetupCode('cy:abc')).toBe(false)
  expect(looksLikeSetupCode('')).toBe(false)
})

describe('refreshBundle', () => {
  it('does nothing on a phone that is not a scanner', async () => {
    const fetchMock = mockFetch()
    expect(await refreshBundle()).toBeNull()
    expect(fetchMock).not.toHaveBeenCalled()
  })

  it('fetches the full bundle, then deltas after the cursor with the last ETag, and merges them', async () => {
    await provisioned()
    const fetchMock = mockFetch(
      json(bundle({ full: true, cursor: 5, revoked_credentials: [11], blocked_users: [7] }), 200, { ETag: '"e1"' }),
      json(bundle({ cursor: 8, revoked_credentials: [12], revoked_tickets: [40], restored_users: [7] }), 200, { ETag: '"e2"' }),
      new Response(null, { status: 304 }),
    )

    const first = await refreshBundle()
    expect(first.status).toBe('full')
    expect(sent(fetchMock, 0)).toEqual({
      url: BUNDLE_URL, headers: { Accept: 'application/json', 'X-Device-Token': 'tok-1' },
    })
    expect(await loadScanner()).toMatchObject({ etag: '"e1"', synced_at: expect.any(String) })

    const second = await refreshBundle()
    expect(second.status).toBe('delta')
    expect(sent(fetchMock, 1)).toMatchObject({
      url: `${BUNDLE_URL}?since=5`, headers: { 'X-Device-Token': 'tok-1', 'If-None-Match': '"e1"' },
    })
    expect(second.stored).toMatchObject({ cursor: 8, revoked_credentials: [11, 12], revoked_tickets: [40], blocked_users: [] })

    const syncedBefore = (await loadScanner()).synced_at
    await new Promise((resolve) => setTimeout(resolve, 5))
    const third = await refreshBundle()
    expect(third.status).toBe('not_modified')
    expect(sent(fetchMock, 2)).toMatchObject({ url: `${BUNDLE_URL}?since=8`, headers: { 'If-None-Match': '"e2"' } })
    expect(await loadStored()).toMatchObject({ cursor: 8, revoked_credentials: [11, 12] })
    const after = await loadScanner()
    expect(after.etag).toBe('"e2"')
    expect(after.synced_at > syncedBefore).toBe(true) // "上次更新" moves on a 304 too
  })

  it('shares one request between concurrent callers', async () => {
    await provisioned()
    const fetchMock = mockFetch(json(bundle({ full: true, cursor: 2 })))
    const [a, b] = await Promise.all([refreshBundle(), refreshBundle()])
    expect(a).toBe(b)
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('keeps what it has when the network fails', async () => {
    await provisioned()
    mockFetch(json(bundle({ full: true, cursor: 2, revoked_credentials: [1] })), 'offline')
    await refreshBundle()
    await expect(refreshBundle()).rejects.toMatchObject({ status: 0, code: 'network_error' })
    expect(await loadScanner()).toMatchObject({ token: 'tok-1' })
    expect(await loadStored()).toMatchObject({ cursor: 2, revoked_credentials: [1] })
  })

  it.each(['device_revoked', 'device_unauthorized'])('forgets a stopped device (%s)', async (code) => {
    await provisioned()
    mockFetch(json(bundle({ full: true, cursor: 2 })), json({ code, message: '该扫码设备已停用' }, 401))
    await refreshBundle()
    const error = await refreshBundle().catch((e) => e)
    expect(error).toBeInstanceOf(ScannerStopped)
    expect(error).toMatchObject({ code, message: STOPPED_MESSAGE })
    expect(await loadScanner()).toBeNull()
    expect(await loadStored()).toBeNull()
  })

  it('does not let a refusal of an old token clear a newer provisioning', async () => {
    await provisioned('tok-old')
    let answer
    vi.stubGlobal('fetch', vi.fn(() => new Promise((resolve) => { answer = resolve })))
    const pending = refreshBundle().catch((e) => e)
    await vi.waitFor(() => expect(answer).toBeTypeOf('function'))
    mockFetch(json({ device: DEVICE, token: 'tok-new' }, 201))
    await provisionScanner({ setupCode: 'CY:2', name: '前台' })
    answer(json({ code: 'device_revoked', message: '已停用' }, 401))
    expect(await pending).toBeInstanceOf(ScannerStopped)
    expect(await loadScanner()).toMatchObject({ token: 'tok-new' })
  })

  it('starts over with a full bundle when the stored one belongs to another device', async () => {
    await provisioned()
    const fetchMock = mockFetch(
      json(bundle({ full: true, cursor: 4, device: { id: 99, name: 'x', place_id: 1 } }), 200, { ETag: '"x"' }),
      json(bundle({ full: true, cursor: 6 })),
    )
    await refreshBundle()
    await refreshBundle()
    expect(sent(fetchMock, 1).url).toBe(BUNDLE_URL)
    expect(sent(fetchMock, 1).headers['If-None-Match']).toBeUndefined()
  })
})

describe('what the scanner shows', () => {
  it('has a Chinese message for each of the seven codes', () => {
    expect(Object.keys(VERIFY_MESSAGES).sort()).toEqual(Object.keys(MESSAGES).sort())
    expect(Object.keys(VERIFY_MESSAGES)).toHaveLength(7)
    expect(verifyMessage('expired')).toBe('二维码已过期，请对方刷新后重新出示')
    expect(verifyMessage('something_new')).toBe(VERIFY_MESSAGES.malformed)
  })

  it('explains a refused setup code in terms of 开通码', () => {
    expect(provisionMessage({ status: 409, code: 'setup_used', message: '设置码已使用过' })).toBe('开通码已使用过，请管理员重新生成')
    expect(provisionMessage({ status: 422, code: 'expired' })).toContain('开通码已过期')
    expect(provisionMessage({ status: 422, code: 'malformed' })).toContain('开通码无效')
    expect(provisionMessage({ status: 0, code: 'network_error' })).toContain('需要联网')
    expect(provisionMessage({ status: 422, code: 'validation_error', message: '请填写设备名称（1 到 64 个字）' })).toBe('请填写设备名称（1 到 64 个字）')
  })

  it('masks user ids, formats Beijing time, names the phone', () => {
    expect([maskUserId(5), maskUserId(42), maskUserId(1234), maskUserId(123456)]).toEqual(['***5', '***2', '***34', '***56'])
    expect(formatMoment('2026-01-05T02:03:04Z')).toBe('01-05 10:03:04')
    expect(formatMoment(1767578584)).toBe('01-05 10:03:04')
    expect(defaultScannerName('Android · Chrome')).toBe('前台扫码手机（Android · Chrome）')
  })
})
