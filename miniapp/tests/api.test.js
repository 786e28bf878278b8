// @vitest-environment happy-dom
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, apiFetch, cachedGet, setAuthFailureHandler } from '../lib/api.js'
import { closeCacheDB, readCached } from '../lib/cache.js'
import { endSession, getAccessToken, session, startSession } from '../lib/session.js'

const ALICE = { id: 1, name: '张创业', roles: ['entrepreneur'], phone_masked: '138****0001' }
const BOB = { id: 2, name: '李服务', roles: ['provider_staff'], phone_masked: '138****0002' }

function json(body, status = 200, headers = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

/** fetch that answers from a queue; a function entry is called with (url, init). */
function mockFetch(...answers) {
  const fetchMock = vi.fn(async (url, init) => {
    const next = answers.shift()
    if (next === undefined) throw new Error(`unexpected fetch ${url}`)
    if (next === 'offline') throw new TypeError('Failed to fetch')
    return typeof next === 'function' ? next(url, init) : next
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

function login(user, access = 'access-1', refresh = 'refresh-1') {
  startSession({ access_token: access, refresh_token: refresh, user })
}

beforeEach(async () => {
  await closeCacheDB()
  globalThis.indexedDB = new IDBFactory()
  login(ALICE)
})

afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
  setAuthFailureHandler(() => {})
})

describe('apiFetch', () => {
  it('sends the access token and JSON body, and returns the parsed body', async () => {
    const fetchMock = mockFetch(json({ ok: true }))
    const data = await apiFetch('/api/me', { method: 'PATCH', body: { name: '张三' } })
    expect(data).toEqual({ ok: true })
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('/api/me')
    expect(init.headers.Authorization).toBe('Bearer access-1')
    expect(init.headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body)).toEqual({ name: '张三' })
  })

  it('returns null for 204', async () => {
    mockFetch(new Response(null, { status: 204 }))
    expect(await apiFetch('/api/auth/logout', { method: 'POST' })).toBeNull()
  })

  it('turns an error body into ApiError with code, message and details', async () => {
    mockFetch(json({ code: 'validation_error', message: '请检查填写的内容', details: { json: { credit_code: ['校验位不正确'] } } }, 422))
    const error = await apiFetch('/api/me', { method: 'PATCH', body: {} }).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 422, code: 'validation_error', message: '请检查填写的内容' })
    expect(error.details.json.credit_code).toEqual(['校验位不正确'])
    expect(error.transient).toBe(false)
  })

  it('keeps the request id; a 5xx message ends with its first 8 characters, a 4xx message stays as sent', async () => {
    const rid = '0123456789abcdef0123456789abcdef'
    mockFetch(json({ code: 'service_unavailable', message: '服务暂时不可用，请稍后重试', details: {} }, 503, { 'X-Request-ID': rid }))
    const unavailable = await apiFetch('/api/me').catch((e) => e)
    expect(unavailable).toMatchObject({ status: 503, code: 'service_unavailable', requestId: rid, transient: true })
    expect(unavailable.message).toBe('服务暂时不可用，请稍后重试（错误编号 01234567）')

    mockFetch(json({ code: 'not_found', message: '场所不存在', details: {} }, 404, { 'X-Request-ID': rid }))
    const missing = await apiFetch('/api/places/9').catch((e) => e)
    expect(missing).toMatchObject({ status: 404, requestId: rid, message: '场所不存在' })

    mockFetch(new Response('<html>bad gateway</html>', { status: 502 }))
    const proxy = await apiFetch('/api/me').catch((e) => e)
    expect(proxy).toMatchObject({ status: 502, requestId: null, message: '服务暂时不可用，请稍后重试' })
  })

  it('reports no network as status 0, code network_error, in Chinese', async () => {
    mockFetch('offline')
    const error = await apiFetch('/api/meta').catch((e) => e)
    expect(error).toMatchObject({ status: 0, code: 'network_error', transient: true })
    expect(error.message).toMatch(/网络/)
  })

  it('on token_expired refreshes once with the refresh token and retries', async () => {
    const fetchMock = mockFetch(
      json({ code: 'token_expired', message: '登录已过期' }, 401),
      (url, init) => {
        expect(url).toBe('/api/auth/refresh')
        expect(init.headers.Authorization).toBe('Bearer refresh-1')
        return json({ access_token: 'access-2' })
      },
      (url, init) => {
        expect(init.headers.Authorization).toBe('Bearer access-2')
        return json(ALICE)
      },
    )
    expect(await apiFetch('/api/me')).toEqual(ALICE)
    expect(fetchMock).toHaveBeenCalledTimes(3)
    expect(getAccessToken()).toBe('access-2')
  })

  it('shares one refresh between concurrent requests', async () => {
    let refreshes = 0
    vi.stubGlobal('fetch', vi.fn(async (url, init) => {
      if (url === '/api/auth/refresh') {
        refreshes += 1
        await new Promise((r) => setTimeout(r, 5))
        return json({ access_token: 'access-2' })
      }
      if (init.headers.Authorization === 'Bearer access-1') return json({ code: 'token_expired' }, 401)
      return json({ url })
    }))
    const results = await Promise.all([apiFetch('/api/me'), apiFetch('/api/places'), apiFetch('/api/meta')])
    expect(results.map((r) => r.url)).toEqual(['/api/me', '/api/places', '/api/meta'])
    expect(refreshes).toBe(1)
  })

  it('ends the session and reports to the shell when the refresh is refused', async () => {
    const onFailure = vi.fn()
    setAuthFailureHandler(onFailure)
    mockFetch(json({ code: 'token_expired' }, 401), json({ code: 'token_revoked' }, 401))
    const error = await apiFetch('/api/me').catch((e) => e)
    expect(error).toMatchObject({ status: 401, code: 'token_expired' })
    expect(onFailure).toHaveBeenCalledOnce()
    expect(getAccessToken()).toBeNull()
    expect(session.user).toBeNull()
  })

  it('does not refresh on other 401 codes', async () => {
    const onFailure = vi.fn()
    setAuthFailureHandler(onFailure)
    const fetchMock = mockFetch(json({ code: 'token_revoked', message: '已退出' }, 401))
    await expect(apiFetch('/api/me')).rejects.toMatchObject({ code: 'token_revoked' })
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect(onFailure).toHaveBeenCalledOnce()
  })
})

