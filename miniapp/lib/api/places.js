// Places (spaces, streets, markets, loan stations): the public list and one place, the place's
// posters, and the administrators' console (every place, open and closed; create, edit, open/close).
import { cachedGet } from '../api.js'
import { get, paged, patch, post, withQuery } from './query.js'

/** filters: {kind, district, q, lat, lng}; empty ones are left out. */
export const placesUrl = (filters, page, size) => withQuery('/api/places', { ...filters, ...paged(page, size) })

export const readPlace = (id, onData, options) => cachedGet(`/api/places/${id}`, onData, options)

/** The places an organiser may hold events at. */
export const listOrganiserPlaces = () => get('/api/organiser/places')

/** The poster as an image: size 'screen' (phone, 750×1334) or 'print' (A4 at 300 dpi). */
export const posterPngUrl = (id, size = 'screen') => withQuery(`/api/places/${id}/poster.png`, { size })
/** The poster as one A4 PDF page, for printing. */
export const posterPdfUrl = (id) => `/api/places/${id}/poster.pdf`

// --- the administrators' console ---------------------------------------------------------------

const ADMIN = '/api/admin/places'

/** filters: {state: open|closed, kind, district, q}. */
export const adminPlacesUrl = (filters, page, size) => withQuery(ADMIN, { ...filters, ...paged(page, size) })
export const getAdminPlace = (id) => get(`${ADMIN}/${id}`)
export const readAdminPlace = (id, onData, options) => cachedGet(`${ADMIN}/${id}`, onData, options)
export const createPlace = (place) => post('/api/places', place)
export const updatePlace = (id, changes) => patch(`/api/places/${id}`, changes)
/** Open (true) or close (false) a place: a closed place leaves the public list and its poster stops. */
export const setPlaceOpen = (id, open) => patch(`/api/places/${id}`, { is_active: open })
