// 创业担保贷款 in words and numbers for the loan pages: state badges, what each case action is called
// and which form it needs, turning typed 元 / % / dates into the API's fen / basis points, and the
// application form's checks (the same ones the server makes, so people learn them before sending).
// No Vue here: unit-tested in tests/loan-text.test.js.
import { beijingDay, formatDate } from './format.js'
import { percentToBp } from './form.js'
import { formatYuan, parseYuan } from './money.js'

/** Badge colour per case state (the label itself comes from the server's `state_label`). */
export const STATE_TONE = {
  consultation: '',
  precheck: 'tag_blue',
  correction: 'tag_orange',
  review: 'tag_orange',
  notice: 'tag_blue',
  referred: 'tag_blue',
  diligence: 'tag_blue',
  disbursed: 'tag_green',
  repaying: 'tag_green',
  closed: '',
  rejected: 'tag_red',
  withdrawn: '',
  overdue: 'tag_red',
  extended: 'tag_orange',
}

export const stateTone = (state) => STATE_TONE[state] ?? ''

/** The handler list's state tabs (全部 first). */
export const STATE_TABS = [
  { value: '', label: '全部' },
  { value: 'consultation', label: '咨询' },
  { value: 'precheck', label: '预审通过' },
  { value: 'correction', label: '补正材料' },
  { value: 'review', label: '人社审核' },
  { value: 'notice', label: '公示中' },
  { value: 'referred', label: '已转介银行' },
  { value: 'diligence', label: '尽调/担保' },
  { value: 'disbursed', label: '已放款' },
  { value: 'repaying', label: '还款中' },
  { value: 'overdue', label: '逾期' },
  { value: 'extended', label: '展期' },
  { value: 'closed', label: '已结清' },
  { value: 'rejected', label: '已驳回' },
  { value: 'withdrawn', label: '已撤回' },
]

/** The states in which a case has (had) a loan: the bank's interest statement may list it. */
export const LOAN_STATES = ['disbursed', 'repaying', 'overdue', 'extended', 'closed']

// ---- money and rates ---------------------------------------------------------------------------

/** 30000000 fen → '30万元', 400000000 → '400万元', 1234500 → '12,345元'; for the headline amounts. */
export function formatWan(fen) {
  if (fen == null || !Number.isFinite(Number(fen))) return ''
  const yuan = Number(fen) / 100
  if (yuan >= 10000 && Number.isInteger(yuan / 100)) return `${yuan / 10000}万元`
  return `${yuan.toLocaleString('en-US', { maximumFractionDigits: 2 })}元`
}

/** 345 (basis points) → '3.45%'; 400 → '4%'; null → ''. */
export function formatRate(bp) {
  if (bp == null || !Number.isFinite(Number(bp))) return ''
  return `${Number((Number(bp) / 100).toFixed(2))}%`
}

/** A rate field's text: 345 → '3.45', null → ''. */
export const rateInput = (bp) => (bp == null ? '' : String(Number((Number(bp) / 100).toFixed(2))))

/** A typed rate in % → basis points: '3.45' → 345, '3.45%' → 345; null unless 0.01–100 with ≤ 2 decimals. */
export const parseRate = (text) => percentToBp(text)

// ---- the application form ----------------------------------------------------------------------

export const BORROWER_TYPES = [
  { value: 'individual', label: '个人', cap: 300_000_00, maxTerm: 36 },
  { value: 'firm', label: '小微企业', cap: 4_000_000_00, maxTerm: 24 },
]

/** An empty form, or one filled from a case being edited (amounts shown in 元). */
export function applicationForm(loanCase = null) {
  const c = loanCase || {}
  const text = (v) => (v == null ? '' : String(v))
  return {
    borrower_type: c.borrower_type || 'individual',
    amount: c.amount == null ? '' : String(c.amount / 100),
    term_months: text(c.term_months),
    purpose: c.purpose || '',
    business: c.business || '',
    identity_category: c.identity_category || '',
    age: text(c.age),
    org_name: c.org_name || '',
    staff_count: text(c.staff_count),
    new_hires: text(c.new_hires),
    incubator_recommended: Boolean(c.incubator_recommended),
    station_id: c.station?.id == null ? '' : String(c.station.id),
  }
}

const wholeNumber = (text) => (/^\d{1,9}$/.test(String(text ?? '').trim()) ? Number(String(text).trim()) : NaN)

