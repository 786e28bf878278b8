// Places (spaces, streets, markets, loan stations): the public list and one place.
import { cachedGet } from '../api.js'
import { get, paged, withQuery } from './query.js'

/** filters: {kind, district, q, lat, lng}; empty ones are left out. */
export const placesUrl = (filters, page, size) => withQuery('/api/places', { ...filters, ...paged(page, size) })

export const readPlace = (id, onData, options) => cachedGet(`/api/places/${id}`, onData, options)

/** The places an organiser may hold events at. */
export const listOrganiserPlaces = () => get('/api/organiser/places')
