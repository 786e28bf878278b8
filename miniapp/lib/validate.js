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

/**
 * Turn a 422 `details` into {field: '第一条消息'}. Nested objects (e.g. {json: {profile: {credit_code:
 * [...]}}}) are flattened to their leaf field names; the `json`/`query` wrapper is skipped.
 */
export function fieldErrors(details) {
  const out = {}
  const walk = (node) => {
    if (!node || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value)) {
        if (!(key in out)) out[key] = String(value.find((v) => typeof v === 'string') ?? value[0] ?? '')
      } else if (typeof value === 'string') {
        if (!(key in out)) out[key] = value
      } else {
        walk(value)
      }
    }
  }
  walk(details?.json ?? details?.query ?? details)
  return out
}