/**
 * Check the form and build the request body. → {errors: {field: message}, body} (body null when
 * anything is wrong). The server's checks (backend/loans/schemas.py CaseIn): amount at least ¥1,
 * term 1–120 months, purpose 2–200 characters, a category, a station; age 16–100 and staff / new
 * hires when given; a firm's name. The caps of the rules in force are the pre-check's business
 * (they differ by city and date).
 */
export function applicationBody(form) {
  const errors = {}
  const firm = form.borrower_type === 'firm'
  const given = (v) => String(v ?? '').trim() !== ''
  if (!BORROWER_TYPES.some((t) => t.value === form.borrower_type)) errors.borrower_type = '请选择贷款主体'
  const amount = parseYuan(form.amount)
  if (!given(form.amount)) errors.amount = '请填写申请金额'
  else if (amount == null || amount < 100) errors.amount = '申请金额应不少于 1 元（单位：元，最多两位小数）'
  const term = wholeNumber(form.term_months)
  if (!given(form.term_months)) errors.term_months = '请填写贷款期限'
  else if (!(term >= 1 && term <= 120)) errors.term_months = '贷款期限为 1 到 120 个月'
  const purpose = form.purpose.trim()
  if (!purpose) errors.purpose = '请填写贷款用途'
  else if ([...purpose].length < 2) errors.purpose = '贷款用途为 2 到 200 个字'
  if (!form.identity_category) errors.identity_category = '请选择人员类别'
  const age = given(form.age) ? wholeNumber(form.age) : null
  if (age !== null && !(age >= 16 && age <= 100)) errors.age = '年龄应在 16 到 100 岁'
  if (!form.station_id) errors.station_id = '请选择办理的创贷之家驿站'
  let staff = null
  let hires = null
  if (firm) {
    if (!form.org_name.trim()) errors.org_name = '请填写企业名称'
    staff = given(form.staff_count) ? wholeNumber(form.staff_count) : null
    if (staff !== null && !(staff >= 1)) errors.staff_count = '职工人数应为正整数'
    hires = given(form.new_hires) ? wholeNumber(form.new_hires) : null
    if (hires !== null && !(hires >= 0)) errors.new_hires = '新招用人数应为 0 或正整数'
    else if (hires !== null && staff >= 1 && hires > staff) errors.new_hires = '新招用人数不能多于职工人数'
  }
  if (Object.keys(errors).length) return { errors, body: null }
  const body = {
    borrower_type: form.borrower_type,
    amount,
    term_months: term,
    purpose,
    business: form.business.trim(),
    identity_category: form.identity_category,
    age,
    incubator_recommended: Boolean(form.incubator_recommended),
    station_id: Number(form.station_id),
  }
  if (firm) Object.assign(body, { org_name: form.org_name.trim(), staff_count: staff, new_hires: hires })
  return { errors, body }
}

/** The soft limit shown under the amount: '个人最高 30万元、最长 36 个月（以预审结果为准）'. */
export function capHint(borrowerType) {
  const t = BORROWER_TYPES.find((x) => x.value === borrowerType) || BORROWER_TYPES[0]
  return `${t.label}最高 ${formatWan(t.cap)}、最长 ${t.maxTerm} 个月（以预审结果为准）`
}

// ---- case actions ------------------------------------------------------------------------------

/**
 * Each action a case may list: its button label, whether it warns, and the fields of its small form
 * (none: a confirm is enough). Field types: text, textarea, yuan, percent, months, date, kinds, bank.
 */
