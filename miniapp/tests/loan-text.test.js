import { describe, expect, it } from 'vitest'
import {
  LOAN_ACTIONS, actionBody, primaryAction, actionDefaults, actionLabel, applicationBody, applicationForm, capHint, formatRate, formatWan,
  interestFen, parseRate, previousQuarter, quarterLabel, quarterOf, rateInput, stateTone, statementSummary, stepDueText,
} from '../lib/loan-text.js'

const filled = (changes = {}) => ({
  ...applicationForm(),
  amount: '200000',
  term_months: '24',
  purpose: '购置设备',
  business: '社区烘焙店',
  identity_category: 'graduate',
  age: '26',
  station_id: '4',
  ...changes,
})

describe('money and rates', () => {
  it('shows headline amounts in 万元 when they are whole 百元, else in 元', () => {
    expect(formatWan(30_000_000)).toBe('30万元')
    expect(formatWan(400_000_000)).toBe('400万元')
    expect(formatWan(25_050_000)).toBe('25.05万元')
    expect(formatWan(1_234_500)).toBe('12,345元')
    expect(formatWan(null)).toBe('')
  })
  it('turns basis points into % and back', () => {
    expect(formatRate(345)).toBe('3.45%')
    expect(formatRate(400)).toBe('4%')
    expect(formatRate(null)).toBe('')
    expect(rateInput(310)).toBe('3.1')
    expect(parseRate('3.45')).toBe(345)
    expect(parseRate('3.45%')).toBe(345)
    expect(parseRate('3.456')).toBe(null)
    expect(parseRate('0')).toBe(null)
    expect(parseRate('abc')).toBe(null)
  })
  it('reads a statement line’s interest in 元, zero allowed', () => {
    expect(interestFen('1234.5')).toBe(123450)
    expect(interestFen('0')).toBe(0)
    expect(interestFen('-1')).toBe(null)
    expect(statementSummary([{ interest: 100 }, { interest: 250 }])).toBe('2 笔贷款，利息合计 ¥3.50')
  })
  it('colours states: red for rejected and overdue, green once money flows', () => {
    expect(stateTone('rejected')).toBe('tag_red')
    expect(stateTone('overdue')).toBe('tag_red')
    expect(stateTone('repaying')).toBe('tag_green')
    expect(stateTone('consultation')).toBe('')
    expect(stateTone('nonsense')).toBe('')
  })
})

