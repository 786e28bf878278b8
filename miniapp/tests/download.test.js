// @vitest-environment happy-dom
// lib/download.js: one download helper for every export (statements, visits, attendance sheets).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { downloadFile, filenameFrom } from '../lib/download.js'
import { endSession, getAccessToken, startSession } from '../lib/session.js'

const json = (body, status) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const file = (name) =>
  new Response(new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), {
    status: 200,
    headers: { 'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}` },
  })

let saved
beforeEach(() => {
  startSession({ access_token: 'old', refresh_token: 'refresh-1', user: { id: 1, roles: ['admin'] } })
  saved = []
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:1'), revokeObjectURL: vi.fn() }))
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function click() {
    saved.push({ href: this.href, download: this.download })
  })
})

afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
})

describe('filenameFrom', () => {
  it('prefers the UTF-8 name, then the plain one, then the fallback', () => {
    expect(filenameFrom("attachment; filename*=UTF-8''%E7%BB%93%E7%AE%97%E5%8D%95.xlsx", 'x')).toBe('结算单.xlsx')
    expect(filenameFrom('attachment; filename="visits.csv"', 'x')).toBe('visits.csv')
    expect(filenameFrom("attachment; filename*=UTF-8''%E7%BB%9", 'fallback.csv')).toBe('fallback.csv')
    expect(filenameFrom(null, 'fallback.csv')).toBe('fallback.csv')
  })
})

describe('downloadFile', () => {
  it('fetches with the token and saves under the server file name', async () => {
    const fetchMock = vi.fn(async () => file('签到表-4.csv'))
    vi.stubGlobal('fetch', fetchMock)
    expect(await downloadFile('/api/organiser/events/4/export?format=csv', 'x.csv')).toBe('签到表-4.csv')
    expect(fetchMock.mock.calls[0][1].headers).toEqual({ Authorization: 'Bearer old' })
    expect(saved).toEqual([{ href: 'blob:1', download: '签到表-4.csv' }])
  })

  it('refreshes an expired token once and tries again, as apiFetch does', async () => {
    const fetchMock = vi.fn()
      .mockResolvedValueOnce(json({ code: 'token_expired', message: '登录已过期' }, 401))
      .mockResolvedValueOnce(json({ access_token: 'new' }, 200))
      .mockResolvedValueOnce(file('结算单-2026-11.xlsx'))
    vi.stubGlobal('fetch', fetchMock)
    expect(await downloadFile('/api/provider/statements/5/export?format=xlsx', 'x.xlsx')).toBe('结算单-2026-11.xlsx')
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual([
      '/api/provider/statements/5/export?format=xlsx', '/api/auth/refresh', '/api/provider/statements/5/export?format=xlsx',
    ])
    expect(fetchMock.mock.calls[2][1].headers).toEqual({ Authorization: 'Bearer new' })
    expect(getAccessToken()).toBe('new')
  })

  it("throws the server's error (Chinese message, code) and saves nothing", async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ code: 'range_too_long', message: '一次最多导出一年的记录' }, 422)))
    await expect(downloadFile('/api/checkins/export?format=csv', 'x.csv')).rejects.toMatchObject({ status: 422, code: 'range_too_long', message: '一次最多导出一年的记录' })
    expect(saved).toEqual([])
  })

  it('says "no network" as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(downloadFile('/api/checkins/export?format=csv', 'x.csv')).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })
})
