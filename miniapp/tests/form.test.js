// The edit forms' shared helpers (lib/form.js) and the two forms built on them: the voucher batch
// form (pages/admin-batch-edit/form.js) and the event form (pages/organiser-event-edit/form.js).
import { describe, expect, it } from 'vitest'
import {
  countInput, firstErrorField, firstMessage, fromLocalInput, isDirty, parseCount, parseYuan, percentToBp, saveFailure, serverFieldErrors,
  shiftLocalInput, snapshot, toLocalInput, yuanInput,
} from '../lib/form.js'
import * as batchForm from '../pages/admin-batch-edit/form.js'
import * as eventForm from '../pages/organiser-event-edit/form.js'

describe('lib/form.js', () => {
  it('turns typed counts and percentages into API values, refusing the rest', () => {
    expect(parseCount(' 12 ')).toBe(12)
    for (const bad of ['', '1.5', '-1', '1e3', '1234567890', 'abc', null]) expect(parseCount(bad), String(bad)).toBeNaN()
    expect(countInput(12)).toBe('12')
    expect(countInput(null)).toBe('')
    expect(percentToBp('50')).toBe(5000)
    expect(percentToBp('33.33%')).toBe(3333)
    expect(percentToBp('100')).toBe(10000)
    expect(percentToBp('0.01')).toBe(1)
    for (const bad of ['0', '100.01', '101', '33.333', '', 'abc']) expect(percentToBp(bad), bad).toBeNull()
  })

  it('shows fen for editing and reads it back the same', () => {
    for (const fen of [0, 1, 50, 1250, 50050, 200000, 123456789]) expect(parseYuan(yuanInput(fen))).toBe(fen)
    expect(yuanInput(50050)).toBe('500.5')
    expect(yuanInput(200000)).toBe('2000')
    expect(yuanInput(null)).toBe('')
  })

  it('converts Beijing wall-clock inputs both ways whatever the phone zone', () => {
    expect(toLocalInput('2026-12-01T00:00:00Z')).toBe('2026-12-01T08:00')
    expect(toLocalInput('2026-12-31T16:30:00Z')).toBe('2027-01-01T00:30')
    expect(toLocalInput('')).toBe('')
    expect(toLocalInput('not a date')).toBe('')
    expect(fromLocalInput('2026-12-01T08:00')).toBe('2026-12-01T08:00:00+08:00')
    expect(fromLocalInput('2026-12-01T08:00:30')).toBe('2026-12-01T08:00:30+08:00')
    for (const bad of ['', '2026-12-01', '2026-12-01 08:00', null]) expect(fromLocalInput(bad), String(bad)).toBeNull()
    expect(Date.parse(fromLocalInput(toLocalInput('2026-05-05T10:20:00Z')))).toBe(Date.parse('2026-05-05T10:20:00Z'))
  })

  it('puts a 422 message under the field it names', () => {
    expect(firstMessage([['深层'], '外层'])).toBe('深层')
    expect(firstMessage({ a: [], b: ['第二'] })).toBe('第二')
    const details = { json: { name: ['名称过长'], eligibility: { districts: ['未知区县'] }, co_pay_ratio_bp: ['Must be between 1 and 10000.'] } }
    expect(serverFieldErrors(details)).toEqual({ name: '名称过长', eligibility: '未知区县', co_pay_ratio_bp: 'Must be between 1 and 10000.' })
    expect(serverFieldErrors(details, { nested: ['eligibility'], messages: { co_pay_ratio_bp: '补贴比例不对' } }))
      .toEqual({ name: '名称过长', 'eligibility.districts': '未知区县', co_pay_ratio_bp: '补贴比例不对' })
    expect(serverFieldErrors(undefined)).toEqual({})
  })

  it('tells a changed form from an untouched one', () => {
    const form = { name: '沙龙', tags: ['a'], open: true }
    const saved = snapshot(form)
    expect(isDirty(form, saved)).toBe(false)
    form.tags.push('b')
    expect(isDirty(form, saved)).toBe(true)
    expect(isDirty(form, null)).toBe(false) // nothing loaded yet: nothing to lose
  })

  it('says why a save was refused: fields for a 422, the network, or the server\'s words', () => {
    const invalid = { status: 422, message: '', details: { json: { profile: { credit_code: ['格式不对'] } } } }
    expect(saveFailure(invalid)).toEqual({ fields: { credit_code: '格式不对' }, toast: '请按提示修改后再保存' })
    expect(saveFailure({ ...invalid, message: '信息有误' }, { verb: '提交' }).toast).toBe('信息有误')
    expect(saveFailure(invalid, { fields: serverFieldErrors, verb: '提交' })).toEqual({
      fields: { profile: '格式不对' }, toast: '请按提示修改后再提交',
    })
    expect(saveFailure({ status: 0, message: 'Failed to fetch' }, { verb: '提交' })).toEqual({ fields: null, toast: '网络不可用，请联网后再提交' })
    expect(saveFailure({ status: 409, code: 'provider_exists', message: '该机构已登记' })).toEqual({ fields: null, toast: '该机构已登记' })
    expect(saveFailure({ status: 500, message: '' }).toast).toBe('保存失败，请稍后重试')
  })
})