export const LOAN_ACTIONS = {
  edit: { label: '修改申请' },
  upload: { label: '上传材料' },
  precheck: { label: '运行预审', confirm: '按当地现行规则检查申请条件，结果会显示在本页。' },
  submit: { label: '提交人社审核', confirm: '提交后由人社部门审核，审核期间不能修改申请。' },
  request_documents: {
    label: '要求补正材料',
    fields: [
      { name: 'kinds', label: '需补正的材料', type: 'kinds', required: true },
      { name: 'remark', label: '说明', type: 'textarea', placeholder: '告诉申请人需要补什么、注意什么' },
    ],
  },
  approve: { label: '审核通过', fields: [{ name: 'remark', label: '审核意见', type: 'textarea', placeholder: '选填' }], note: '通过后进入公示，公示期 5 天。' },
  reject: { label: '驳回', warn: true, fields: [{ name: 'reason', label: '驳回原因', type: 'textarea', required: true, min: 2, placeholder: '申请人会看到这段原因' }] },
  refer: {
    label: '转介银行',
    fields: [
      { name: 'bank_id', label: '合作银行', type: 'bank', required: true },
      { name: 'remark', label: '备注', type: 'textarea', placeholder: '选填' },
    ],
  },
  withdraw: { label: '撤回申请', warn: true, fields: [{ name: 'reason', label: '撤回原因', type: 'textarea', required: true, min: 2 }] },
  diligence: {
    label: '登记尽调/担保',
    fields: [
      { name: 'guarantee', label: '担保方式', type: 'text', required: true, min: 2, max: 120, placeholder: '如：免除反担保 / 保证人担保' },
      { name: 'remark', label: '尽调意见', type: 'textarea', placeholder: '选填' },
    ],
  },
  disburse: {
    label: '登记放款',
    fields: [
      { name: 'approved_amount', label: '放款金额', type: 'yuan', required: true },
      { name: 'rate_bp', label: '执行利率', type: 'percent', required: true },
      { name: 'lpr_bp', label: '当期 LPR', type: 'percent', required: true },
      { name: 'term_months', label: '期限', type: 'months', required: true },
      { name: 'disbursed_on', label: '放款日期', type: 'date', required: true },
    ],
  },
  repay: {
    label: '登记还款',
    fields: [
      { name: 'paid_on', label: '还款日期', type: 'date', required: true },
      { name: 'principal', label: '归还本金', type: 'yuan', required: true, zero: true },
      { name: 'interest', label: '支付利息', type: 'yuan', required: true, zero: true },
    ],
  },
  overdue: {
    label: '标记逾期',
    warn: true,
    fields: [
      { name: 'since', label: '逾期起始日', type: 'date', required: true },
      { name: 'remark', label: '说明', type: 'textarea', placeholder: '选填' },
    ],
    note: '逾期期间不享受财政贴息。',
  },
  cure: {
    label: '逾期已纠正',
    fields: [
      { name: 'on', label: '纠正日期', type: 'date', required: true },
      { name: 'remark', label: '说明', type: 'textarea', placeholder: '选填' },
    ],
  },
  extend: {
    label: '办理展期',
    fields: [
      { name: 'until', label: '展期至', type: 'date', required: true },
      { name: 'reason', label: '展期原因', type: 'textarea', required: true, min: 2, max: 120, placeholder: '如：受灾害或重大突发事件影响' },
    ],
    note: '每笔贷款只能展期一次、最长一年，展期期间不享受财政贴息。',
  },
  change_rate: {
    label: '调整利率',
    fields: [
      { name: 'from', label: '生效日期', type: 'date', required: true },
      { name: 'rate_bp', label: '新利率', type: 'percent', required: true },
    ],
  },
}

export const actionLabel = (action) => LOAN_ACTIONS[action]?.label || action
export const actionFields = (action) => LOAN_ACTIONS[action]?.fields || []

/** The step that moves a case forward, shown as the green button: the first of these it lists. */
const FORWARD = ['submit', 'approve', 'refer', 'diligence', 'disburse', 'repay', 'cure', 'precheck', 'request_documents']

export const primaryAction = (actions) => FORWARD.find((a) => actions.includes(a)) || null

/** Actions that happen on the page itself rather than through a form or a confirm. */
export const PAGE_ACTIONS = ['edit', 'upload']