describe('cachedGet (cache first, then refresh)', () => {
  it('with nothing stored: renders the network copy once and stores it', async () => {
    mockFetch(json([{ id: 1 }], 200, { 'X-Pagination': JSON.stringify({ total: 1, page: 1, next_page: null }) }))
    const onData = vi.fn()
    const result = await cachedGet('/api/places?page=1', onData)

    expect(result.stale).toBe(false)
    expect(onData).toHaveBeenCalledOnce()
    expect(onData.mock.calls[0][0]).toEqual([{ id: 1 }])
    expect(onData.mock.calls[0][1]).toMatchObject({ source: 'network', pagination: { total: 1, page: 1 } })
    const stored = await readCached(ALICE.id, '/api/places?page=1')
    expect(stored.data).toEqual([{ id: 1 }])
    expect(stored.pagination.total).toBe(1)
  })

  it('renders the stored copy first, then the fresh one', async () => {
    mockFetch(json({ v: 1 }))
    await cachedGet('/api/meta', () => {})

    let answer
    mockFetch(() => new Promise((resolve) => (answer = resolve)))
    const seen = []
    const pending = cachedGet('/api/meta', (data, info) => seen.push([info.source, data.v]))
    await vi.waitFor(() => expect(seen).toEqual([['cache', 1]]))
    answer(json({ v: 2 }))
    await pending

    expect(seen).toEqual([['cache', 1], ['network', 2]])
    expect((await readCached(ALICE.id, '/api/meta')).data).toEqual({ v: 2 })
  })

  it('revalidates with the stored ETag and keeps the copy on 304', async () => {
    mockFetch(json({ v: 1 }, 200, { ETag: '"abc"' }))
    await cachedGet('/api/meta', () => {})

    const fetchMock = mockFetch(new Response(null, { status: 304, headers: { ETag: '"abc"' } }))
    const seen = []
    const result = await cachedGet('/api/meta', (data, info) => seen.push([info.source, data.v]))
    expect(fetchMock.mock.calls[0][1].headers['If-None-Match']).toBe('"abc"')
    expect(seen).toEqual([['cache', 1], ['network', 1]])
    expect(result.stale).toBe(false)
  })

  it('keeps the pagination with the stored copy', async () => {
    const header = { 'X-Pagination': JSON.stringify({ total: 41, total_pages: 3, page: 2, next_page: 3 }) }
    mockFetch(json([{ id: 21 }], 200, header))
    await cachedGet('/api/places?page=2', () => {})

    mockFetch('offline')
    const onData = vi.fn()
    await cachedGet('/api/places?page=2', onData)
    expect(onData.mock.calls[0][1]).toMatchObject({ source: 'cache', pagination: { total: 41, next_page: 3 } })
  })

  it.each([
    ['offline', 'offline'],
    ['a 503', json({ code: 'unavailable' }, 503)],
  ])('when %s and a copy is stored: shows it and reports stale', async (_, failure) => {
    mockFetch(json({ v: 1 }))
    await cachedGet('/api/me', () => {})

    mockFetch(failure)
    const onData = vi.fn()
    const result = await cachedGet('/api/me', onData)
    expect(onData).toHaveBeenCalledOnce()
    expect(onData.mock.calls[0]).toEqual([{ v: 1 }, expect.objectContaining({ source: 'cache' })])
    expect(result).toMatchObject({ stale: true })
    expect(result.storedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
  })

  it('when offline with nothing stored: throws network_error', async () => {
    mockFetch('offline')
    const onData = vi.fn()
    await expect(cachedGet('/api/places/3', onData)).rejects.toMatchObject({ code: 'network_error' })
    expect(onData).not.toHaveBeenCalled()
  })

  it('forgets the stored copy when the server says it is gone (404)', async () => {
    mockFetch(json({ id: 3 }))
    await cachedGet('/api/places/3', () => {})

    mockFetch(json({ code: 'not_found', message: '场所不存在' }, 404))
    await expect(cachedGet('/api/places/3', () => {})).rejects.toMatchObject({ status: 404 })
    expect(await readCached(ALICE.id, '/api/places/3')).toBeUndefined()
  })

  it('never shows one user’s stored data to another user on the same phone', async () => {
    mockFetch(json({ secret: 'alice' }))
    await cachedGet('/api/me', () => {})
    endSession()

    login(BOB, 'access-bob')
    mockFetch('offline')
    const onData = vi.fn()
    await expect(cachedGet('/api/me', onData)).rejects.toMatchObject({ code: 'network_error' })
    expect(onData).not.toHaveBeenCalled()
  })
})
