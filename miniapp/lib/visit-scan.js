// Check-in at a station, street, market or space (pages/station-scanner): staff scan a person's
// personal code with this phone, a provisioned scanner device, pick why they came and confirm.
//   online:  the one scan goes to the server at once (lib/api/checkins.js postVisitSync);
//   offline: (no network, no answer, a timeout) the code was verified here, the scan is kept in the
//            outbox (op VISIT_OP, lib/visit-scan-op.js: the check-in upload of lib/scan-op.js) and
//            sent, with the device's other queued scans, when the network is back.
// Kept in the app's database (lib/db.js), per scanner device:
//   scans (lib/scan-log.js, log placeLog(device)): {…, user_id, purpose, note}
//   visit_meta: {device_id, today (today's figures), today_at, last_sync_at, purpose}
import { db } from './db.js'
import { parseYuan } from './money.js'
import { beijingDay } from './format.js'

export const PURPOSES = Object.freeze([
  { value: 'policy', label: '政策咨询' },
  { value: 'guidance', label: '创业指导' },
  { value: 'loan', label: '贷款咨询' },
  { value: 'event', label: '参加活动' },
  { value: 'other', label: '其他' },
])
export const PURPOSE_LABELS = Object.freeze(Object.fromEntries(PURPOSES.map((p) => [p.value, p.label])))
export const DEFAULT_PURPOSE = 'policy'
/** The most a 拟贷金额 may be, in fen (the server's limit). */
export const LOAN_MAX_FEN = 10 ** 11

// A personal code this phone could not verify while online: the server decides (a key newer than
// the offline data, or this phone's clock behind).
const SERVER_DECIDES = new Set(['unknown_key', 'not_yet_valid'])

// --- pure ----------------------------------------------------------------------------------------

/** How staff call someone they scanned: the server's masked name, else a neutral word (never the user id:
 * the name is not in the code, so before the server answers the person is 已核验的创业者). */
export function personLabel({ name, userId } = {}) {
  if (name) return name
  return userId != null ? '已核验的创业者' : '创业者（待服务器核验）'
}

/**
 * The local verdict on a scanned personal code (`verdict` from lib/scanner-verify.js verifyScanned).
 * Online, a code this phone cannot judge (unknown key, its clock behind) goes on to the server.
 * → {ok: true, userId, unverified?: code} | {ok: false, code, message}
 */
export function judgeCode(verdict, { online, messages = {} }) {
  if (verdict?.ok) return { ok: true, userId: verdict.userId }
  const code = verdict?.error || 'malformed'
  if (online && SERVER_DECIDES.has(code)) return { ok: true, userId: null, unverified: code }
  return { ok: false, code, message: messages[code] || verdict?.message || '无法识别的二维码' }
}

/**
 * The 服务记录 form → {note} (null when nothing was written) or {error: {field, message}}.
 * The loan fields count only for 贷款咨询.
 */
export function buildNote(form, purpose) {
  const text = String(form?.text || '').trim()
  if (text.length > 500) return { error: { field: 'text', message: '服务记录不能超过 500 字' } }
  const note = { text, loan_amount: null, business_type: '', referred_bank: '' }
  if (purpose === 'loan') {
    const written = String(form?.amount ?? '').trim()
    const amount = written ? parseYuan(written) : null
    if (written && amount == null) return { error: { field: 'amount', message: '拟贷金额请填写数字（元），最多两位小数' } }
    if (amount > LOAN_MAX_FEN) return { error: { field: 'amount', message: '拟贷金额不能超过 10 亿元' } }
    note.loan_amount = amount
    note.business_type = String(form?.businessType || '').trim()
    note.referred_bank = String(form?.referredBank || '').trim()
    if (note.business_type.length > 64) return { error: { field: 'businessType', message: '经营类型不能超过 64 字' } }
    if (note.referred_bank.length > 64) return { error: { field: 'referredBank', message: '推荐银行不能超过 64 字' } }
  }
  const empty = !note.text && note.loan_amount == null && !note.business_type && !note.referred_bank
  return { note: empty ? null : note }
}

/** One item of POST /api/checkins/sync. */
export function syncItem({ nonce, code, purpose, scannedAt, offline, note = null }) {
  return { nonce, code, purpose, scanned_at: scannedAt, offline: Boolean(offline), note }
}

/** What the outbox keeps for a scan accepted offline (the token stays on this phone: see sendQueued). */
export function queuePayload({ device, token, item }) {
  return { device_id: device.id, place_id: device.place_id, device_token: token || null, items: [item] }
}

/** This phone's earlier scan of the person today that made or met a visit (or is waiting to), or null. */
export function seenToday(scans, userId, now = new Date()) {
  if (userId == null) return null
  const day = beijingDay(now)
  const counted = (s) => s.state === 'queued' || ['ok', 'duplicate', 'forced'].includes(s.result)
  const mine = (scans || []).filter((s) => s.user_id === userId && beijingDay(s.scanned_at) === day && counted(s))
  mine.sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : 1))
  return mine[0] || null
}

/**
 * Today's visits at the place: the server's figures (kept for offline) plus the scans that wait in
 * the queue and would each add a visit. → {total, by_purpose, unsent, known: figures are today's}
 */
export function todayFigures(today, scans, now = new Date()) {
  const day = beijingDay(now)
  const known = Boolean(today && today.day === day)
  const byPurpose = Object.fromEntries(PURPOSES.map((p) => [p.value, known ? today.by_purpose?.[p.value] || 0 : 0]))
  let unsent = 0
  for (const scan of scans || []) {
    if (scan.state !== 'queued' || scan.local_result !== 'ok' || beijingDay(scan.scanned_at) !== day) continue
    unsent += 1
    byPurpose[scan.purpose] = (byPurpose[scan.purpose] || 0) + 1
  }
  const total = Object.values(byPurpose).reduce((a, b) => a + b, 0)
  return { total, by_purpose: byPurpose, unsent, known }
}

/** The big answer card for a server's answer to one scan. */
export function answerCard(answer, { userId = null } = {}) {
  const name = personLabel({ name: answer.visit?.name, userId })
  const purpose = answer.visit?.purpose_label || ''
  if (answer.result === 'ok') return { tone: 'ok', result: 'ok', title: '签到成功', name, detail: purpose, flags: [] }
  if (answer.result === 'duplicate') {
    return { tone: 'dup', result: 'duplicate', title: '今日已到访', name, detail: answer.message, flags: answer.conflict ? ['多设备重复'] : [] }
  }
  if (answer.result === 'forced') return { tone: 'bad', result: 'forced', title: '离线放行待核查', name, detail: answer.message, flags: [] }
  return { tone: 'bad', result: 'rejected', title: answer.message || '签到未通过', name: userId != null ? name : '', detail: '请对方刷新个人码后重新出示', flags: [] }
}

// --- stored --------------------------------------------------------------------------------------

export async function loadMeta(deviceId) {
  return (await (await db()).get('visit_meta', deviceId)) || { device_id: deviceId }
}

export async function saveMeta(deviceId, changes) {
  const tx = (await db()).transaction('visit_meta', 'readwrite')
  const next = { ...((await tx.store.get(deviceId)) || {}), ...changes, device_id: deviceId }
  tx.store.put(next)
  await tx.done
  return next
}
