// The organiser's door (pages/event-door): what the phone keeps to check tickets in without a
// network, the offline verdict on one scanned ticket, and what its scans and answers say.
//
// Kept per user and event in the app's database (lib/db.js):
//   door_events: {key, user_id, event_id, door (door list), keys (signing keys), counts, synced_at}
//   scans (lib/scan-log.js, log doorLog(user, event)): {…, registration_id, name}
// A scan let in offline is queued in the outbox (op DOOR_OP, lib/door-op.js, the check-in upload of
// lib/scan-op.js); the server takes the scan's own nonce as its idempotency key, so a queue sent
// twice checks in once.
import { authentic, fromText, keysFromListing } from './codes.js'
import { db } from './db.js'
import { formatClock as hhmm } from './format.js'
import { verifyScanned } from './scanner-verify.js'

export { DOOR_OP } from './door-op.js'

// --- pure ----------------------------------------------------------------------------------------

/** GET /api/keys → the stored shape lib/scanner-verify.js verifies tickets with. */
export function keysBundle(listing) {
  return { keys: listing || [], revoked_credentials: [], revoked_tickets: [], blocked_users: [], window: 30, skew: 20 }
}

export const TICKET_MESSAGES = Object.freeze({
  malformed: '无法识别的二维码，请出示「我的活动」中的电子票',
  bad_signature: '电子票签名无效，可能是伪造的',
  unknown_key: '签名密钥未知，请联网打开本页更新后重试',
  wrong_type: '这不是活动电子票，请出示「我的活动」中的电子票',
  not_yet_valid: '电子票尚未生效（活动开始前 3 小时起可签到）',
  expired: '电子票已过期（活动结束 1 小时后失效）',
  revoked: '电子票已作废',
  wrong_event: '这张票不是本场活动的',
  not_registered: '不在签到名单中（未报名成功、待审核、候补中或已取消）',
  no_data: '本机还没有签到名单，请联网打开本页一次',
})

/** When this registration checked in, from the door list or this phone's own scans; null if not yet. */
export function checkedInAt(door, scans, registrationId) {
  const known = door?.checked_in?.[String(registrationId)]
  if (known) return known
  const admitted = (s) => s.result === 'ok' || (s.state === 'queued' && s.local_result === 'ok')
  const mine = (scans || []).filter((s) => s.registration_id === registrationId && admitted(s))
  mine.sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : 1))
  return mine[0]?.scanned_at || null
}

/**
 * The offline verdict on a scanned ticket, as the server would give it: the signature and time
 * window (keys), this event, a seat in the door list, not already in.
 * → {result: 'ok' | 'duplicate' | 'rejected', code, message, registrationId, checkedInAt}
 */
export function judgeOffline(text, { eventId, door, keys, scans = [], now = Date.now() / 1000 }) {
  const refuse = (code, registrationId = null) => ({ result: 'rejected', code, message: TICKET_MESSAGES[code] || TICKET_MESSAGES.malformed, registrationId, checkedInAt: null })
  if (!door || !keys) return refuse('no_data')
  let verdict
  try {
    verdict = verifyScanned(String(text).trim(), 'ticket', keys, now)
  } catch {
    verdict = { error: 'malformed' }
  }
  if (!verdict.ok) {
    // An authentic ticket of another event outside its window: say which problem matters here.
    if (verdict.error === 'not_yet_valid' || verdict.error === 'expired') {
      const other = eventOf(text, keys)
      if (other != null && other !== eventId) return refuse('wrong_event')
    }
    return refuse(verdict.error)
  }
  const registrationId = verdict.fields.registration_id
  if (verdict.fields.event_id !== eventId) return refuse('wrong_event', registrationId)
  if (!(door.registered || []).includes(registrationId)) return refuse('not_registered', registrationId)
  const at = checkedInAt(door, scans, registrationId)
  if (at) return { result: 'duplicate', code: null, message: `已签到（${hhmm(at)}）`, registrationId, checkedInAt: at }
  return { result: 'ok', code: null, message: '签到成功（离线）', registrationId, checkedInAt: new Date(now * 1000).toISOString() }
}

function eventOf(text, keys) {
  try {
    return authentic(fromText(String(text).trim()), { keys: keysFromListing(keys.keys) }).fields.event_id
  } catch {
    return null
  }
}

/** The outbox payload for one scan let in offline. */
export function offlinePayload(eventId, { nonce, code, scannedAt }) {
  return { event_id: eventId, items: [{ nonce, code, scanned_at: scannedAt, offline: true }] }
}

const FORCED_REASONS = Object.freeze({
  revoked: '电子票已作废', registration_cancelled: '该报名已取消', event_cancelled: '活动已取消',
  not_yet_valid: '电子票尚未生效', expired: '电子票已过期', device_revoked: '扫码设备已停用',
})

/** A door scan row (GET …/scans) in words. */
export function scanResultText(row) {
  if (row.result === 'ok') return '签到成功'
  if (row.result === 'duplicate') return '重复扫码（此前已签到）'
  if (row.result === 'forced') return `离线放行，服务器不认可：${FORCED_REASONS[row.reason] || row.reason || '原因未知'}`
  return row.result
}

export { SCAN_TONE } from './scan-log.js'

/** What the door's scan log and result card call each answer. */
export const DOOR_RESULT_TEXT = Object.freeze({ ok: '签到成功', duplicate: '已签到过', forced: '离线放行待核查', rejected: '未放行' })

// --- stored ----------------------------------------------------------------------------------------

export const doorKey = (userId, eventId) => `${userId ?? 'anon'}|${eventId}`

export async function loadDoor(userId, eventId) {
  return (await (await db()).get('door_events', doorKey(userId, eventId))) || null
}

/** Merge `changes` into the stored record of this event and keep it. */
export async function saveDoor(userId, eventId, changes) {
  const key = doorKey(userId, eventId)
  const tx = (await db()).transaction('door_events', 'readwrite')
  const next = { key, user_id: userId, event_id: eventId, ...((await tx.store.get(key)) || {}), ...changes }
  tx.store.put(next)
  await tx.done
  return next
}
