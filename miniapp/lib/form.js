// What the edit forms share (batch, event, profile): turning typed text into API values, the
// server's 422 field messages under the fields they name, and "has anything changed" for the
// leave-with-unsaved-changes confirm. No Vue here: unit-tested in tests/form.test.js.
export { fromLocalInput, toLocalInput } from './format.js'
export { parseYuan, yuanInput } from './money.js'

/** '12' → 12; '' or anything but 1–9 digits → NaN (so a check `n >= 1` fails). */
export function parseCount(text) {
  const clean = String(text ?? '').trim()
  return /^\d{1,9}$/.test(clean) ? Number(clean) : NaN
}

/** A count → its field text: 12 → '12', null → ''. */
export const countInput = (n) => (n == null ? '' : String(n))

/** '50' or '33.33' (%) → basis points 5000 / 3333; null when not 0.01–100 with ≤ 2 decimals. */
export function percentToBp(text) {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(String(text ?? '').trim().replace(/[%％]$/, ''))
  if (!match) return null
  const bp = Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'))
  return bp >= 1 && bp <= 10000 ? bp : null
}

/** The first message found in a marshmallow error value (string, list or nested object). */
export function firstMessage(value) {
  if (Array.isArray(value)) return value.map(firstMessage).find(Boolean) || ''
  if (value && typeof value === 'object') return Object.values(value).map(firstMessage).find(Boolean) || ''
  return typeof value === 'string' ? value : ''
}

/**
 * A 422's details → {field: message}. Fields listed in `nested` hold an object of their own and
 * come out as 'parent.child'; `messages` replaces the server's words for a field.
 */
export function serverFieldErrors(details, { nested = [], messages = {} } = {}) {
  const root = details?.json ?? details ?? {}
  const out = {}
  for (const [key, value] of Object.entries(root)) {
    if (nested.includes(key) && value && !Array.isArray(value) && typeof value === 'object') {
      for (const [inner, message] of Object.entries(value)) out[`${key}.${inner}`] = firstMessage(message)
    } else {
      out[key] = messages[key] || firstMessage(value)
    }
  }
  return out
}

/**
 * A 422's details → {leaf field: first message}, for forms whose fields are named by their leaf
 * (e.g. {json: {profile: {credit_code: [...]}}} → {credit_code: '…'}); the `json`/`query` wrapper is skipped.
 */
export function fieldErrors(details) {
  const out = {}
  const walk = (node) => {
    if (!node || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value) || typeof value === 'string') {
        if (!(key in out)) out[key] = firstMessage(value) || String(value[0] ?? '')
      } else {
        walk(value)
      }
    }
  }
  walk(details?.json ?? details?.query ?? details)
  return out
}

/** A copy of a form to compare against later (JSON-shaped values: text, numbers, lists, flags). */
export const snapshot = (form) => JSON.stringify(form)

/** Has the form changed since `saved` (a snapshot)? */
export const isDirty = (form, saved) => saved != null && snapshot(form) !== saved

/**
 * What a refused save says: `fields` ({field: message}, from a 422's details through `fields`) or
 * null, and the toast — the server's words, 请按提示修改后再<verb> for a 422 without any, and
 * 网络不可用 when nothing answered.
 */
export function saveFailure(error, { verb = '保存', fields = fieldErrors } = {}) {
  if (error?.status === 422) return { fields: fields(error.details), toast: error.message || `请按提示修改后再${verb}` }
  return { fields: null, toast: error?.status === 0 ? `网络不可用，请联网后再${verb}` : error?.message || `${verb}失败，请稍后重试` }
}

const LOCAL_INPUT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/

/**
 * A wall-clock input moved by as much as `from` moved to `to` (all three datetime-local texts):
 * '2026-12-08T12:00' with 12-08 14:00 → 12-15 09:00 becomes '2026-12-15T07:00'. Unchanged when any is unreadable.
 */
export function shiftLocalInput(text, from, to) {
  const ms = (t) => (LOCAL_INPUT.test(t ?? '') ? Date.parse(`${t.length === 16 ? `${t}:00` : t}Z`) : NaN)
  const [at, a, b] = [ms(text), ms(from), ms(to)]
  if ([at, a, b].some(Number.isNaN)) return text
  return new Date(at + b - a).toISOString().slice(0, text.length)
}

/** The first of `fields` (in the order the form shows them) with a message in `errors`, or null. */
export function firstErrorField(errors, fields) {
  return fields.find((field) => errors?.[field]) ?? null
}
