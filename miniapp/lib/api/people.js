// People and roles (administrators): search people, grant and revoke roles bound to a place,
// provider or region, block and restore; and the audit log with its XLSX export.
import { adminProvidersUrl } from './admin.js'
import { placesUrl } from './places.js'
import { del, get, patch, paged, post, withQuery } from './query.js'

const USERS = '/api/admin/users'

/** filters: {q (part of a name, or a whole phone number), role}. */
export const peopleUrl = (filters, page, size) => withQuery(USERS, { ...filters, ...paged(page, size) })
/** grant: {role, place_id?, provider_id?, region_code?, bank_id?}; answers the person with their grants. */
export const grantRole = (userId, grant) => post(`${USERS}/${userId}/roles`, grant)
/** Revoke the grant bound to what is given ({role, place_id?, provider_id?, region_code?}). */
export const revokeRole = (userId, grant) => del(withQuery(`${USERS}/${userId}/roles`, grant))
export const setPersonActive = (userId, active) => patch(`${USERS}/${userId}`, { is_active: active })

const AUDIT = '/api/admin/audit-log'

/** filters: {actor (id or name), action (or its prefix), target_type, target_id, date_from, date_to}. */
export const auditLogUrl = (filters, page, size) => withQuery(AUDIT, { ...filters, ...paged(page, size) })
export const auditExportUrl = (filters) => withQuery(`${AUDIT}.xlsx`, filters)

/** What a grant may be bound to, found by name (the first 20): open places, approved providers. */
export const findPlaces = (q) => get(placesUrl({ q }, 1, 20))
export const findProviders = (q) => get(adminProvidersUrl({ status: 'approved', q }, 1, 20))
/** The partner banks and their branches whose name holds ``q`` (a short list: filtered here). */
export const findBanks = async (q) => {
  const rows = (await get(withQuery('/api/loans/banks', paged(1, 100)))) || []
  return q ? rows.filter((b) => b.name.includes(q)) : rows
}
