// What the organiser's event pages share: kinds, states and their tags, and how a time range reads.
import { formatDateTime } from '../../lib/format.js'

export const KINDS = [
  { value: 'salon', label: '创业沙龙' },
  { value: 'market', label: '创业集市' },
  { value: 'lecture', label: '创业讲堂' },
  { value: 'bootcamp', label: '训练营' },
  { value: 'mentor_visit', label: '导师基层行' },
  { value: 'roadshow', label: '路演' },
  { value: 'policy_briefing', label: '政策宣讲' },
]

export const STATE_TABS = [
  { value: '', label: '全部' },
  { value: 'draft', label: '草稿' },
  { value: 'published', label: '已发布' },
  { value: 'cancelled', label: '已取消' },
]

export const STATE_TONE = { draft: '', published: 'tag_green', cancelled: 'tag_red' }

export const REGISTRATION_TONE = { pending: 'tag_orange', registered: 'tag_green', waitlisted: 'tag_blue', cancelled: '', rejected: 'tag_red' }

/** '2026-11-22 14:00 – 16:00', or both dates when it spans days (Beijing time). */
export function timeRange(startsAt, endsAt) {
  const start = formatDateTime(startsAt)
  const end = formatDateTime(endsAt)
  if (!start) return ''
  return start.slice(0, 10) === end.slice(0, 10) ? `${start} – ${end.slice(11)}` : `${start} – ${end}`
}

/** Has the event ended (by the phone's clock)? */
export function isOver(event, now = Date.now()) {
  return Date.parse(event.ends_at) < now
}
