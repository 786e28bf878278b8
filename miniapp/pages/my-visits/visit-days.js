// 我的到访记录 grouped by the visit's Beijing day ('YYYY-MM-DD' from the API): 今天, 昨天, 11月22日 周六,
// or 2024年11月22日 周五 in another year. Pure, unit-tested.
import { beijingDay, formatClock } from '../../lib/format.js'

const WEEKDAYS = '日一二三四五六'

/** ISO instant → '14:02' in Beijing. */
export const visitTime = formatClock

function shiftDay(day, days) {
  const [y, m, d] = day.split('-').map(Number)
  const date = new Date(Date.UTC(y, m - 1, d + days))
  return date.toISOString().slice(0, 10)
}

/** 'YYYY-MM-DD' → its heading, relative to `now`. */
export function dayLabel(day, now = new Date()) {
  const today = beijingDay(now)
  if (day === today) return '今天'
  if (day === shiftDay(today, -1)) return '昨天'
  const [y, m, d] = day.split('-').map(Number)
  if (!y || !m || !d) return day
  const weekday = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]
  const sameYear = String(y) === today.slice(0, 4)
  return `${sameYear ? '' : `${y}年`}${m}月${d}日 周${weekday}`
}

/** Visits (newest first) → [{day, label, visits}] in the same order. */
export function groupByDay(visits, now = new Date()) {
  const groups = []
  for (const visit of visits) {
    const last = groups[groups.length - 1]
    if (last && last.day === visit.day) last.visits.push(visit)
    else groups.push({ day: visit.day, label: dayLabel(visit.day, now), visits: [visit] })
  }
  return groups
}
