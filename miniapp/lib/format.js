// Showing things to people: times in Asia/Shanghai whatever the phone's zone, distances, masks.
// Every page reads Beijing time through this file (one formatter, one time zone).

const TZ = 'Asia/Shanghai'
const WEEKDAYS = '日一二三四五六'

const dateTime = new Intl.DateTimeFormat('en-US', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})

const pad = (n) => String(n).padStart(2, '0')

function toDate(iso) {
  if (iso == null || iso === '') return null
  const date = iso instanceof Date ? iso : new Date(iso)
  return Number.isNaN(date.getTime()) ? null : date
}

/**
 * The Beijing wall clock of an instant as numbers: {year, month, day, hour, minute, weekday}
 * (weekday 0 = Sunday); null for a missing or bad date.
 */
export function beijingParts(iso) {
  const date = toDate(iso)
  if (!date) return null
  const p = Object.fromEntries(dateTime.formatToParts(date).map((x) => [x.type, x.value]))
  const year = Number(p.year)
  const month = Number(p.month)
  const day = Number(p.day)
  return { year, month, day, hour: Number(p.hour) % 24, minute: Number(p.minute), weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() }
}

/**
 * The greeting for the hour in Beijing (not the phone's zone): 早上好 5–9, 上午好 9–11, 中午好 11–13,
 * 下午好 13–18, 晚上好 18–5. `now` is injectable for tests.
 */
export function greetingAt(now = new Date()) {
  const p = beijingParts(now)
  const hour = p ? p.hour : 12
  if (hour >= 5 && hour < 9) return '早上好'
  if (hour >= 9 && hour < 11) return '上午好'
  if (hour >= 11 && hour < 13) return '中午好'
  if (hour >= 13 && hour < 18) return '下午好'
  return '晚上好'
}

function parts(iso) {
  const p = beijingParts(iso)
  return p && { year: String(p.year), month: pad(p.month), day: pad(p.day), hour: pad(p.hour), minute: pad(p.minute) }
}

/** '2025-11-22 10:30' in Beijing time. */
export function formatDateTime(iso) {
  const p = parts(iso)
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : ''
}

/** '2025-11-22' in Beijing time. */
export function formatDate(iso) {
  return formatDateTime(iso).slice(0, 10)
}

/** '14:02' in Beijing time. */
export function formatClock(iso) {
  const p = parts(iso)
  return p ? `${p.hour}:${p.minute}` : ''
}

/** '周六' for an instant, by its Beijing day. */
export function formatWeekday(iso) {
  const p = beijingParts(iso)
  return p ? `周${WEEKDAYS[p.weekday]}` : ''
}

/** '11月22日 10:30', or '今天 10:30' when it is today in Beijing. */
export function formatShort(iso, now = new Date()) {
  const p = parts(iso)
  const today = parts(now)
  if (!p) return ''
  if (today && p.year === today.year && p.month === today.month && p.day === today.day) {
    return `今天 ${p.hour}:${p.minute}`
  }
  return `${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}`
}

/** '2025-11-22': the day in Beijing (a check-in counts once per place and Beijing day). */
export function beijingDay(date = new Date()) {
  return formatDate(date)
}

/** '2025-11': the month in Beijing. */
export function beijingMonth(date = new Date()) {
  return formatDate(date).slice(0, 7)
}

/** '2026-11-22 14:00 – 16:00', or both dates when it spans days (Beijing time). */
export function timeRange(startsAt, endsAt) {
  const start = formatDateTime(startsAt)
  const end = formatDateTime(endsAt)
  if (!start) return ''
  return start.slice(0, 10) === end.slice(0, 10) ? `${start} – ${end.slice(11)}` : `${start} – ${end}`
}

/** ISO instant → '2026-12-01T08:00' as a Beijing wall clock (for <input type="datetime-local">). */
export function toLocalInput(iso) {
  const text = formatDateTime(iso)
  return text ? text.replace(' ', 'T') : ''
}

/** '2026-12-01T08:00' (Beijing) → '2026-12-01T08:00:00+08:00'; '' or malformed → null. */
export function fromLocalInput(text) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?$/.exec(String(text || ''))
  return match ? `${match[1]}T${match[2]}:${match[3] || '00'}+08:00` : null
}

/** 40 → '100米内', 846 → '850米', 12345 → '12公里'. The position sent is rounded to ~100 m. */
export function formatDistance(meters) {
  if (meters == null) return ''
  if (meters < 100) return '100米内'
  if (meters < 1000) return `${Math.round(meters / 10) * 10}米`
  return `${(meters / 1000).toFixed(meters < 10_000 ? 1 : 0)}公里`
}

/** 张三 → 张*, 欧阳娜娜 → 欧***: as the server masks names for staff (backend/core/validators.py). */
export function maskName(name) {
  if (!name) return name || ''
  const chars = [...name]
  return chars[0] + '*'.repeat(chars.length - 1)
}
