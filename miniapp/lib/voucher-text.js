// Voucher rules in plain Chinese, shared by the 创业券 pages (batch list and detail, wallet, voucher).
import { formatDateTime } from './format.js'
import { labelOf } from './meta.js'
import { formatRatio, formatYuan } from './money.js'

/** '2026-05-22' in Beijing time. */
export function formatDate(iso) {
  return iso ? formatDateTime(iso).slice(0, 10) : ''
}

export function modeLabel(mode) {
  return mode === 'apply' ? '申请审核' : '先到先得'
}

/** 5000 → '每次可抵扣账单的 50%'; 10000 → '可全额抵扣账单'. */
export function ratioText(bp) {
  return bp >= 10000 ? '可全额抵扣账单' : `每次可抵扣账单的 ${formatRatio(bp)}`
}

export function minBillText(fen) {
  return fen > 0 ? `单笔账单满 ${formatYuan(fen)} 可用` : '无最低消费'
}

/** How long a voucher of this batch stays valid. */
export function validityText(batch) {
  if (batch.valid_until) return `有效期至 ${formatDate(batch.valid_until)}`
  if (batch.valid_days) return `领取后 ${batch.valid_days} 天内有效`
  return '长期有效'
}

export function remainingText(batch) {
  return batch.remaining == null ? '不限量' : `剩余 ${batch.remaining} 张`
}

/** Who may claim, from batch.eligibility: {subject_types, districts, max_firm_age_years}. */
export function eligibilityText(eligibility) {
  const rules = eligibility || {}
  const parts = []
  if (rules.subject_types?.length) {
    parts.push(`限${rules.subject_types.map((t) => labelOf('subject_types', t)).join('、')}`)
  }
  if (rules.districts?.length) parts.push(`限${rules.districts.map((d) => labelOf('districts', d)).join('、')}的创业者`)
  if (rules.max_firm_age_years) parts.push(`企业及个体工商户须成立不满 ${rules.max_firm_age_years} 年`)
  parts.push('须先完善创业主体信息')
  return parts.join('；')
}

export const VOUCHER_STATE = {
  active: { label: '可使用', tone: 'tag_green' },
  used_up: { label: '已用完', tone: '' },
  expired: { label: '已过期', tone: '' },
}

export const APPLICATION_TONE = { pending: 'tag_orange', approved: 'tag_green', rejected: 'tag_red', withdrawn: '' }

/** A signed ledger amount: +¥2,000.00 / -¥150.00. */
export function signedYuan(fen) {
  return fen > 0 ? `+${formatYuan(fen)}` : formatYuan(fen)
}

/**
 * The money a batch can give out. A batch saved without a budget is bounded by its count, so its
 * budget is count × face value (the form requires one of the two); null only if neither is set.
 */
export function budgetFigure(batch) {
  if (batch.budget != null) return batch.budget
  return batch.total_count != null ? batch.total_count * batch.face_value : null
}
