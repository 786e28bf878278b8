// The event form: between EventOut (ISO times, audience) and what an organiser types (Beijing
// wall-clock times in datetime-local inputs), and the checks made before sending. The server has
// the last word; its messages land under the field they name.
import { fromLocalInput, serverFieldErrors, shiftLocalInput, toLocalInput } from '../../lib/form.js'

/** What a published event still takes (backend EDITABLE_AFTER_PUBLISH). */
export const EDITABLE_WHEN_PUBLISHED = ['title', 'description', 'cover_id', 'ends_at', 'signup_closes_at', 'capacity', 'waitlist']

const TIMES = ['starts_at', 'ends_at', 'signup_opens_at', 'signup_closes_at']

function atHour(daysAhead, hour) {
  const date = new Date(Date.now() + daysAhead * 86400_000)
  return `${toLocalInput(date.toISOString()).slice(0, 10)}T${String(hour).padStart(2, '0')}:00`
}

export function emptyForm() {
  return {
    place_id: '', title: '', kind: 'salon', description: '', cover_id: null,
    starts_at: atHour(7, 14), ends_at: atHour(7, 16),
    signup_opens_at: toLocalInput(new Date().toISOString()), signup_closes_at: atHour(7, 12),
    capacity: '30', waitlist: true, approval_required: false, subject_types: [], districts: [],
  }
}

/** The upload id behind an event's cover URL ('…/events/4/cover/card?v=17' → 17). */
export function coverIdOf(event) {
  const match = /[?&]v=(\d+)/.exec(event?.cover_card || '')
  return match ? Number(match[1]) : null
}

export function toForm(event) {
  return {
    place_id: event.place.id, title: event.title, kind: event.kind, description: event.description || '',
    cover_id: coverIdOf(event),
    starts_at: toLocalInput(event.starts_at), ends_at: toLocalInput(event.ends_at),
    signup_opens_at: toLocalInput(event.signup_opens_at), signup_closes_at: toLocalInput(event.signup_closes_at),
    capacity: String(event.capacity), waitlist: event.waitlist, approval_required: event.approval_required,
    subject_types: [...(event.audience?.subject_types || [])], districts: [...(event.audience?.districts || [])],
  }
}

/** Check the form → {errors: {field: 中文}, payload}; only the fields in `only` when given. */
export function buildPayload(form, { only = null } = {}) {
  const e = {}
  const p = {}
  const want = (field) => !only || only.includes(field)
  if (want('place_id')) {
    if (!form.place_id) e.place_id = '请选择举办场所'
    p.place_id = Number(form.place_id)
  }
  if (want('title')) {
    p.title = form.title.trim()
    if (p.title.length < 2 || p.title.length > 64) e.title = '请输入 2 到 64 个字的活动标题'
  }
  if (want('kind')) {
    if (!form.kind) e.kind = '请选择活动类型'
    p.kind = form.kind
  }
  if (want('description')) {
    p.description = form.description.trim()
    if (p.description.length > 5000) e.description = '介绍不能超过 5000 字'
  }
  if (want('cover_id')) p.cover_id = form.cover_id || null
  const labels = { starts_at: '开始时间', ends_at: '结束时间', signup_opens_at: '报名开始时间', signup_closes_at: '报名截止时间' }
  for (const field of TIMES) {
    if (!want(field)) continue
    p[field] = fromLocalInput(form[field])
    if (!p[field]) e[field] = `请选择${labels[field]}`
  }
  // The order the server checks, on what this form holds (a published event keeps its start).
  const at = (field) => Date.parse(fromLocalInput(form[field]) || '')
  if (!e.ends_at && want('ends_at') && at('ends_at') <= at('starts_at')) e.ends_at = '结束时间应晚于开始时间'
  if (!e.signup_closes_at && want('signup_closes_at')) {
    if (at('signup_closes_at') <= at('signup_opens_at')) e.signup_closes_at = '报名截止时间应晚于报名开始时间'
    else if (at('signup_closes_at') > at('ends_at')) e.signup_closes_at = '报名截止时间不能晚于活动结束时间'
  }
  if (want('capacity')) {
    const text = String(form.capacity ?? '').trim()
    p.capacity = /^\d{1,6}$/.test(text) ? Number(text) : NaN
    if (!(p.capacity >= 1 && p.capacity <= 100000)) e.capacity = '名额应为 1 到 100000 之间的整数'
  }
  if (want('waitlist')) p.waitlist = Boolean(form.waitlist)
  if (want('approval_required')) p.approval_required = Boolean(form.approval_required)
  if (want('audience')) p.audience = { subject_types: [...form.subject_types], districts: [...form.districts] }
  return { errors: e, payload: p }
}

/** A 422 / 409 answer → {field: message}: schema errors by field, or a DomainError's details.field. */
export function serverErrors(error) {
  const details = error?.details || {}
  if (typeof details.field === 'string') return { [details.field]: error.message }
  if (Array.isArray(details.fields)) return Object.fromEntries(details.fields.map((f) => [f, error.message]))
  const out = serverFieldErrors(details)
  if (out.audience && typeof out.audience === 'string') out.subject_types = out.audience
  return out
}

/** The fields in the order the page shows them: the first one in error is scrolled to and focused. */
export const FIELD_ORDER = ['place_id', 'title', 'kind', 'description', 'cover_id', ...TIMES, 'capacity', 'subject_types']

/** What follows the start when the organiser moves it: the end and the sign-up deadline keep their distance from it. */
export const FOLLOW_START = ['ends_at', 'signup_closes_at']

/**
 * Moving the start from form.starts_at to `after`: the changes to make to the form. The end and the sign-up
 * deadline move with it while the organiser has not set them by hand (`typed`: the fields they edited).
 */
export function moveStart(form, after, typed = new Set()) {
  const changes = { starts_at: after }
  for (const field of FOLLOW_START) {
    if (!typed.has(field)) changes[field] = shiftLocalInput(form[field], form.starts_at, after)
  }
  return changes
}
