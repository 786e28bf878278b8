// Events in plain Chinese, shared by the entrepreneur's 活动 pages (list, detail, my events, ticket):
// times in Beijing time with the weekday, seats, the sign-up button, registration states, and the
// organiser's event states.
import { beijingParts, formatClock as formatClockOf } from './format.js'
const WEEKDAYS = '日一二三四五六'

/** A tone per kind, for tags and the cover placeholder. */
export const KIND_TONE = {
  salon: 'green',
  market: 'orange',
  lecture: 'blue',
  bootcamp: 'red',
  mentor_visit: 'green',
  roadshow: 'blue',
  policy_briefing: 'orange',
}

export const REG_STATE = {
  pending: { label: '待审核', tone: 'tag_orange' },
  registered: { label: '报名成功', tone: 'tag_green' },
  waitlisted: { label: '候补中', tone: 'tag_blue' },
  cancelled: { label: '已取消', tone: '' },
  rejected: { label: '未通过', tone: 'tag_red' },
}

/** {year, month, day, hour, minute, weekday} in Beijing time; null for a bad date. */
export const beijing = beijingParts

/** '14:00' */
export const formatClock = formatClockOf

/** '11月26日 周三'; the year is added when it is not this year. */
export function formatDay(iso, now = new Date()) {
  const p = beijing(iso)
  if (!p) return ''
  const year = p.year !== beijing(now)?.year ? `${p.year}年` : ''
  return `${year}${p.month}月${p.day}日 周${WEEKDAYS[p.weekday]}`
}

function sameDay(a, b) {
  return a && b && a.year === b.year && a.month === b.month && a.day === b.day
}

/** '11月26日 周三 14:00–16:00', or '… 14:00 至 11月27日 周四 16:00' over several days. */
export function formatEventTime(startsAt, endsAt, now = new Date()) {
  const start = beijing(startsAt)
  if (!start) return ''
  const head = `${formatDay(startsAt, now)} ${formatClock(startsAt)}`
  const end = beijing(endsAt)
  if (!end) return head
  if (sameDay(start, end)) return `${head}–${formatClock(endsAt)}`
  return `${head} 至 ${formatDay(endsAt, now)} ${formatClock(endsAt)}`
}

/** '14:05' when it is the same day as `day` (default: today), else '11月26日 14:05'. */
export function formatMoment(iso, day = new Date()) {
  const p = beijing(iso)
  if (!p) return ''
  if (sameDay(p, beijing(day))) return formatClock(iso)
  return `${p.month}月${p.day}日 ${formatClock(iso)}`
}

export function isPast(event, now = new Date()) {
  return Boolean(event?.ends_at) && new Date(event.ends_at).getTime() < now.getTime()
}

/** The seats line of an event: {text, tone}. tone is a tag class. */
export function seatsInfo(event, now = new Date()) {
  if (!event) return { text: '', tone: '' }
  if (event.state === 'cancelled') return { text: '活动已取消', tone: 'tag_red' }
  if (isPast(event, now)) return { text: `已结束 · ${event.seats_taken} 人报名`, tone: '' }
  if (event.seats_left > 0) {
    return { text: `剩余 ${event.seats_left} 个名额`, tone: event.seats_left <= Math.max(2, event.capacity / 10) ? 'tag_orange' : 'tag_green' }
  }
  return event.waitlist ? { text: '已满，可候补', tone: 'tag_blue' } : { text: '名额已满', tone: '' }
}

/** 0–100: how full the event is. */
export function seatsPercent(event) {
  if (!event?.capacity) return 0
  return Math.min(100, Math.round((100 * event.seats_taken) / event.capacity))
}

/** The words on the big button when the server says I may sign up. */
export function signUpLabel(event) {
  if (event?.approval_required) return '提交报名（需审核）'
  if (event && event.seats_left <= 0 && event.waitlist) return '候补报名'
  return '立即报名'
}

