// Check-in calls: a station's scanner (pages/station-scanner, its device token in X-Device-Token),
// the entrepreneur's own check-in at a place (pages/checkin), and the scanners of a place
// (pages/scanner-admin). Pages name these operations, not URLs.
import { ApiError, apiFetch, apiRequest } from '../api.js'

export const SYNC_URL = '/api/checkins/sync'
export const TODAY_URL = '/api/checkins/today'
export const SCANNER_BUNDLE_URL = '/api/scanner/bundle'
export const SCANNER_PROVISION_URL = '/api/scanner/provision'

const DEVICE_GONE = new Set(['device_unauthorized', 'device_revoked'])

function asDevice(token, options) {
  return token ? { ...options, auth: false, headers: { ...options.headers, 'X-Device-Token': token } } : options
}

/**
 * POST /api/checkins/sync: a batch of scans {items, sent_at} (sent_at = this device's clock now, from
 * which the server corrects a device whose clock is off). With the device token (the staff's sign-in
 * is not needed and a refused token must not sign them out), or signed in as staff when this phone
 * no longer holds a usable token. Resolves the answer's body {results, server_time}.
 */
export async function postVisitSync({ items, sentAt, token, placeId, signal, request = apiRequest }) {
  const body = { items, sent_at: sentAt }
  if (placeId) body.place_id = placeId
  try {
    return (await request(SYNC_URL, asDevice(token, { method: 'POST', body, signal, authRedirect: false }))).data
  } catch (error) {
    // A scanner the server no longer knows: hand the scans in as the signed-in staff member.
    if (token && error instanceof ApiError && error.status === 401 && DEVICE_GONE.has(error.code)) {
      return postVisitSync({ items, sentAt, placeId, signal, request })
    }
    throw error
  }
}

/** Today's visits at the device's place (GET /api/checkins/today). */
export async function fetchVisitsToday({ token, signal, request = apiRequest } = {}) {
  return (await request(TODAY_URL, asDevice(token, { signal }))).data
}

/** The entrepreneur checks in at a place themselves (the place's poster code). */
export function postSelfCheckin({ code, purpose, nonce }) {
  return apiFetch('/api/checkins/visits', { method: 'POST', body: { code, purpose, nonce } })
}

// The scanner devices of a place (pages/scanner-admin): read through cachedGet, so URLs here.
// (placesUrl and placeUrl are the places domain's; they move to lib/api/places.js once it exists.)
export const placesUrl = (params) => `/api/places?${params}`
export const placeUrl = (placeId) => `/api/places/${placeId}`
export const placeScannersUrl = (placeId) => `/api/places/${placeId}/scanners`

export function createScannerSetup(placeId) {
  return apiRequest(`/api/places/${placeId}/scanner-setups`, { method: 'POST' })
}

export function stopScannerDevice(scannerId) {
  return apiFetch(`/api/scanners/${scannerId}`, { method: 'DELETE' })
}

export function renameScannerDevice(scannerId, name) {
  return apiFetch(`/api/scanners/${scannerId}`, { method: 'PATCH', body: { name } })
}

/** Demo mode: a setup code for the demo station staff's own place (their access token, given
 * before the session starts: the app moves on from the login page as soon as it does). */
export async function createDemoScannerSetup(accessToken) {
  const { data } = await apiRequest('/api/scanner/demo-setup', {
    method: 'POST', auth: false, headers: { Authorization: `Bearer ${accessToken}` },
  })
  return data
}
