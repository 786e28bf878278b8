// Service providers: the public catalogue and objections, registering one, and a provider's own
// desk (its record, redemptions and their totals, settlement statements).
import { cachedGet } from '../api.js'
import { paged, post, withQuery } from './query.js'

/** filters: {status, category, district, q}. */
export const providersUrl = (filters, page, size) => withQuery('/api/providers', { ...filters, ...paged(page, size) })
export const objectToProvider = (providerId, text) => post(`/api/providers/${providerId}/objections`, { text })
export const registerProvider = (application) => post('/api/providers', application)

export const readMyProvider = (onData, options) => cachedGet('/api/provider', onData, options)

/** period: {day: 'YYYY-MM-DD'} or {month: 'YYYY-MM'}. */
export const redemptionTotalsUrl = (period) => withQuery('/api/provider/redemptions/totals', period)
export const readRedemptionTotals = (period, onData) => cachedGet(redemptionTotalsUrl(period), onData)
export const redemptionsUrl = (period, page, size) => withQuery('/api/provider/redemptions', { ...period, ...paged(page, size) })
export const reverseRedemption = (id, reason) => post(`/api/provider/redemptions/${id}/reverse`, { reason })

/** The cashier's desk: scan a 付款码 (takes it), quote a bill against one voucher, redeem (idempotent by key). */
export const scanPayCode = (code) => post('/api/provider/scan', { code })
export const quoteRedemption = (quote) => post('/api/provider/quote', quote)
export const redeem = (body) => post('/api/provider/redemptions', body)

export const statementsUrl = (page, size) => withQuery('/api/provider/statements', paged(page, size))
export const submitStatement = (month) => post('/api/provider/statements', { month })
export const statementExportUrl = (id, format) => withQuery(`/api/provider/statements/${id}/export`, { format })