/** Who the event is for, from event.audience {subject_types, districts}. label(list, value) names a code. */
export function audienceText(audience, label = (_, v) => v) {
  const types = audience?.subject_types || []
  const districts = audience?.districts || []
  const parts = []
  if (types.length) parts.push(`限${types.map((t) => label('subject_types', t)).join('、')}`)
  if (districts.length) parts.push(`限${districts.map((d) => label('districts', d)).join('、')}的创业者`)
  return parts.length ? parts.join('；') : '所有创业者均可报名'
}

/** When sign-up runs: '即日起至 11月27日 周五 12:00', or both ends before it opens, or that it closed. */
export function signupWindowText(event, now = new Date()) {
  if (!event?.signup_closes_at) return ''
  const at = (iso) => `${formatDay(iso, now)} ${formatClock(iso)}`
  const opens = new Date(event.signup_opens_at).getTime()
  const closes = new Date(event.signup_closes_at).getTime()
  if (closes < now.getTime()) return `已于 ${at(event.signup_closes_at)} 截止`
  if (opens > now.getTime()) return `${at(event.signup_opens_at)} 开始，${at(event.signup_closes_at)} 截止`
  return `即日起至 ${at(event.signup_closes_at)}`
}

/** How one signs up, in a line: first come, approval, waitlist. */
export function signupRuleText(event) {
  const parts = [event?.approval_required ? '报名后需组织者审核' : '先到先得']
  parts.push(event?.waitlist ? '满员后可候补，有人取消时按顺序递补' : '满员即止')
  return parts.join('，')
}

/** The badge of my registration: checked in and missed are told apart once the event is over. */
export function registrationBadge(registration, now = new Date()) {
  if (!registration) return null
  if (registration.checked_in_at) return { label: '已签到', tone: 'tag_green' }
  const event = registration.event
  if (event?.state === 'cancelled' && registration.state !== 'cancelled') return { label: '活动取消', tone: 'tag_red' }
  if (registration.state === 'registered' && event && isPast(event, now)) return { label: '未签到', tone: '' }
  if (registration.state === 'waitlisted' && registration.waitlist_position) {
    return { label: `候补第 ${registration.waitlist_position} 位`, tone: 'tag_blue' }
  }
  return REG_STATE[registration.state] || { label: registration.state_label || registration.state, tone: '' }
}

/**
 * What the ticket page shows for a registration (detail with event and ticket):
 * event_cancelled | checked_in | ticket | ended | no_ticket | pending | waitlisted | cancelled | rejected.
 */
export function ticketView(registration, now = new Date()) {
  const event = registration?.event
  if (registration?.checked_in_at) return 'checked_in'
  if (event?.state === 'cancelled' && registration.state !== 'cancelled' && registration.state !== 'rejected') {
    return 'event_cancelled'
  }
  switch (registration?.state) {
    case 'registered':
      if (event && isPast(event, now)) return 'ended'
      return registration.ticket?.code ? 'ticket' : 'no_ticket'
    case 'pending':
    case 'waitlisted':
    case 'cancelled':
    case 'rejected':
      return registration.state
    default:
      return 'no_ticket'
  }
}

/** Whether I may still cancel (the server checks again: not checked in, not ended, still live). */
export function canCancel(registration, now = new Date()) {
  if (!registration || registration.checked_in_at) return false
  if (!['pending', 'registered', 'waitlisted'].includes(registration.state)) return false
  const event = registration.event
  if (event && (event.state === 'cancelled' || isPast(event, now))) return false
  return true
}

// The organiser's side: an event's states as tabs and tags, registration tags.
export const STATE_TABS = [
  { value: '', label: '全部' },
  { value: 'draft', label: '草稿' },
  { value: 'published', label: '已发布' },
  { value: 'cancelled', label: '已取消' },
]

export const STATE_TONE = { draft: '', published: 'tag_green', cancelled: 'tag_red' }

export const REGISTRATION_TONE = Object.fromEntries(Object.entries(REG_STATE).map(([state, { tone }]) => [state, tone]))