/** What a form starts with: today for dates, the case's amount and term for a disbursement. */
export function actionDefaults(action, loanCase = {}, today = beijingDay()) {
  const values = {}
  for (const field of actionFields(action)) {
    values[field.name] = field.type === 'date' ? today : field.type === 'kinds' ? [] : ''
  }
  if (action === 'disburse') {
    values.approved_amount = loanCase.amount == null ? '' : String(loanCase.amount / 100)
    values.term_months = loanCase.term_months == null ? '' : String(loanCase.term_months)
  }
  if (action === 'change_rate' && loanCase.loan?.rate_bp != null) values.rate_bp = rateInput(loanCase.loan.rate_bp)
  if (action === 'request_documents') {
    values.kinds = (loanCase.required_documents || []).filter((d) => !d.provided).map((d) => d.kind)
  }
  return values
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/

function validDate(text) {
  if (!DATE_RE.test(text || '')) return false
  const d = new Date(`${text}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text
}

/** One field's typed value → [API value, error message or '']. */
function convert(field, raw) {
  const text = typeof raw === 'string' ? raw.trim() : raw
  const empty = text === '' || text == null || (Array.isArray(text) && !text.length)
  const ask = ['bank', 'kinds'].includes(field.type) ? '请选择' : '请填写'
  if (empty) return [undefined, field.required ? `${ask}${field.label}` : '']
  switch (field.type) {
    case 'yuan': {
      const fen = parseYuan(text)
      if (fen == null || (fen === 0 && !field.zero)) return [undefined, `${field.label}应为${field.zero ? '' : '大于 0 的'}金额（元，最多两位小数）`]
      return [fen, '']
    }
    case 'percent': {
      const bp = parseRate(text)
      return bp == null ? [undefined, `${field.label}应为 0.01–100 之间的百分数，如 3.45`] : [bp, '']
    }
    case 'months': {
      const n = wholeNumber(text)
      return n >= 1 ? [n, ''] : [undefined, `${field.label}应为正整数（月）`]
    }
    case 'date':
      return validDate(text) ? [text, ''] : [undefined, `${field.label}应为有效日期`]
    case 'bank':
      return Number(text) > 0 ? [Number(text), ''] : [undefined, `请选择${field.label}`]
    case 'kinds':
      return [text.slice(), '']
    default: {
      // The server's limits: 200 characters unless the field says otherwise, some at least 2.
      const length = [...text].length
      const [min, max] = [field.min || 0, field.max || 200]
      if (length < min || length > max) return [undefined, `${field.label}为 ${min || 1} 到 ${max} 个字`]
      return [text, '']
    }
  }
}

/** A filled action form → {errors, body}: body in the API's units (fen, bp), null when anything is wrong. */
export function actionBody(action, values) {
  const errors = {}
  const body = {}
  for (const field of actionFields(action)) {
    const [value, error] = convert(field, values?.[field.name])
    if (error) errors[field.name] = error
    else if (value !== undefined) body[field.name] = value
  }
  if (action === 'repay' && !errors.principal && !errors.interest && !(body.principal > 0) && !(body.interest > 0)) {
    errors.principal = '本金和利息不能都为 0'
  }
  return Object.keys(errors).length ? { errors, body: null } : { errors, body }
}

// ---- the step clock ----------------------------------------------------------------------------

/**
 * The current step's time limit in words, or '' when it has none:
 * '本环节办理时限：2026-12-10 前' or '本环节已超时 3 天（时限 2026-12-07）'.
 */
export function stepDueText(loanCase, now = new Date()) {
  if (!loanCase?.step_due_at) return ''
  const due = formatDate(loanCase.step_due_at)
  if (!loanCase.overdue_step) return `本环节办理时限：${due} 前`
  const days = Math.floor((new Date(now).getTime() - new Date(loanCase.step_due_at).getTime()) / 86_400_000)
  return days >= 1 ? `本环节已超时 ${days} 天（时限 ${due}）` : `本环节已超时（时限 ${due}）`
}

// ---- quarters (the interest statements) --------------------------------------------------------

/** The quarter a Beijing day falls in: '2026-12-04' → {year: 2026, quarter: 4}. */
export function quarterOf(day = beijingDay()) {
  const [year, month] = day.split('-').map(Number)
  return { year, quarter: Math.floor((month - 1) / 3) + 1 }
}

/** The quarter a bank usually hands in now: the one before the current. */
export function previousQuarter(day = beijingDay()) {
  const { year, quarter } = quarterOf(day)
  return quarter === 1 ? { year: year - 1, quarter: 4 } : { year, quarter: quarter - 1 }
}

export const quarterLabel = (year, quarter) => `${year}年第${quarter}季度`

/** A statement line's interest typed in 元 → fen (0 allowed: a loan may have paid nothing yet). */
export function interestFen(text) {
  const fen = parseYuan(text)
  return fen == null ? null : fen
}

/** The statement's total in words for the confirm: '3 笔贷款，利息合计 ¥1,234.50'. */
export const statementSummary = (lines) =>
  `${lines.length} 笔贷款，利息合计 ${formatYuan(lines.reduce((sum, l) => sum + (l.interest || 0), 0))}`