describe('the voucher batch form', () => {
  const filled = () => ({
    ...batchForm.emptyForm(),
    name: '2026 创业券', district: '370811', face_value: '500.5', total_count: '100', claim_starts_at: '2026-12-01T08:00',
    claim_ends_at: '2026-12-31T18:00', categories: ['rent'], co_pay_ratio: '50', min_bill: '',
  })

  it('builds the payload in fen, basis points and +08:00 times', () => {
    const { errors, payload } = batchForm.buildPayload(filled())
    expect(errors).toEqual({})
    expect(payload).toMatchObject({
      face_value: 50050, total_count: 100, budget: null, co_pay_ratio_bp: 5000, min_bill: 0, per_person_limit: 1,
      claim_starts_at: '2026-12-01T08:00:00+08:00', valid_days: 180, valid_until: null, categories: ['rent'],
    })
  })

  it('refuses amounts that are not strict 元', () => {
    for (const bad of ['12.345', '-5', '1e3', '5元', '0']) {
      const { errors } = batchForm.buildPayload({ ...filled(), face_value: bad })
      expect(errors.face_value, bad).toBe('请输入面值（元），如 2000 或 500.50')
    }
  })

  it('checks only what a live batch still takes', () => {
    const { errors, payload } = batchForm.buildPayload({ ...filled(), face_value: 'x' }, { only: batchForm.EDITABLE_WHEN_LIVE })
    expect(errors).toEqual({})
    expect(Object.keys(payload).sort()).toEqual(['claim_ends_at', 'daily_cap', 'description', 'name'])
  })

  it('round-trips a batch through the form', () => {
    const batch = {
      name: '券', description: '', district: '370811', mode: 'claim', face_value: 50050, total_count: 100, budget: null,
      per_person_limit: 1, daily_cap: null, claim_starts_at: '2026-12-01T00:00:00Z', claim_ends_at: '2026-12-31T10:00:00Z',
      valid_until: null, valid_days: 180, categories: ['rent'], co_pay_ratio_bp: 5000, min_bill: 0,
      eligibility: { subject_types: [], districts: [], max_firm_age_years: null },
    }
    const form = batchForm.toForm(batch)
    expect(form).toMatchObject({ face_value: '500.5', co_pay_ratio: '50', claim_starts_at: '2026-12-01T08:00', total_count: '100' })
    expect(batchForm.buildPayload(form).payload).toMatchObject({ face_value: 50050, co_pay_ratio_bp: 5000, claim_ends_at: '2026-12-31T18:00:00+08:00' })
  })

  it("names eligibility's fields and its own ratio message", () => {
    expect(batchForm.serverErrors({ json: { eligibility: { max_firm_age_years: ['太大'] }, co_pay_ratio_bp: ['x'] } }))
      .toEqual({ 'eligibility.max_firm_age_years': '太大', co_pay_ratio_bp: '补贴比例应在 0.01% 到 100% 之间' })
  })
})

describe('the event form', () => {
  it('reads the cover upload id from its URL', () => {
    expect(eventForm.coverIdOf({ cover_card: '/api/events/4/cover/card?v=17' })).toBe(17)
    expect(eventForm.coverIdOf({})).toBeNull()
  })

  it('checks times in the order the server does', () => {
    const form = { ...eventForm.emptyForm(), place_id: '3', title: '创业沙龙', starts_at: '2026-12-10T14:00', ends_at: '2026-12-10T13:00' }
    expect(eventForm.buildPayload(form).errors.ends_at).toBe('结束时间应晚于开始时间')
    const late = { ...form, ends_at: '2026-12-10T16:00', signup_opens_at: '2026-12-01T08:00', signup_closes_at: '2026-12-10T17:00' }
    expect(eventForm.buildPayload(late).errors).toEqual({ signup_closes_at: '报名截止时间不能晚于活动结束时间' })
  })

  it("puts a server answer under the field it names", () => {
    expect(eventForm.serverErrors({ message: '名额不能少于已报名人数', details: { field: 'capacity' } })).toEqual({ capacity: '名额不能少于已报名人数' })
    expect(eventForm.serverErrors({ message: '已发布的活动不能改', details: { fields: ['starts_at', 'place_id'] } }))
      .toEqual({ starts_at: '已发布的活动不能改', place_id: '已发布的活动不能改' })
    expect(eventForm.serverErrors({ details: { json: { audience: { subject_types: ['未知类型'] } } } }))
      .toEqual({ audience: '未知类型', subject_types: '未知类型' })
  })
})

describe('moving the start of a new event', () => {
  const form = { starts_at: '2026-12-08T14:00', ends_at: '2026-12-08T16:00', signup_closes_at: '2026-12-08T12:00' }

  it('moves the end and the sign-up deadline by as much, across days', () => {
    expect(eventForm.moveStart(form, '2026-12-15T09:30')).toEqual({
      starts_at: '2026-12-15T09:30', ends_at: '2026-12-15T11:30', signup_closes_at: '2026-12-15T07:30',
    })
    expect(eventForm.moveStart(form, '2027-01-01T00:30').signup_closes_at).toBe('2026-12-31T22:30')
  })

  it('leaves alone what the organiser set by hand, and what it cannot read', () => {
    expect(eventForm.moveStart(form, '2026-12-09T14:00', new Set(['signup_closes_at']))).toEqual({
      starts_at: '2026-12-09T14:00', ends_at: '2026-12-09T16:00',
    })
    expect(eventForm.moveStart({ ...form, ends_at: '' }, '2026-12-09T14:00').ends_at).toBe('')
    expect(eventForm.moveStart(form, '').signup_closes_at).toBe('2026-12-08T12:00')
  })

  it('names the first field in error in the order the page shows them', () => {
    expect(firstErrorField({ capacity: '名额…', ends_at: '结束…', title: '' }, eventForm.FIELD_ORDER)).toBe('ends_at')
    expect(firstErrorField({}, eventForm.FIELD_ORDER)).toBe(null)
    expect(shiftLocalInput('2026-12-08T12:00:30', '2026-12-08T14:00', '2026-12-08T15:00')).toBe('2026-12-08T13:00:30')
  })
})
