// lib/format.js: Beijing time for every page, whatever the phone's time zone.
import { describe, expect, it } from 'vitest'
import {
  beijingDay, beijingMonth, beijingParts, formatClock, formatDate, formatDateTime, formatShort, formatWeekday, timeRange, greetingAt,
} from '../lib/format.js'

describe('Beijing time', () => {
  it('reads an instant as a Beijing wall clock', () => {
    expect(beijingParts('2026-12-31T16:05:00Z')).toEqual({ year: 2027, month: 1, day: 1, hour: 0, minute: 5, weekday: 5 })
    expect(beijingParts('2026-12-04T15:59:00Z')).toMatchObject({ day: 4, hour: 23, minute: 59 })
    expect(beijingParts('nope')).toBeNull()
    expect(beijingParts(null)).toBeNull()
  })

  it('formats dates, clocks and days', () => {
    expect(formatDateTime('2026-12-31T16:05:00Z')).toBe('2027-01-01 00:05')
    expect(formatDate('2026-12-31T16:05:00Z')).toBe('2027-01-01')
    expect(formatClock('2026-12-04T06:02:00Z')).toBe('14:02')
    expect(formatWeekday('2026-12-05T02:00:00Z')).toBe('周六')
    expect(formatDateTime('')).toBe('')
    expect(beijingDay(new Date('2026-12-04T16:30:00Z'))).toBe('2026-12-05')
    expect(beijingMonth(new Date('2026-11-30T16:30:00Z'))).toBe('2026-12')
  })

  it('says 今天 for today in Beijing', () => {
    const now = new Date('2026-12-04T10:00:00Z')
    expect(formatShort('2026-12-04T01:30:00Z', now)).toBe('今天 09:30')
    expect(formatShort('2026-12-03T15:59:00Z', now)).toBe('12月3日 23:59')
  })

  it('writes a time range with the date once when it is one day', () => {
    expect(timeRange('2026-11-22T06:00:00Z', '2026-11-22T08:00:00Z')).toBe('2026-11-22 14:00 – 16:00')
    expect(timeRange('2026-11-22T06:00:00Z', '2026-11-23T08:00:00Z')).toBe('2026-11-22 14:00 – 2026-11-23 16:00')
    expect(timeRange('', '')).toBe('')
  })
})

describe('greetingAt: the hour in Beijing, whatever the phone\'s zone', () => {
  const at = (utc) => greetingAt(new Date(utc))
  it('greets by the Beijing hour', () => {
    expect(at('2026-12-03T21:30:00Z')).toBe('早上好') // 05:30 Beijing
    expect(at('2026-12-04T00:59:00Z')).toBe('早上好') // 08:59
    expect(at('2026-12-04T01:00:00Z')).toBe('上午好') // 09:00
    expect(at('2026-12-04T03:00:00Z')).toBe('中午好') // 11:00
    expect(at('2026-12-04T05:00:00Z')).toBe('下午好') // 13:00
    expect(at('2026-12-04T10:00:00Z')).toBe('晚上好') // 18:00
    expect(at('2026-12-04T17:00:00Z')).toBe('晚上好') // 01:00 the next day, not 早上好
    expect(at('2026-12-03T20:59:00Z')).toBe('晚上好') // 04:59
  })
})
