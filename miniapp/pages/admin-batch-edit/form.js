// The batch form (categories from lib/meta.js): between the API's BatchOut (fen, basis points, ISO times) and what an admin
// types (元, %, Beijing wall-clock time in <input type="datetime-local">), and the checks done
// before sending. The server has the last word; its 422 field messages go under the same fields.
import { countInput, fromLocalInput, parseCount, parseYuan, percentToBp, serverFieldErrors, toLocalInput, yuanInput } from '../../lib/form.js'

/** What a live (published) batch still accepts. */
export const EDITABLE_WHEN_LIVE = ['name', 'description', 'claim_ends_at', 'daily_cap']

const yuanText = yuanInput
const intText = countInput

export function emptyForm() {
  return {
    name: '', description: '', district: '', mode: 'claim',
    face_value: '', total_count: '', budget: '', per_person_limit: '1', daily_cap: '',
    claim_starts_at: '', claim_ends_at: '', validity: 'days', valid_until: '', valid_days: '180',
    categories: [], co_pay_ratio: '100', min_bill: '',
    subject_types: [], max_firm_age_years: '', eligible_districts: [],
  }
}

export function toForm(batch) {
  const rules = batch.eligibility || {}
  return {
    name: batch.name, description: batch.description || '', district: batch.district, mode: batch.mode,
    face_value: yuanText(batch.face_value), total_count: intText(batch.total_count), budget: yuanText(batch.budget),
    per_person_limit: intText(batch.per_person_limit), daily_cap: intText(batch.daily_cap),
    claim_starts_at: toLocalInput(batch.claim_starts_at), claim_ends_at: toLocalInput(batch.claim_ends_at),
    validity: batch.valid_until ? 'until' : 'days', valid_until: toLocalInput(batch.valid_until),
    valid_days: intText(batch.valid_days), categories: [...(batch.categories || [])],
    co_pay_ratio: String(batch.co_pay_ratio_bp / 100), min_bill: batch.min_bill ? yuanText(batch.min_bill) : '',
    subject_types: [...(rules.subject_types || [])], max_firm_age_years: intText(rules.max_firm_age_years),
    eligible_districts: [...(rules.districts || [])],
  }
}

const int = parseCount

/**
 * Check the form; returns {errors: {field: 中文}, payload}. Only the fields in `only` are checked
 * and sent when given (a live batch).
 */
export function buildPayload(form, { only = null } = {}) {
  const e = {}
  const p = {}
  const want = (field) => !only || only.includes(field)

  if (want('name')) {
    const name = form.name.trim()
    if (name.length < 2 || name.length > 64) e.name = '请输入 2 到 64 个字的批次名称'
    p.name = name
  }
  if (want('description')) p.description = form.description.trim()
  if (want('district')) {
    if (!form.district) e.district = '请选择出资地区'
    p.district = form.district
  }
  if (want('mode')) p.mode = form.mode
  if (want('face_value')) {
    const fen = parseYuan(form.face_value)
    if (!fen) e.face_value = '请输入面值（元），如 2000 或 500.50'
    p.face_value = fen
  }
  if (want('total_count')) {
    const count = form.total_count.trim() ? int(form.total_count) : null
    if (Number.isNaN(count) || count === 0) e.total_count = '发放总量应为正整数'
    p.total_count = count
  }
  if (want('budget')) {
    const fen = form.budget.trim() ? parseYuan(form.budget) : null
    if (form.budget.trim() && !fen) e.budget = '请输入资金预算（元），如 2000000'
    p.budget = fen
  }
  if (want('total_count') && want('budget') && p.total_count == null && p.budget == null && !e.total_count && !e.budget) {
    e.total_count = '发放总量或资金预算至少填一项'
  }
  if (want('per_person_limit')) {
    const n = int(form.per_person_limit)
    if (!(n >= 1 && n <= 100)) e.per_person_limit = '每人限领应为 1 到 100 张'
    p.per_person_limit = n
  }
  if (want('daily_cap')) {
    const n = form.daily_cap.trim() ? int(form.daily_cap) : null
    if (Number.isNaN(n) || n === 0) e.daily_cap = '每日上限应为正整数，不限请留空'
    p.daily_cap = n
  }
  if (want('claim_starts_at')) {
    p.claim_starts_at = fromLocalInput(form.claim_starts_at)
    if (!p.claim_starts_at) e.claim_starts_at = '请选择领取开始时间'
  }
  if (want('claim_ends_at')) {
    p.claim_ends_at = fromLocalInput(form.claim_ends_at)
    if (!p.claim_ends_at) e.claim_ends_at = '请选择领取截止时间'
  }
  if (want('valid_until')) {
    if (form.validity === 'until') {
      p.valid_until = fromLocalInput(form.valid_until)
      p.valid_days = null
      if (!p.valid_until) e.valid_until = '请选择有效期截止时间'
    } else {
      const days = int(form.valid_days)
      if (!(days >= 1 && days <= 3650)) e.valid_days = '有效天数应为 1 到 3650 天'
      p.valid_days = days
      p.valid_until = null
    }
  }
  if (want('categories')) {
    if (!form.categories.length) e.categories = '至少选择一种用途'
    p.categories = [...form.categories]
  }
  if (want('co_pay_ratio_bp')) {
    p.co_pay_ratio_bp = percentToBp(form.co_pay_ratio)
    if (!p.co_pay_ratio_bp) e.co_pay_ratio_bp = '补贴比例应为 0.01 到 100 之间的百分数'
  }
  if (want('min_bill')) {
    const fen = form.min_bill.trim() ? parseYuan(form.min_bill) : 0
    if (fen == null) e.min_bill = '请输入金额（元），不限请留空'
    p.min_bill = fen ?? 0
  }
  if (want('eligibility')) {
    const age = form.max_firm_age_years.trim() ? int(form.max_firm_age_years) : null
    if (Number.isNaN(age) || (age != null && (age < 1 || age > 50))) e['eligibility.max_firm_age_years'] = '成立年限应为 1 到 50 年，不限请留空'
    p.eligibility = { subject_types: [...form.subject_types], max_firm_age_years: age, districts: [...form.eligible_districts] }
  }
  return { errors: e, payload: p }
}

/** A 422's details → {field: message}; eligibility's fields as 'eligibility.<name>'. */
export function serverErrors(details) {
  return serverFieldErrors(details, { nested: ['eligibility'], messages: { co_pay_ratio_bp: '补贴比例应在 0.01% 到 100% 之间' } })
}
