// Check-in at a station, street, market or space (pages/station-scanner): staff scan a person's
// personal code with this phone, a provisioned scanner device, pick why they came and confirm.
//   online:  POST /api/checkins/sync with that one scan (offline: false) and the server's answer;
//   offline: (no network, no answer, a timeout) the code was verified here, the scan is kept in the
//            outbox (op VISIT_OP) and sent by the outbox's replay when the network is back.
// The device token and `sent_at` (the device's clock at the moment of sending, from which the server
// corrects a device whose clock is off) are added by sendQueued(), this op's own outbox sender; it
// also sends the other queued scans of the same device in the same request (one sync for a whole
// day offline) and writes the server's answer of each scan into this phone's scan log.
//
// Kept in IndexedDB (`cyql-visit-scan`), per scanner device:
//   scans: {nonce, device_id, user_id, name, purpose, note, scanned_at, offline, local, state, result,
//           code, message, conflict, local_result, outbox_nonce, sent_at}  (local: refused here)
//          state: 'done' (answered online, or refused here) | 'queued' | 'sent' (answered after the
//          queue went) | 'failed' (the server refused the upload itself)
//   meta:  {device_id, today (GET /api/checkins/today), today_at, last_sync_at, purpose}
// This file is imported at start-up (lib/visit-scan-op.js), so it stays light: no code verification.
import { openDB } from 'idb'
import { ApiError, apiRequest } from './api.js'

export const VISIT_OP = 'visit_scan'
export const SYNC_URL = '/api/checkins/sync'
export const TODAY_URL = '/api/checkins/today'
export const BATCH_MAX = 200

export const PURPOSES = Object.freeze([
  { value: 'policy', label: '政策咨询' },
  { value: 'guidance', label: '创业指导' },
  { value: 'loan', label: '贷款咨询' },
  { value: 'event', label: '参加活动' },
  { value: 'other', label: '其他' },
])
export const PURPOSE_LABELS = Object.freeze(Object.fromEntries(PURPOSES.map((p) => [p.value, p.label])))
export const DEFAULT_PURPOSE = 'policy'

// A personal code this phone could not verify while online: the server decides (a key newer than
// the offline data, or this phone's clock behind).
const SERVER_DECIDES = new Set(['unknown_key', 'not_yet_valid'])
const DEVICE_GONE = new Set(['device_unauthorized', 'device_revoked'])

// --- pure ----------------------------------------------------------------------------------------

export { newNonce } from './nonce.js'

const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
const clockFormat = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/** An instant → its day in Beijing, 'YYYY-MM-DD' (the server counts visits per local day). */
export function beijingDay(value) {
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? '' : dayFormat.format(date)
}

/** ISO instant → '14:02' in Beijing time. */
export function hhmm(value) {
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? '' : clockFormat.format(date)
}

/** How staff call someone they scanned: the server's masked name, else 创业者 #<user id>. */
export function personLabel({ name, userId } = {}) {
  if (name) return name
  return userId != null ? `创业者 #${userId}` : '创业者（待服务器核验）'
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

/** '12.5' (元) → 1250 fen; '' → null; not an amount → NaN. */
export function parseYuan(text) {
  const clean = String(text ?? '').replace(/[,，\s]/g, '')
  if (!clean) return null
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(clean)) return Number.NaN
  const [whole, part = ''] = clean.split('.')
  return Number(whole) * 100 + Number(part.padEnd(2, '0'))
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
    const amount = parseYuan(form?.amount)
    if (Number.isNaN(amount)) return { error: { field: 'amount', message: '拟贷金额请填写数字（元），最多两位小数' } }
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

export const SCAN_TONE = Object.freeze({ ok: 'tag_green', duplicate: 'tag_orange', forced: 'tag_red', rejected: 'tag_red' })
const RESULT_TEXT = Object.freeze({ ok: '签到成功', duplicate: '今日已到访', forced: '离线放行待核查', rejected: '未通过' })

/** A scan of the log in words: {text, tone} of its state, and its flags [{text, tone}]. */
export function scanStatus(scan) {
  const flags = []
  if (scan.offline) flags.push({ key: 'offline', text: '离线', tone: '' })
  if (scan.conflict) flags.push({ key: 'conflict', text: '多设备重复', tone: 'tag_orange' })
  if (scan.state === 'queued') return { text: '待上传', tone: 'tag_blue', flags }
  if (scan.state === 'failed') return { text: '上传被拒绝', tone: 'tag_red', flags }
  const text = RESULT_TEXT[scan.result] || scan.result
  return { text: scan.local && scan.result === 'rejected' ? '未通过（本机）' : text, tone: SCAN_TONE[scan.result] || '', flags }
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

export const VISIT_SCAN_DB = 'cyql-visit-scan'
const VERSION = 1
const KEEP_DAYS = 7

let dbPromise = null

function db() {
  if (!dbPromise) {
    dbPromise = openDB(VISIT_SCAN_DB, VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('scans', { keyPath: 'nonce' }).createIndex('by_device', 'device_id')
          database.createObjectStore('meta', { keyPath: 'device_id' })
        }
      },
      blocking() {
        closeVisitScanDB()
      },
    })
  }
  return dbPromise
}

export async function closeVisitScanDB() {
  const pending = dbPromise
  dbPromise = null
  if (pending) (await pending).close()
}

