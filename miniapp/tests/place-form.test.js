// The place form's checks and conversions (pages/admin-place-edit/form.js).
import { describe, expect, it } from 'vitest'
import { buildPayload, emptyForm, parseCoordinate, toForm } from '../pages/admin-place-edit/form.js'

const filled = (over = {}) => ({ ...emptyForm(), kind: 'loan_station', name: '创贷之家·兖州驿站', district: '370812', ...over })

describe('parseCoordinate', () => {
  it('reads decimal degrees within the limit', () => {
    expect(parseCoordinate('35.4146', 90)).toBe(35.4146)
    expect(parseCoordinate(' -116.5 ', 180)).toBe(-116.5)
    expect(parseCoordinate('', 90)).toBe(null)
  })
  it('refuses text, too many digits and out-of-range values', () => {
    for (const bad of ['abc', '95', '35,41', '1e3', '35.123456789']) expect(parseCoordinate(bad, 90)).toBeNaN()
  })
})

describe('buildPayload', () => {
  it('sends trimmed values and coordinates as numbers', () => {
    const { errors, payload } = buildPayload(filled({ lat: '35.55', lng: '116.78', phone: ' 0537-3400000 ', services: ['贷款咨询'] }))
    expect(errors).toEqual({})
    expect(payload).toMatchObject({ kind: 'loan_station', name: '创贷之家·兖州驿站', lat: 35.55, lng: 116.78, phone: '0537-3400000', services: ['贷款咨询'] })
  })
  it('says what is missing, in Chinese', () => {
    const { errors } = buildPayload(emptyForm())
    expect(errors).toEqual({ kind: '请选择场所类型', name: '请输入 2 到 128 个字的场所名称', district: '请选择所在区县' })
  })
  it('wants both coordinates or neither', () => {
    expect(buildPayload(filled({ lat: '35.5' })).errors).toEqual({ lng: '经纬度需要同时填写，或都不填' })
    expect(buildPayload(filled({ lng: '116.5' })).errors).toEqual({ lat: '经纬度需要同时填写，或都不填' })
    expect(buildPayload(filled()).payload).toMatchObject({ lat: null, lng: null })
  })
  it('refuses a bad coordinate or phone', () => {
    expect(buildPayload(filled({ lat: '95', lng: '116' })).errors.lat).toMatch('纬度')
    expect(buildPayload(filled({ phone: '电话 123' })).errors.phone).toMatch('联系电话')
  })
})

it('toForm turns a place back into form text', () => {
  const form = toForm({ kind: 'space', name: '喵小创', district: '370811', address: null, lat: 35.4, lng: 116.5, opening_hours: '', phone: '', operator: '', services: ['活动场地'] })
  expect(form).toEqual({ ...emptyForm(), kind: 'space', name: '喵小创', district: '370811', lat: '35.4', lng: '116.5', services: ['活动场地'] })
})
