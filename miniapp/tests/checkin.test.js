import { describe, expect, it } from 'vitest'
import { b64url, toText, toUrl } from '../lib/codes-format.js'
import { newNonce } from '../lib/nonce.js'
import { beijingDay } from '../lib/format.js'
import { PURPOSES, checkinError, isPurpose, placeIdOf, purposeLabel } from '../pages/checkin/checkin-text.js'
import { posterCodeFrom, rememberAfterLogin, takeAfterLogin } from '../pages/checkin/poster-link.js'
import { groupByDay, dayLabel, visitTime } from '../pages/my-visits/visit-days.js'
import { addDays, defaultRange, isDay, periodColumns, periodLabel, quickRanges, rangeProblem } from '../pages/admin-visits/ranges.js'
import { noteProblem, reasonText } from '../pages/admin-checkin-review/reasons.js'

// A place payload as the server signs it: version 1, type place (1), no window, kid 1, place id,
// then 64 signature bytes (not checked on the phone).
function placePayload(placeId, type = 1) {
  const body = [1, type, 0, 1, placeId]
  return Uint8Array.from([...body, ...new Array(64).fill(7)])
}

describe('purposes', () => {
  it('lists the five the server knows, with labels', () => {
    expect(PURPOSES.map((p) => p.value)).toEqual(['policy', 'guidance', 'loan', 'event', 'other'])
    expect(purposeLabel('loan')).toBe('贷款咨询')
    expect(isPurpose('loan')).toBe(true)
    expect(isPurpose('shopping')).toBe(false)
  })
})

describe('placeIdOf', () => {
  it('reads the place id from the poster URL and the text form', () => {
    expect(placeIdOf(toUrl('http://127.0.0.1:5000', placePayload(3)))).toBe(3)
    expect(placeIdOf(toText(placePayload(5)))).toBe(5)
  })

  it('refuses other codes and garbage with the stable reason', () => {
    expect(() => placeIdOf(toText(placePayload(3, 2)))).toThrow(expect.objectContaining({ code: 'malformed' })) // ticket fields differ
    expect(() => placeIdOf('https://example.com/hello')).toThrow(expect.objectContaining({ code: 'malformed' }))
    expect(() => placeIdOf('CY:????')).toThrow(expect.objectContaining({ code: 'malformed' }))
  })

  it('calls a code of another type wrong_type', () => {
    const setup = Uint8Array.from([1, 5, 0, 1, 9, ...new Array(16).fill(1), ...new Array(64).fill(7)])
    expect(() => placeIdOf(toText(setup))).toThrow(expect.objectContaining({ code: 'wrong_type' }))
  })
})

describe('checkinError', () => {
  it('turns refusal codes into Chinese a person can act on', () => {
    expect(checkinError({ code: 'bad_signature' }).title).toBe('签到码无效')
    expect(checkinError({ code: 'wrong_type' }).title).toBe('这不是场所签到码')
    expect(checkinError({ code: 'place_inactive' }).title).toBe('该场所已停用')
    expect(checkinError({ code: 'forbidden', status: 403 }).title).toBe('当前账号不能签到')
    expect(checkinError({ code: 'whatever', message: '服务器说的话' })).toEqual({ title: '签到失败', desc: '服务器说的话' })
  })
})

describe('poster path', () => {
  const payload = b64url(placePayload(3))

  it('gives the full poster URL for /c/<code> only', () => {
    expect(posterCodeFrom({ origin: 'https://cy.example.cn', pathname: `/c/${payload}` })).toBe(`https://cy.example.cn/c/${payload}`)
    expect(posterCodeFrom({ origin: 'https://cy.example.cn', pathname: `/c/${payload}/` })).toBe(`https://cy.example.cn/c/${payload}`)
    expect(posterCodeFrom({ origin: 'https://cy.example.cn', pathname: '/' })).toBeNull()
    expect(posterCodeFrom({ origin: 'https://cy.example.cn', pathname: '/c/' })).toBeNull()
    expect(posterCodeFrom({ origin: 'https://cy.example.cn', pathname: '/api/c/abc' })).toBeNull()
  })

  it('remembers a check-in across the login once, and forgets an old one', () => {
    const store = new Map()
    globalThis.window ??= {}
    window.sessionStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) }
    rememberAfterLogin({ code: 'X'.repeat(20), purpose: 'loan' })
    expect(takeAfterLogin()).toEqual({ code: 'X'.repeat(20), purpose: 'loan' })
    expect(takeAfterLogin()).toBeNull()
    rememberAfterLogin({ code: 'Y'.repeat(20) })
    expect(takeAfterLogin(Date.now() + 31 * 60 * 1000)).toBeNull()
    delete window.sessionStorage
  })
})

