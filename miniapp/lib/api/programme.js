// The programme dashboard and its targets (administrators).
import { cachedGet } from '../api.js'
import { del, paged, patch, post, withQuery } from './query.js'

/** params: {year, region}; cache first (offline shows the last copy). */
export const readDashboard = (params, onData) => cachedGet(withQuery('/api/admin/dashboard', params), onData)

/** The same report as an XLSX workbook (one sheet per section). */
export const dashboardXlsxUrl = (params) => withQuery('/api/admin/dashboard.xlsx', params)

/** filters: {year, region, measure}. */
export const targetsUrl = (filters, page, size) => withQuery('/api/admin/targets', { ...filters, ...paged(page, size) })

/** body: {year, region_code, measure, value, plan, note}; money values in fen. */
export const createTarget = (body) => post('/api/admin/targets', body)

/** body: {value, plan, note}. */
export const updateTarget = (id, body) => patch(`/api/admin/targets/${id}`, body)

export const deleteTarget = (id) => del(`/api/admin/targets/${id}`)
