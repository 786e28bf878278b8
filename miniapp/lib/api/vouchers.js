// 创业券 for the entrepreneur: batches, claiming and applying, my vouchers, receipts and applications.
import { apiRequest, cachedGet } from '../api.js'
import { paged, post, withQuery } from './query.js'

export const batchesUrl = (page, size) => withQuery('/api/voucher-batches', paged(page, size))
export const readBatch = (id, onData, options) => cachedGet(`/api/voucher-batches/${id}`, onData, options)

/** Claim a first-come voucher with an idempotency key (the same key again returns the same voucher). */
export async function claimVoucher(batchId, key) {
  const { data } = await apiRequest(`/api/voucher-batches/${batchId}/claim`, { method: 'POST', body: { idempotency_key: key } })
  return data
}

/** Apply for a reviewed batch: {statement, upload_ids}. */
export const applyForBatch = (batchId, application) => post(`/api/voucher-batches/${batchId}/applications`, application)

/** filters: {usable: true} for the usable ones only. */
export const myVouchersUrl = (filters, page, size) => withQuery('/api/me/vouchers', { ...filters, ...paged(page, size) })
export const readMyVoucher = (id, onData, options) => cachedGet(`/api/me/vouchers/${id}`, onData, options)

export const receiptsUrl = (page, size) => withQuery('/api/me/receipts', paged(page, size))

export const myApplicationsUrl = (page, size) => withQuery('/api/me/voucher-applications', paged(page, size))
export const withdrawApplication = (id) => post(`/api/me/voucher-applications/${id}/withdraw`)

// The pay-code page (pages/personal-code) watches for its payment while the code is on screen:
// both answer {data, headers} (the Date header corrects the phone's clock) and never go to login.
/** My receipts created since an ISO instant, newest first (the first 10). */
export const receiptsSince = (since) => apiRequest(withQuery('/api/me/receipts', { since, ...paged(1, 10) }), { authRedirect: false })
/** The pay code's server-side state: {last_scan: {code_ts, provider_name} | null, …}. */
export const getPayCodeState = () => apiRequest('/api/me/pay-code', { authRedirect: false })
