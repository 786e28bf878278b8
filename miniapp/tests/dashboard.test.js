// @vitest-environment happy-dom
// The dashboard's pure helpers (lib/dashboard.js) and its API module (lib/api/programme.js).
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as programme from '../lib/api/programme.js'
import { closeCacheDB } from '../lib/cache.js'
import {
  MONEY_MEASURES, chartRegions, parseTargetValue, percentText, plotted, progress, regionPath, statusTone, targetInput, trend, valueText,
} from '../lib/dashboard.js'
import { endSession, startSession } from '../lib/session.js'

const events = { key: 'events', money: false, stock: false, target: 100, actual: 3, by_month: [0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0] }
const money = { key: 'vouchers', money: true, stock: false, target: null, actual: 75000, by_month: [0, 100000, 75050, 0, 0, 0, 0, 0, 0, 0, 0, 0] }
const stations = { key: 'stations_in_service', money: false, stock: true, target: 300, actual: 2,
  by_month: [1, 1, 2, 2, 2, 2, 2, null, null, null, null, null] }

describe('numbers in words', () => {
  it('shows money in 元 from fen, counts with separators, nothing as a dash', () => {
    expect(valueText(money, 75050)).toBe('¥750.50')
    expect(valueText(events, 1000)).toBe('1,000')
    expect(valueText(events, null)).toBe('—')
    expect(plotted(money, 75050)).toBe(750.5)
    expect(plotted(events, 3)).toBe(3)
    expect(percentText(0.4986)).toBe('49.9%')
    expect(percentText(null)).toBe('—')
    expect(statusTone('behind')).toBe('tag_red')
    expect(statusTone(null)).toBe('')
  })

  it('puts the 序时进度 marker at the share of the year and caps the done bar', () => {
    expect(progress(events, 0.4986)).toEqual({ done: 3, expected: 49.86 })
    expect(progress({ ...events, actual: 250 }, 1.2)).toEqual({ done: 100, expected: 100 })
    expect(progress(money, 0.5)).toBeNull()
  })
})

describe('the monthly trend', () => {
  it('runs a flow up month by month beside the target pace, and stops at the months begun', () => {
    const t = trend(events, 4)
    expect(t.monthly).toEqual([0, 0, 2, 1, null, null, null, null, null, null, null, null])
    expect(t.cumulative).toEqual([0, 0, 2, 3, null, null, null, null, null, null, null, null])
    expect(t.line[0]).toBe(8.33)
    expect(t.line[11]).toBe(100)
  })

  it('keeps a stock as it is and plots money in 元', () => {
    expect(trend(stations, 7).cumulative).toEqual([1, 1, 2, 2, 2, 2, 2, null, null, null, null, null])
    const m = trend(money, 3)
    expect(m.cumulative.slice(0, 3)).toEqual([0, 1000, 1750.5])
    expect(m.line).toBeNull()
  })
})

describe('the region path', () => {
  const names = { 370000: '山东省', 370800: '济宁市', 370811: '任城区' }
  it('walks up from a district to the province', () => {
    expect(regionPath('370811', names)).toEqual([
      { code: '370000', name: '山东省' }, { code: '370800', name: '济宁市' }, { code: '370811', name: '任城区' }])
    expect(regionPath('370800', names).map((p) => p.name)).toEqual(['山东省', '济宁市'])
    expect(regionPath('370000', names)).toEqual([{ code: '370000', name: '山东省' }])
  })
})

describe('the regions chart', () => {
  it('draws the regions with a figure or a target, the largest first', () => {
    const section = { by_region: [
      { code: 'a', actual: 0, target: null }, { code: 'b', actual: 2, target: null },
      { code: 'c', actual: 0, target: 5 }, { code: 'd', actual: 7, target: null }] }
    expect(chartRegions(section).map((r) => r.code)).toEqual(['d', 'b', 'c'])
    expect(chartRegions({ by_region: [{ code: 'a', actual: 0, target: null }] })).toEqual([])
  })
})

describe('target values typed in', () => {
  it('reads counts and 元 strictly', () => {
    expect(parseTargetValue('1,000', false)).toBe(1000)
    expect(parseTargetValue('12.5', false)).toBeNull()
    expect(parseTargetValue('-3', false)).toBeNull()
    expect(parseTargetValue('', false)).toBeNull()
    expect(parseTargetValue('15000000000', true)).toBe(1_500_000_000_000) // 150亿元
    expect(parseTargetValue('¥12.5', true)).toBe(1250)
    expect(parseTargetValue('1.234', true)).toBeNull()
    expect(parseTargetValue('12亿', true)).toBeNull()
  })

  it('shows a stored value back in its field', () => {
    expect(targetInput(1_500_000_000_000, true)).toBe('15000000000')
    expect(targetInput(1250, true)).toBe('12.50')
    expect(targetInput(100, false)).toBe('100')
    expect(targetInput(null, true)).toBe('')
    expect(MONEY_MEASURES.has('guaranteed_loans')).toBe(true)
  })
})

describe('lib/api/programme.js', () => {
  const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
  let fetchMock
  beforeEach(async () => {
    await closeCacheDB()
    globalThis.indexedDB = new IDBFactory()
    startSession({ access_token: 'a', refresh_token: 'r', user: { id: 1, name: '刘管理', roles: ['admin'] } })
    fetchMock = vi.fn(async () => json({ id: 3 }))
    vi.stubGlobal('fetch', fetchMock)
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    endSession()
  })

  it('names each operation by its URL, method and body', async () => {
    expect(programme.dashboardXlsxUrl({ year: 2026, region: '370800' })).toBe('/api/admin/dashboard.xlsx?year=2026&region=370800')
    expect(programme.targetsUrl({ year: 2026, region: '' }, 1, 100)).toBe('/api/admin/targets?year=2026&page=1&page_size=100')
    await programme.createTarget({ year: 2026, value: 5 })
    await programme.updateTarget(3, { value: 6 })
    await programme.deleteTarget(3)
    const calls = fetchMock.mock.calls.map(([url, init]) => [url, init.method, init.body && JSON.parse(init.body)])
    expect(calls).toEqual([
      ['/api/admin/targets', 'POST', { year: 2026, value: 5 }],
      ['/api/admin/targets/3', 'PATCH', { value: 6 }],
      ['/api/admin/targets/3', 'DELETE', undefined],
    ])
  })

  it('reads the dashboard cache first', async () => {
    fetchMock.mockResolvedValue(json({ sections: [] }))
    const seen = []
    await programme.readDashboard({ year: 2026, region: '370800' }, (body) => seen.push(body))
    expect(fetchMock.mock.calls[0][0]).toBe('/api/admin/dashboard?year=2026&region=370800')
    expect(seen).toEqual([{ sections: [] }])
  })
})