describe('the application form', () => {
  it('sends an individual’s application in fen, without the firm’s fields', () => {
    const { errors, body } = applicationBody(filled({ org_name: '不该发送' }))
    expect(errors).toEqual({})
    expect(body).toEqual({
      borrower_type: 'individual', amount: 20_000_000, term_months: 24, purpose: '购置设备', business: '社区烘焙店',
      identity_category: 'graduate', age: 26, incubator_recommended: false, station_id: 4,
    })
  })
  it('asks a firm for its name, and checks staff and new hires when given', () => {
    const { errors, body } = applicationBody(filled({ borrower_type: 'firm' }))
    expect(body).toBe(null)
    expect(errors).toEqual({ org_name: '请填写企业名称' })
    expect(applicationBody(filled({ borrower_type: 'firm', org_name: '某', staff_count: '0', new_hires: '-1' })).errors)
      .toEqual({ staff_count: '职工人数应为正整数', new_hires: '新招用人数应为 0 或正整数' })
    expect(applicationBody(filled({ borrower_type: 'firm', org_name: '某' })).body).toMatchObject({ staff_count: null, new_hires: null })
    const ok = applicationBody(filled({ borrower_type: 'firm', org_name: '某某科技', staff_count: '20', new_hires: '3', incubator_recommended: true }))
    expect(ok.body).toMatchObject({ borrower_type: 'firm', org_name: '某某科技', staff_count: 20, new_hires: 3, incubator_recommended: true })
    expect(applicationBody(filled({ borrower_type: 'firm', org_name: '某', staff_count: '2', new_hires: '3' })).errors.new_hires).toBe('新招用人数不能多于职工人数')
  })
  it('refuses what the server refuses, in Chinese', () => {
    const { errors } = applicationBody(applicationForm())
    expect(errors).toEqual({ amount: '请填写申请金额', term_months: '请填写贷款期限', purpose: '请填写贷款用途', identity_category: '请选择人员类别', station_id: '请选择办理的创贷之家驿站' })
    expect(applicationBody(filled({ amount: '0.99' })).errors.amount).toMatch(/不少于 1 元/)
    expect(applicationBody(filled({ amount: '-5' })).errors.amount).toMatch(/不少于 1 元/)
    expect(applicationBody(filled({ term_months: '1.5' })).errors.term_months).toBe('贷款期限为 1 到 120 个月')
    expect(applicationBody(filled({ term_months: '121' })).errors.term_months).toBe('贷款期限为 1 到 120 个月')
    expect(applicationBody(filled({ purpose: '店' })).errors.purpose).toBe('贷款用途为 2 到 200 个字')
    expect(applicationBody(filled({ age: '15' })).errors.age).toBe('年龄应在 16 到 100 岁')
  })
  it('leaves the optional business and age out of the checks', () => {
    expect(applicationBody(filled({ business: '', age: '' })).body).toMatchObject({ business: '', age: null })
  })
  it('fills the form back from a case for editing (元 from fen)', () => {
    const form = applicationForm({ borrower_type: 'firm', amount: 150_000_000, term_months: 12, purpose: '扩大生产', business: 'b', identity_category: 'veteran', age: 40, org_name: 'X', staff_count: 10, new_hires: 1, incubator_recommended: true, station: { id: 3 } })
    expect(form).toMatchObject({ amount: '1500000', term_months: '12', age: '40', staff_count: '10', new_hires: '1', station_id: '3', incubator_recommended: true })
    expect(applicationBody(form).body.amount).toBe(150_000_000)
  })
  it('hints the cap of the borrower type without enforcing it', () => {
    expect(capHint('firm')).toBe('小微企业最高 400万元、最长 24 个月（以预审结果为准）')
    expect(applicationBody(filled({ amount: '5000000' })).errors).toEqual({})
  })
})

