// What the programme dashboard shows of a section: the numbers in words (money is fen → 元, counts
// with their unit), how far along it is against the year's target and the 序时进度, and the series
// its charts draw. Pure functions: the page and the tests share them.
import { formatYuan } from './money.js'

export const MONTHS = Array.from({ length: 12 }, (_, i) => `${i + 1}月`)

/** A section's value as people read it: 75000 (fen, money) → '¥750.00'; 12 → '12'; null → '—'. */
export function valueText(section, value) {
  if (value == null) return '—'
  return section.money ? formatYuan(value) : Number(value).toLocaleString('en-US')
}

/** The value as a chart plots it: 元 for money, the count otherwise. */
export function plotted(section, value) {
  if (value == null) return null
  return section.money ? Math.round(value) / 100 : value
}

/** 0.4986 → '49.9%'; null → '—'. */
export function percentText(ratio) {
  return ratio == null ? '—' : `${(ratio * 100).toFixed(1)}%`
}

/** The WeUI tag tone of a status. */
export function statusTone(status) {
  return { done: 'tag_green', ahead: 'tag_blue', behind: 'tag_red' }[status] || ''
}

/** How far the actual is toward the target, and where the 序时进度 marker stands (0..100, capped). */
export function progress(section, shareElapsed) {
  if (!section.target) return null
  const clamp = (x) => Math.max(0, Math.min(100, x))
  return { done: clamp((section.actual / section.target) * 100), expected: clamp(shareElapsed * 100) }
}

/**
 * The monthly trend: each month's figure and, for a flow (events, visits, money), the running total
 * beside the target's straight line to the year's end; a stock (stations, providers) is its own
 * running total. Months not begun have nulls.
 */
export function trend(section, monthsElapsed) {
  const monthly = section.by_month.map((v, i) => (i < monthsElapsed ? plotted(section, v ?? 0) : null))
  let running = 0
  const cumulative = section.stock
    ? monthly
    : monthly.map((v) => {
      if (v == null) return null
      running += v
      return Math.round(running * 100) / 100
    })
  const target = section.target == null ? null : plotted(section, section.target)
  const line = target == null ? null : MONTHS.map((_, i) => Math.round(((target * (i + 1)) / 12) * 100) / 100)
  return { monthly, cumulative, line }
}

/** The drill-down path to a region: 山东省 › 济宁市 › 任城区 ([{code, name}]), from the region names. */
export function regionPath(code, names) {
  const name = (c) => names[c] || c
  const province = '370000'
  if (!code || code === province) return [{ code: province, name: name(province) }]
  const city = `${code.slice(0, 4)}00`
  const path = [{ code: province, name: name(province) }, { code: city, name: name(city) }]
  if (city !== code) path.push({ code, name: name(code) })
  return path
}

/**
 * What someone typed as a target → the API's value: a count ('1,000' → 1000), or for money 元 with at
 * most 2 decimals → fen ('12亿' is not accepted: '1200000000' → 120000000000). null when it is not one.
 */
export function parseTargetValue(text, money) {
  const clean = String(text ?? '').trim().replace(/[,，\s]/g, '').replace(/^[¥￥]/, '')
  if (money) {
    const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(clean)
    return match ? Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0')) : null
  }
  return /^\d{1,15}$/.test(clean) ? Number(clean) : null
}

/** A target's value in its edit field: fen → 元 text for money, the count otherwise. */
export function targetInput(value, money) {
  if (value == null) return ''
  if (!money) return String(value)
  const yuan = Math.floor(value / 100)
  const cents = value % 100
  return cents ? `${yuan}.${String(cents).padStart(2, '0')}` : String(yuan)
}

/** The measures counted in money (fen), as backend/programme/enums.py MONEY. */
export const MONEY_MEASURES = new Set(['vouchers_redeemed', 'guaranteed_loans'])

/** The regions worth a bar: those with a figure or a target of their own, the largest first (at most 15). */
export function chartRegions(section) {
  return section.by_region
    .filter((r) => r.actual || r.target != null)
    .sort((a, b) => b.actual - a.actual)
    .slice(0, 15)
}
