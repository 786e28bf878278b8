// Form checks done on the phone before anything is sent. Messages are shown to users as-is.

export const PHONE_RE = /^1[3-9]\d{9}$/
export const SMS_CODE_RE = /^\d{4,6}$/

/** Mainland mobile number: 11 digits starting 13–19. Returns a Chinese message, or '' when valid. */
export function validatePhone(value) {
  const phone = String(value ?? '').trim()
  if (!phone) return '请输入手机号'
  if (!PHONE_RE.test(phone)) return '请输入正确的11位手机号'
  return ''
}

export function validateSmsCode(value) {
  const code = String(value ?? '').trim()
  if (!code) return '请输入短信验证码'
  if (!SMS_CODE_RE.test(code)) return '验证码为4–6位数字'
  return ''
}

// A 422's details → {field: message} lives with the other form helpers (lib/form.js); kept here
// too because the checks below and it are used together.
export { fieldErrors } from './form.js'

// 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, the last one a check character.
const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

export function validateCreditCode(value) {
  const code = String(value ?? '').trim().toUpperCase()
  if (!code) return '请输入统一社会信用代码'
  if (code.length !== 18 || [...code].some((ch) => !CREDIT_ALPHABET.includes(ch))) {
    return '统一社会信用代码应为18位数字或大写字母'
  }
  const sum = CREDIT_WEIGHTS.reduce((acc, w, i) => acc + CREDIT_ALPHABET.indexOf(code[i]) * w, 0)
  const check = CREDIT_ALPHABET[(31 - (sum % 31)) % 31]
  if (code[17] !== check) return '统一社会信用代码校验位不正确，请核对'
  return ''
}

// 居民身份证号 (GB 11643-1999): 17 digits + check digit (0–9 or X), with a real birth date.
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

export function validateIdNumber(value) {
  const id = String(value ?? '').trim().toUpperCase()
  if (!id) return '请输入身份证号'
  if (!/^\d{17}[\dX]$/.test(id)) return '身份证号应为18位，最后一位可以是X'
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  const birth = new Date(Date.UTC(y, m - 1, d))
  if (y < 1900 || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d || birth > new Date()) {
    return '身份证号中的出生日期不正确'
  }
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + Number(id[i]) * w, 0)
  if (id[17] !== ID_CHECK[sum % 11]) return '身份证号校验位不正确，请核对'
  return ''
}