describe('case actions', () => {
  it('names every action the contract lists', () => {
    for (const a of ['edit', 'precheck', 'request_documents', 'upload', 'submit', 'approve', 'reject', 'refer', 'withdraw', 'diligence', 'disburse', 'repay', 'overdue', 'cure', 'extend', 'change_rate']) {
      expect(LOAN_ACTIONS[a]?.label, a).toMatch(/\p{Script=Han}/u)
    }
    expect(actionLabel('refer')).toBe('转介银行')
  })
  it('makes the step that moves the case forward the main button', () => {
    expect(primaryAction(['edit', 'precheck', 'submit', 'withdraw'])).toBe('submit')
    expect(primaryAction(['repay', 'overdue', 'extend', 'change_rate'])).toBe('repay')
    expect(primaryAction(['withdraw'])).toBe(null)
  })
  it('converts a disbursement to fen, basis points and a whole term', () => {
    const values = { approved_amount: '200000', rate_bp: '3.45', lpr_bp: '3.1', term_months: '24', disbursed_on: '2026-12-04' }
    expect(actionBody('disburse', values)).toEqual({
      errors: {},
      body: { approved_amount: 20_000_000, rate_bp: 345, lpr_bp: 310, term_months: 24, disbursed_on: '2026-12-04' },
    })
    const bad = actionBody('disburse', { ...values, rate_bp: '3.456', disbursed_on: '2026-02-30', approved_amount: '0' })
    expect(bad.body).toBe(null)
    expect(Object.keys(bad.errors).sort()).toEqual(['approved_amount', 'disbursed_on', 'rate_bp'])
  })
  it('needs a reason to reject but no remark to approve', () => {
    expect(actionBody('reject', { reason: '  ' }).errors.reason).toBe('请填写驳回原因')
    expect(actionBody('reject', { reason: '否' }).errors.reason).toBe('驳回原因为 2 到 200 个字')
    expect(actionBody('diligence', { guarantee: '保'.repeat(121), remark: '' }).errors.guarantee).toBe('担保方式为 2 到 120 个字')
    expect(actionBody('reject', { reason: ' 材料造假 ' }).body).toEqual({ reason: '材料造假' })
    expect(actionBody('approve', { remark: '' })).toEqual({ errors: {}, body: {} })
  })
  it('asks for at least one document kind and a bank', () => {
    expect(actionBody('request_documents', { kinds: [], remark: '' }).errors.kinds).toBe('请选择需补正的材料')
    expect(actionBody('request_documents', { kinds: ['id_card'], remark: '请补身份证' }).body).toEqual({ kinds: ['id_card'], remark: '请补身份证' })
    expect(actionBody('refer', { bank_id: '', remark: '' }).errors.bank_id).toBe('请选择合作银行')
    expect(actionBody('refer', { bank_id: '2', remark: '' }).body).toEqual({ bank_id: 2 })
  })
  it('takes a repayment of interest only, but not one of nothing', () => {
    expect(actionBody('repay', { paid_on: '2026-12-01', principal: '0', interest: '512.5' }).body).toEqual({ paid_on: '2026-12-01', principal: 0, interest: 51250 })
    expect(actionBody('repay', { paid_on: '2026-12-01', principal: '0', interest: '0' }).errors.principal).toBe('本金和利息不能都为 0')
  })
  it('starts forms from the case: today for dates, the asked amount and term, the missing documents', () => {
    const loanCase = {
      amount: 20_000_000, term_months: 24, loan: { rate_bp: 345 },
      required_documents: [{ kind: 'id_card', provided: true }, { kind: 'credit_auth', provided: false }],
    }
    expect(actionDefaults('disburse', loanCase, '2026-12-04')).toEqual({ approved_amount: '200000', rate_bp: '', lpr_bp: '', term_months: '24', disbursed_on: '2026-12-04' })
    expect(actionDefaults('change_rate', loanCase, '2026-12-04')).toEqual({ from: '2026-12-04', rate_bp: '3.45' })
    expect(actionDefaults('request_documents', loanCase)).toEqual({ kinds: ['credit_auth'], remark: '' })
    expect(actionDefaults('precheck', loanCase)).toEqual({})
  })
})

describe('the step clock and quarters', () => {
  it('says the time limit, or by how many days it was missed', () => {
    expect(stepDueText({ step_due_at: null })).toBe('')
    expect(stepDueText({ step_due_at: '2026-12-10T02:00:00Z', overdue_step: false })).toBe('本环节办理时限：2026-12-10 前')
    expect(stepDueText({ step_due_at: '2026-12-01T02:00:00Z', overdue_step: true }, new Date('2026-12-04T03:00:00Z'))).toBe('本环节已超时 3 天（时限 2026-12-01）')
    expect(stepDueText({ step_due_at: '2026-12-04T02:00:00Z', overdue_step: true }, new Date('2026-12-04T03:00:00Z'))).toBe('本环节已超时（时限 2026-12-04）')
  })
  it('finds the quarter of a day and the one before it', () => {
    expect(quarterOf('2026-12-04')).toEqual({ year: 2026, quarter: 4 })
    expect(quarterOf('2026-04-01')).toEqual({ year: 2026, quarter: 2 })
    expect(previousQuarter('2026-12-04')).toEqual({ year: 2026, quarter: 3 })
    expect(previousQuarter('2027-02-10')).toEqual({ year: 2026, quarter: 4 })
    expect(quarterLabel(2026, 3)).toBe('2026年第3季度')
  })
})