/** This device's scans, newest first. */
export async function listScans(deviceId) {
  const all = await (await db()).getAllFromIndex('scans', 'by_device', deviceId)
  return all.sort((a, b) => (a.scanned_at < b.scanned_at ? 1 : -1))
}

export async function putScan(scan) {
  await (await db()).put('scans', scan)
  return scan
}

/** Forget answered scans older than a week (queued ones stay until they are sent). */
export async function pruneScans(deviceId, now = Date.now()) {
  const cutoff = new Date(now - KEEP_DAYS * 86_400_000).toISOString()
  const old = (await listScans(deviceId)).filter((s) => s.state !== 'queued' && s.scanned_at < cutoff)
  if (!old.length) return 0
  const tx = (await db()).transaction('scans', 'readwrite')
  for (const scan of old) tx.store.delete(scan.nonce)
  await tx.done
  return old.length
}

export async function loadMeta(deviceId) {
  return (await (await db()).get('meta', deviceId)) || { device_id: deviceId }
}

export async function saveMeta(deviceId, changes) {
  const database = await db()
  const next = { ...((await database.get('meta', deviceId)) || {}), ...changes, device_id: deviceId }
  await database.put('meta', next)
  return next
}

/** Write the server's answers into the scans they answer (`sent`); returns the scans changed. */
export async function recordResults(results, { at = new Date().toISOString() } = {}) {
  const database = await db()
  const changed = []
  for (const answer of results || []) {
    const scan = await database.get('scans', answer.nonce)
    if (!scan) continue
    changed.push({
      ...scan,
      state: scan.state === 'queued' ? 'sent' : scan.state,
      result: answer.result,
      code: answer.code ?? null,
      message: answer.message,
      conflict: Boolean(answer.conflict),
      name: answer.visit?.name || scan.name || '',
      sent_at: at,
    })
  }
  if (changed.length) {
    const tx = database.transaction('scans', 'readwrite')
    for (const scan of changed) tx.store.put(scan)
    await tx.done
  }
  return changed
}

// --- talking to the server -----------------------------------------------------------------------

/**
 * POST /api/checkins/sync: these items, `sent_at` = this device's clock now. With the device token
 * (X-Device-Token; the staff's sign-in is not needed and a refused token must not sign them out),
 * or signed in as staff when this phone no longer holds a token. Resolves the answer's body.
 */
export async function postBatch(items, { token, placeId, signal, request = apiRequest, now = Date.now } = {}) {
  const body = { items, sent_at: new Date(now()).toISOString() }
  if (placeId) body.place_id = placeId
  const options = { method: 'POST', body, signal, authRedirect: false }
  if (token) Object.assign(options, { auth: false, headers: { 'X-Device-Token': token } })
  try {
    return (await request(SYNC_URL, options)).data
  } catch (error) {
    // A scanner the server no longer knows: hand the scans in as the signed-in staff member.
    if (token && error instanceof ApiError && error.status === 401 && DEVICE_GONE.has(error.code)) {
      return postBatch(items, { placeId, signal, request, now })
    }
    throw error
  }
}

/**
 * The outbox sender of VISIT_OP (same contract as lib/outbox.js defaultSender: {status, body} for
 * any HTTP answer, throws when there was none). A scan already answered as part of an earlier
 * batch is done at once; otherwise this scan goes with the other queued scans of its device.
 */
export async function sendQueued(item, { queued = async () => [], request = apiRequest, now = Date.now } = {}) {
  const { device_id: deviceId, device_token: token, place_id: placeId } = item.payload || {}
  const heads = item.payload?.items || []
  const database = await db()
  const known = await Promise.all(heads.map((i) => database.get('scans', i.nonce)))
  if (heads.length && known.every((s) => s?.state === 'sent')) return { status: 200, body: null }

  const others = (await queued())
    .filter((o) => o.op === VISIT_OP && o.nonce !== item.nonce && o.payload?.device_token === token && o.payload?.place_id === placeId)
    .flatMap((o) => o.payload.items || [])
  const seen = new Set()
  const batch = [...heads, ...others].filter((i) => !seen.has(i.nonce) && seen.add(i.nonce)).slice(0, BATCH_MAX)

  const send = async (items) => {
    const data = await postBatch(items, { token, placeId, request, now })
    const at = new Date(now()).toISOString()
    await recordResults(data?.results, { at }).catch(() => [])
    if (deviceId != null) await saveMeta(deviceId, { last_sync_at: at }).catch(() => null)
    return { status: 200, body: data }
  }
  try {
    try {
      return await send(batch)
    } catch (error) {
      // One bad scan must not hold the others back: a refused batch is retried as this scan alone.
      const refused = error instanceof ApiError && error.status >= 400 && error.status < 500 && ![401, 408, 429].includes(error.status)
      if (refused && batch.length > heads.length) return await send(heads)
      throw error
    }
  } catch (error) {
    if (error instanceof ApiError && error.status) {
      return { status: error.status, body: { code: error.code, message: error.message, details: error.details } }
    }
    throw error // no answer: the outbox keeps the scan
  }
}

/** GET /api/checkins/today for the device's place. */
export async function fetchToday({ token, signal, request = apiRequest }) {
  const options = token ? { auth: false, headers: { 'X-Device-Token': token }, signal } : { signal }
  return (await request(TODAY_URL, options)).data
}
