// My registrations on this phone: signing up and cancelling through the API, and keeping each
// registration's detail (with its signed ticket) in the local cache under the very URL the ticket
// page reads, so 电子票 opens with no network after it was seen once — or prefetched from 我的活动.
import { apiFetch, cachedGet } from '../../lib/api.js'
import { writeCached } from '../../lib/cache.js'
import { currentUserId } from '../../lib/session.js'

export const registrationUrl = (id) => `/api/me/registrations/${id}`

/** Store a RegistrationDetailOut as if it had just been read (best effort). */
export async function rememberRegistration(detail) {
  if (!detail?.id) return
  try {
    await writeCached(currentUserId(), registrationUrl(detail.id), { data: detail })
  } catch {
    /* no IndexedDB here: the ticket page will need the network once */
  }
}

/** POST a sign-up; resolves the registration detail (new or the one I already had). */
export async function signUp(eventId) {
  const detail = await apiFetch(`/api/events/${eventId}/registrations`, { method: 'POST' })
  await rememberRegistration(detail)
  return detail
}

export async function cancelRegistration(id) {
  const detail = await apiFetch(`${registrationUrl(id)}/cancel`, { method: 'POST' })
  await rememberRegistration(detail)
  return detail
}

/**
 * Fetch and keep the details (tickets) of live upcoming registrations, one after another, so each
 * ticket opens offline later. Failures are ignored: this is a background courtesy.
 */
export async function prefetchTickets(registrations, { limit = 20 } = {}) {
  const live = registrations.filter((r) => ['registered', 'pending', 'waitlisted'].includes(r.state)
    && r.event?.state !== 'cancelled' && !r.checked_in_at).slice(0, limit)
  for (const r of live) {
    try {
      await cachedGet(registrationUrl(r.id), () => {})
    } catch {
      /* next one */
    }
  }
  return live.length
}
