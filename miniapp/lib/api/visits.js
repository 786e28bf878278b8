// Place visits as read back: mine, and the administrator's list, figures and export.
import { cachedGet } from '../api.js'
import { paged, withQuery } from './query.js'

export const myVisitsUrl = (page, size) => withQuery('/api/me/visits', paged(page, size))

/** filters: {day_from, day_to, purpose, place_id, district}. */
export const visitsUrl = (filters, page, size) => withQuery('/api/checkins/visits', { ...filters, ...paged(page, size) })

/** filters: {day_from, day_to, group, bucket}. */
export const readVisitFigures = (filters, onData) => cachedGet(withQuery('/api/checkins/figures', filters), onData)

/** filters: {day_from, day_to, format}. */
export const visitsExportUrl = (filters) => withQuery('/api/checkins/export', filters)
