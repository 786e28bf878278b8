import { describe, expect, it } from 'vitest'
import { fieldErrors, validateCreditCode, validateIdNumber, validatePhone, validateSmsCode } from '../lib/validate.js'
import { formatDateTime, formatDistance, formatShort } from '../lib/format.js'

describe('validatePhone', () => {
  it.each(['13800000001', '19912345678', '15012345678', ' 13800000001 '])('accepts %s', (phone) => {
    expect(validatePhone(phone)).toBe('')
  })

  it.each([
    ['', '请输入手机号'],
    [null, '请输入手机号'],
    ['1380000000', '请输入正确的11位手机号'], // 10 digits
    ['138000000012', '请输入正确的11位手机号'], // 12 digits
    ['12800000001', '请输入正确的11位手机号'], // second digit 2
    ['10800000001', '请输入正确的11位手机号'],
    ['23800000001', '请输入正确的11位手机号'],
    ['1380000000a', '请输入正确的11位手机号'],
    ['+8613800000001', '请输入正确的11位手机号'],
  ])('rejects %j with a Chinese message', (phone, message) => {
    expect(validatePhone(phone)).toBe(message)
  })
})

describe('validateSmsCode', () => {
  it('wants 4–6 digits', () => {
    expect(validateSmsCode('123456')).toBe('')
    expect(validateSmsCode('')).toBe('请输入短信验证码')
    expect(validateSmsCode('12a456')).toMatch(/数字/)
  })
})

describe('validateCreditCode', () => {
  it.each(['91440300708461136T', '91330100716105852F', '91110000802100433b'])('accepts %s', (code) => {
    expect(validateCreditCode(code)).toBe('')
  })

  it('rejects a wrong check character, length or letters outside the alphabet', () => {
    expect(validateCreditCode('91440300708461136A')).toMatch(/校验位/)
    expect(validateCreditCode('9144030070846113')).toMatch(/18位/)
    expect(validateCreditCode('91440300708461136I')).toMatch(/18位/) // I is not in the alphabet
    expect(validateCreditCode('')).toBe('请输入统一社会信用代码')
  })
})

describe('validateIdNumber', () => {
  it('accepts valid numbers, including a final X', () => {
    expect(validateIdNumber('11010519491231002X')).toBe('')
    expect(validateIdNumber('11010519491231002x')).toBe('')
    expect(validateIdNumber('110101199003074477')).toBe('')
  })

  it('rejects a bad check digit, a bad birth date and a bad shape', () => {
    expect(validateIdNumber('110101199003074478')).toMatch(/校验位/)
    expect(validateIdNumber('110101199002304476')).toMatch(/出生日期/)
    expect(validateIdNumber('1101011990030744')).toMatch(/18位/)
  })
})

describe('fieldErrors', () => {
  it('flattens a 422 details object to the first message per field', () => {
    expect(fieldErrors({ json: { name: ['请输入姓名', '太长'], profile: { credit_code: ['校验位不正确'] } } })).toEqual({
      name: '请输入姓名',
      credit_code: '校验位不正确',
    })
    expect(fieldErrors({ query: { page: ['页码无效'] } })).toEqual({ page: '页码无效' })
    expect(fieldErrors(undefined)).toEqual({})
  })
})

describe('format', () => {
  it('shows times in Asia/Shanghai whatever the zone of the phone', () => {
    expect(formatDateTime('2025-01-01T00:00:00Z')).toBe('2025-01-01 08:00')
    expect(formatDateTime('2025-06-30T16:30:00Z')).toBe('2025-07-01 00:30')
    expect(formatShort('2025-11-22T02:05:00Z', new Date('2025-11-22T10:00:00Z'))).toBe('今天 10:05')
    expect(formatShort('2025-11-20T02:05:00Z', new Date('2025-11-22T10:00:00Z'))).toBe('11月20日 10:05')
    expect(formatDateTime('not a date')).toBe('')
  })

  it('shows distances in 米 and 公里', () => {
    expect(formatDistance(40)).toBe('100米内')
    expect(formatDistance(846)).toBe('850米')
    expect(formatDistance(1234)).toBe('1.2公里')
    expect(formatDistance(23456)).toBe('23公里')
    expect(formatDistance(null)).toBe('')
  })
})