describe('nonce and days', () => {
  it('makes nonces the server accepts', () => {
    const a = newNonce()
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(newNonce()).not.toBe(a)
  })

  it('counts days in Beijing', () => {
    expect(beijingDay(new Date('2025-11-21T16:30:00Z'))).toBe('2025-11-22') // 00:30 in Beijing
    expect(visitTime('2025-11-21T16:30:00Z')).toBe('00:30')
  })

  it('groups my visits by day with friendly headings', () => {
    const now = new Date('2025-11-22T04:00:00Z')
    expect(dayLabel('2025-11-22', now)).toBe('今天')
    expect(dayLabel('2025-11-21', now)).toBe('昨天')
    expect(dayLabel('2025-11-15', now)).toBe('11月15日 周六')
    expect(dayLabel('2024-12-31', now)).toBe('2024年12月31日 周二')
    const groups = groupByDay([{ id: 3, day: '2025-11-22' }, { id: 2, day: '2025-11-22' }, { id: 1, day: '2025-11-20' }], now)
    expect(groups.map((g) => [g.label, g.visits.map((v) => v.id)])).toEqual([['今天', [3, 2]], ['11月20日 周四', [1]]])
  })
})

describe('到访统计 ranges', () => {
  const now = new Date('2025-03-10T02:00:00Z')

  it('defaults to this month and offers quick ranges', () => {
    expect(defaultRange(now)).toEqual({ from: '2025-03-01', to: '2025-03-10' })
    const byKey = Object.fromEntries(quickRanges(now).map((r) => [r.key, [r.from, r.to]]))
    expect(byKey['last-month']).toEqual(['2025-02-01', '2025-02-28'])
    expect(byKey['30d']).toEqual(['2025-02-09', '2025-03-10'])
    expect(byKey.year).toEqual(['2025-01-01', '2025-03-10'])
    expect(quickRanges(new Date('2025-01-05T02:00:00Z'))[1]).toMatchObject({ from: '2024-12-01', to: '2024-12-31' })
  })

  it('checks a typed range', () => {
    expect(isDay('2025-02-29')).toBe(false)
    expect(isDay('2024-02-29')).toBe(true)
    expect(rangeProblem('2025-03-01', '2025-03-10')).toBe('')
    expect(rangeProblem('2025-03-10', '2025-03-01')).toBe('结束日期不能早于开始日期')
    expect(rangeProblem('', '2025-03-01')).toBe('请选择开始和结束日期')
    expect(rangeProblem('2020-01-01', '2025-03-01')).toBe('时间范围不能超过三年')
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01')
  })

  it('lays out every month or day of the range as a column', () => {
    expect(periodColumns('2024-11-15', '2025-02-03', 'month')).toEqual(['2024-11', '2024-12', '2025-01', '2025-02'])
    expect(periodColumns('2025-03-01', '2025-03-03', 'day')).toEqual(['2025-03-01', '2025-03-02', '2025-03-03'])
    expect(periodColumns('2025-01-01', '2025-12-31', 'day', ['2025-05-01'])).toEqual(['2025-05-01'])
    expect(periodLabel('2025-03')).toBe('3月')
    expect(periodLabel('2024-12', { spansYears: true })).toBe('2024年12月')
    expect(periodLabel('2025-03-09')).toBe('3/9')
  })
})

describe('签到核查', () => {
  it('says what went wrong in Chinese', () => {
    expect(reasonText({ reason: 'bad_signature', reason_label: '签名无效，二维码可能被伪造或篡改' })).toBe('签名无效，二维码可能被伪造或篡改')
    expect(reasonText({ reason: 'expired', reason_label: '二维码已过期（扫码时间晚于有效期）' })).toContain('过期')
    expect(reasonText({ reason: null, conflict: true })).toContain('两台设备')
    expect(reasonText({ reason: 'new_thing' })).toBe('其他原因（new_thing）')
  })

  it('asks for a note of 2 to 200 characters', () => {
    expect(noteProblem(' ')).toMatch(/至少 2 个字/)
    expect(noteProblem('已核实')).toBe('')
    expect(noteProblem('字'.repeat(201))).toMatch(/200/)
  })
})
