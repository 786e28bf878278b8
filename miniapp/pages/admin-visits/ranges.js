// 到访统计's dates, all Beijing days as 'YYYY-MM-DD': the quick ranges (本月 by default), checking a
// range the person typed, and the columns of the by-period table. Pure, unit-tested.
import { beijingDay } from '../../lib/format.js'

const DAY = /^\d{4}-\d{2}-\d{2}$/
export const MAX_EXPORT_DAYS = 366 // the server refuses a longer export
export const MAX_FIGURE_DAYS = 366 * 3

function toUtc(day) {
  const [y, m, d] = day.split('-').map(Number)
  return Date.UTC(y, m - 1, d)
}

function fromUtc(ms) {
  return new Date(ms).toISOString().slice(0, 10)
}

export function addDays(day, n) {
  return fromUtc(toUtc(day) + n * 86400000)
}

export function daysBetween(from, to) {
  return Math.round((toUtc(to) - toUtc(from)) / 86400000)
}

export function isDay(value) {
  if (typeof value !== 'string' || !DAY.test(value)) return false
  return fromUtc(toUtc(value)) === value
}

/** {key, label, from, to} for each quick range, relative to `now` in Beijing. */
export function quickRanges(now = new Date()) {
  const today = beijingDay(now)
  const y = Number(today.slice(0, 4))
  const monthStart = `${today.slice(0, 7)}-01`
  const lastMonthEnd = addDays(monthStart, -1)
  return [
    { key: 'month', label: '本月', from: monthStart, to: today },
    { key: 'last-month', label: '上月', from: `${lastMonthEnd.slice(0, 7)}-01`, to: lastMonthEnd },
    { key: '30d', label: '近30天', from: addDays(today, -29), to: today },
    { key: 'year', label: `${y}年`, from: `${y}-01-01`, to: today },
  ]
}

export function defaultRange(now = new Date()) {
  const { from, to } = quickRanges(now)[0]
  return { from, to }
}

/** '' when the range is usable, else what is wrong, in Chinese. */
export function rangeProblem(from, to) {
  if (!isDay(from) || !isDay(to)) return '请选择开始和结束日期'
  if (to < from) return '结束日期不能早于开始日期'
  if (daysBetween(from, to) > MAX_FIGURE_DAYS) return '时间范围不能超过三年'
  return ''
}

/** The by-period table's columns: every month / day in the range (days only up to 62 of them),
 * else just the periods that have visits. */
export function periodColumns(from, to, bucket, periods = []) {
  if (!isDay(from) || !isDay(to) || to < from) return periods
  const out = []
  if (bucket === 'month') {
    let [y, m] = from.split('-').map(Number)
    const [ty, tm] = to.split('-').map(Number)
    while (y < ty || (y === ty && m <= tm)) {
      out.push(`${y}-${String(m).padStart(2, '0')}`)
      m += 1
      if (m > 12) {
        m = 1
        y += 1
      }
    }
    return out
  }
  if (daysBetween(from, to) >= 62) return periods
  for (let day = from; day <= to; day = addDays(day, 1)) out.push(day)
  return out
}

/** A column heading: '2025-11' → '11月' (or '2024年11月' when the range spans years), '2025-11-22' → '11/22'. */
export function periodLabel(period, { spansYears = false } = {}) {
  const [y, m, d] = period.split('-').map(Number)
  if (d) return `${m}/${d}`
  return spansYears ? `${y}年${m}月` : `${m}月`
}
