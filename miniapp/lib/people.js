// What the people console and the audit screen compute (no DOM, no requests): which binding a role
// needs, how a grant reads, the revoke query of a grant, what a log entry changed.

/** role → the binding its grant needs: 'place' | 'provider' | 'region' | 'bank' | null. */
export const BINDING = {
  entrepreneur: null,
  provider_staff: 'provider',
  station_staff: 'place',
  organiser: 'place',
  admin: 'region',
  bank_staff: 'bank',
}

export const BINDING_FIELD = { place: 'place_id', provider: 'provider_id', region: 'region_code', bank: 'bank_id' }
export const BINDING_PROMPT = {
  place: '请选择驿站/场所',
  provider: '请选择服务机构',
  region: '请选择管辖地区',
  bank: '请选择合作银行',
}

export function bindingOf(role) {
  return BINDING[role] ?? null
}

/** The name of what a grant is bound to ('' when none). */
export function boundName(grant) {
  return grant.place_name || grant.provider_name || grant.bank_name || grant.region_name || ''
}

/** '场所工作人员 · 创贷之家·任城驿站', or the role alone. */
export function grantText(grant) {
  const bound = boundName(grant)
  return bound ? `${grant.role_label} · ${bound}` : grant.role_label
}

/** The body of a grant: the role and the one binding it needs. */
export function grantBody(role, value) {
  const binding = bindingOf(role)
  if (!binding) return { role }
  return { role, [BINDING_FIELD[binding]]: binding === 'region' ? String(value) : Number(value) }
}

/** The query that revokes exactly this grant. */
export function revokeQuery(grant) {
  const query = { role: grant.role }
  for (const field of ['place_id', 'provider_id', 'region_code', 'bank_id']) {
    if (grant[field] !== null && grant[field] !== undefined) query[field] = grant[field]
  }
  return query
}

/** Whether a search is a whole phone number (matched exactly on the server) rather than a name. */
export function isPhoneSearch(text) {
  return /^1\d{10}$/.test((text || '').trim())
}

const FIELD_LABELS = {
  role: '角色', place_id: '场所', place_ids: '场所', provider_id: '服务机构', provider_ids: '服务机构',
  region_code: '管辖地区', region_codes: '管辖地区', bank_id: '合作银行', bank_ids: '合作银行', is_active: '账号状态', status: '状态', state: '状态',
  reason: '原因', name: '名称', opening_hours: '开放时间', net_total: '结算金额',
}

function shown(value) {
  if (value === undefined) return '—'
  if (value === null || value === '') return '空'
  if (value === true) return '是'
  if (value === false) return '否'
  if (Array.isArray(value)) return value.map(shown).join('、')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** What an entry changed: [{key, label, before, after}] over the keys of both sides, in order. */
export function auditDiff(before, after) {
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])]
  return keys.map((key) => ({
    key,
    label: FIELD_LABELS[key] || key,
    before: before ? shown(before[key]) : '—',
    after: after ? shown(after[key]) : '—',
    changed: JSON.stringify(before?.[key]) !== JSON.stringify(after?.[key]),
  }))
}

/** The action options of the audit filter: every label, grouped by what they act on (the prefix). */
export function actionGroups(options) {
  const groups = new Map()
  for (const option of options || []) {
    const prefix = option.value.split('.')[0]
    if (!groups.has(prefix)) groups.set(prefix, [])
    groups.get(prefix).push(option)
  }
  return [...groups.entries()].map(([prefix, items]) => ({ prefix, items }))
}
