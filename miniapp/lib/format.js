// Showing things to people: times in Asia/Shanghai whatever the phone's zone, distances, masks.

const TZ = 'Asia/Shanghai'

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})

function parts(iso) {
  const date = iso instanceof Date ? iso : new Date(iso)
  if (Number.isNaN(date.getTime())) return null
  return Object.fromEntries(dateTime.formatToParts(date).map((p) => [p.type, p.value]))
}

/** '2025-11-22 10:30' in Beijing time. */
export function formatDateTime(iso) {
  const p = parts(iso)
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : ''
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
