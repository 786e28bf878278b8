// Events: the public list and detail, my registrations (kept in the cache under the URL the ticket
// page reads, so 电子票 opens offline once seen or prefetched), and the organiser's desk.
import { cachedGet } from '../api.js'
import { writeCached } from '../cache.js'
import { currentUserId } from '../session.js'
import { get, paged, patch, post, withQuery } from './query.js'

/** filters: {when, kind, district, q}. */
export const eventsUrl = (filters, page, size) => withQuery('/api/events', { ...filters, ...paged(page, size) })
export const readEvent = (id, onData, options) => cachedGet(`/api/events/${id}`, onData, options)

export const registrationUrl = (id) => `/api/me/registrations/${id}`
export const readRegistration = (id, onData, options) => cachedGet(registrationUrl(id), onData, options)
/** when: 'upcoming' | 'past'. */
export const myRegistrationsUrl = (when, page, size) => withQuery('/api/me/registrations', { when, ...paged(page, size) })

/** Store a RegistrationDetailOut as if it had just been read (best effort). */
export async function rememberRegistration(detail) {
  if (!detail?.id) return
  try {
    await writeCached(currentUserId(), registrationUrl(detail.id), { data: detail })
  } catch {
    /* no IndexedDB here: the ticket page will need the network once */
  }
}

/** Sign up; resolves the registration detail (new or the one I already had). */
export async function signUp(eventId) {
  const detail = await post(`/api/events/${eventId}/registrations`)
  await rememberRegistration(detail)
  return detail
}

export async function cancelRegistration(id) {
  const detail = await post(`${registrationUrl(id)}/cancel`)
  await rememberRegistration(detail)
  return detail
}

const LIVE = ['registered', 'pending', 'waitlisted']

/**
 * Fetch and keep the details (tickets) of live upcoming registrations, one after another, so each
 * ticket opens offline later. Failures are ignored: this is a background courtesy.
 */
export async function prefetchTickets(registrations, { limit = 20 } = {}) {
  const live = registrations.filter((r) => LIVE.includes(r.state) && r.event?.state !== 'cancelled' && !r.checked_in_at).slice(0, limit)
  for (const r of live) {
    try {
      await readRegistration(r.id, () => {})
    } catch {
      /* next one */
    }
  }
  return live.length
}

// The organiser's events.
const MINE = '/api/organiser/events'

/** filters: {state}. */
export const organiserEventsUrl = (filters, page, size) => withQuery(MINE, { ...filters, ...paged(page, size) })
export const getOrganiserEvent = (id) => get(`${MINE}/${id}`)
export const createEvent = (event) => post(MINE, event)
export const updateEvent = (id, changes) => patch(`${MINE}/${id}`, changes)
export const publishEvent = (id) => post(`${MINE}/${id}/publish`)
/** Resolves {event, told}: the cancelled event and how many people were told. */
export const cancelEvent = (id, reason) => post(`${MINE}/${id}/cancel`, { reason })
export const getEventCounts = (id) => get(`${MINE}/${id}/counts`)

/** filter: '' (all), a registration state, or 'checked_in'. */
export function attendeesUrl(eventId, filter, page, size) {
  const which = filter === 'checked_in' ? { checked_in: 'true' } : { state: filter }
  return withQuery(`${MINE}/${eventId}/registrations`, { ...paged(page, size), ...which })
}
export const approveRegistration = (eventId, id) => post(`${MINE}/${eventId}/registrations/${id}/approve`)
export const rejectRegistration = (eventId, id, reason) => post(`${MINE}/${eventId}/registrations/${id}/reject`, { reason })

export const eventScansUrl = (eventId, page, size) => withQuery(`${MINE}/${eventId}/scans`, paged(page, size))
export const attendanceExportUrl = (eventId, format) => withQuery(`${MINE}/${eventId}/export`, { format })

/** The organiser's yearly figures: {year, group}. */
export const organiserFiguresUrl = (filters) => withQuery('/api/organiser/figures', filters)
