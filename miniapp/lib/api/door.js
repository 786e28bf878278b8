// The event door's calls (pages/event-door): the door list, the signing keys and the counts kept
// for working offline, and the check-in of scanned tickets. Pages name these operations, not URLs.
import { apiFetch, apiRequest } from '../api.js'

export const DOOR_CHECKINS_URL = '/api/events/checkins'

/** Who may come in, their names and who is in already (GET …/door-list). */
export function fetchDoorList(eventId, { signal } = {}) {
  return apiFetch(`/api/organiser/events/${eventId}/door-list`, { signal })
}

/** The server's public signing keys (GET /api/keys), to verify tickets offline. */
export function fetchKeys({ signal } = {}) {
  return apiFetch('/api/keys', { signal })
}

/** 已签到 / 已报名 of an event. */
export function fetchDoorCounts(eventId, { signal } = {}) {
  return apiFetch(`/api/organiser/events/${eventId}/counts`, { signal })
}

/**
 * POST /api/events/checkins: a batch of scans {items: [{nonce, code, scanned_at, offline}], sent_at}
 * → the answer's body {results: [{nonce, result, message, registration, checked_in_at, …}]}.
 */
export async function postDoorCheckins({ eventId, items, sentAt, signal }) {
  const body = { event_id: eventId, items, sent_at: sentAt }
  return (await apiRequest(DOOR_CHECKINS_URL, { method: 'POST', body, signal })).data
}
