// The administrator's desk: voucher batches, applications, providers, settlement statements and
// the count of check-in scans waiting for review.
import { cachedGet } from '../api.js'
import { get, paged, patch, post, withQuery } from './query.js'

const BATCHES = '/api/admin/voucher-batches'

/** filters: {state, q}. */
export const adminBatchesUrl = (filters, page, size) => withQuery(BATCHES, { ...filters, ...paged(page, size) })
export const getAdminBatch = (id) => get(`${BATCHES}/${id}`)
export const readAdminBatch = (id, onData, options) => cachedGet(`${BATCHES}/${id}`, onData, options)
export const createBatch = (batch) => post(BATCHES, batch)
export const updateBatch = (id, changes) => patch(`${BATCHES}/${id}`, changes)
/** state: 'active' (publish / resume), 'paused', 'closed'. */
export const setBatchState = (id, state) => post(`${BATCHES}/${id}/state`, { state })

/** filters: {state, batch_id}. */
export const adminApplicationsUrl = (filters, page, size) => withQuery('/api/admin/voucher-applications', { ...filters, ...paged(page, size) })
export const decideApplication = (id, { approve, reason }) => post(`/api/admin/voucher-applications/${id}/decision`, { approve, reason })

/** filters: {status, q}. */
export const adminProvidersUrl = (filters, page, size) => withQuery('/api/admin/providers', { ...filters, ...paged(page, size) })
export const listProviderObjections = (id) => get(`/api/admin/providers/${id}/objections`)
export const decideProvider = (id, { action, reason }) => post(`/api/admin/providers/${id}/decision`, { action, reason })

/** filters: {state}. */
export const adminStatementsUrl = (filters, page, size) => withQuery('/api/admin/statements', { ...filters, ...paged(page, size) })
export const decideStatement = (id, { action, reason }) => post(`/api/admin/statements/${id}/decision`, { action, reason })
export const adminStatementExportUrl = (id, format) => withQuery(`/api/admin/statements/${id}/export`, { format })

/** The review list of check-in scans: filters {kind: rejected|forced|conflict, reviewed}. */
export const checkinScansUrl = (filters, page, size) => withQuery('/api/admin/checkin-scans', { ...filters, ...paged(page, size) })
export const reviewCheckinScan = (id, note) => post(`/api/admin/checkin-scans/${id}/review`, { note })
