// This phone as a place's scanner (扫码设备). A manager shows a one-time setup code; this phone
// trades it for a device token (POST /api/scanner/provision) and keeps {device, token} here, in
// IndexedDB — the phone of a station, not of the person signed in, so it stays a scanner across
// logins until an administrator stops it. With the token it keeps the offline bundle fresh
// (GET /api/scanner/bundle, header X-Device-Token): the full bundle once, then deltas after
// ?since=<cursor>, each conditional on the last ETag (304 = nothing new). The bundle itself is
// stored and applied by lib/scanner-verify.js, which also verifies codes with it.
//
// A 401 `device_revoked` / `device_unauthorized` means the server no longer knows this token:
// everything is forgotten here and refreshBundle() throws ScannerStopped.
import { apiRequest } from './api.js'
import { SCANNER_BUNDLE_URL, SCANNER_PROVISION_URL, createDemoScannerSetup } from './api/checkins.js'
import { closeDB, db } from './db.js'
import { clearStored, loadStored, nextQuery, storeBundle } from './scanner-verify.js'

const STORE = 'scanner'
const KEY = 'device'

export { SCANNER_BUNDLE_URL as BUNDLE_URL, SCANNER_PROVISION_URL as PROVISION_URL }
export const STOPPED_MESSAGE = '该设备已停用，请联系管理员重新开通'
const STOPPED_CODES = new Set(['device_revoked', 'device_unauthorized'])

// --- the device record -------------------------------------------------------------------------
// {device: {id, place_id, name, created_at}, token, provisioned_at, etag, synced_at}

/** Close the app's database connection (tests: a page reload). */
export const closeScannerDeviceDB = closeDB

/** What this phone holds as a scanner, or null when it is not one (no network). */
export async function loadScanner() {
  return (await (await db()).get(STORE, KEY)) || null
}

async function saveScanner(record) {
  await (await db()).put(STORE, record, KEY)
  return record
}

/** Forget the token and the offline data: this phone is no longer a scanner. */
export async function clearScanner() {
  await (await db()).delete(STORE, KEY)
  await clearStored()
}

export class ScannerStopped extends Error {
  constructor(code) {
    super(STOPPED_MESSAGE)
    this.name = 'ScannerStopped'
    this.code = code
  }
}

/**
 * Turn this phone into a scanner with a setup code. Resolves the stored record; rejects with the
 * server's ApiError (setup_invalid, setup_used, expired, bad_signature, validation …).
 */
export async function provisionScanner({ setupCode, name }) {
  const { data } = await apiRequest(SCANNER_PROVISION_URL, {
    method: 'POST', auth: false, body: { setup_code: setupCode.trim(), name: name.trim() },
  })
  await clearStored() // offline data of an earlier provisioning (another place) must not linger
  return saveScanner({
    device: data.device,
    token: data.token,
    provisioned_at: new Date().toISOString(),
    etag: null,
    synced_at: null,
  })
}

export const DEMO_SCANNER_NAME = '演示驿站前台手机'

/**
 * Demo mode, right after the station staff's demo login: a phone that is no scanner yet becomes
 * their station's scanner at once (a setup code for their own place, traded as any other), so
 * 扫码签到 works without an administrator. Resolves the record, the one already held, or rejects.
 */
export async function provisionDemoScanner(accessToken) {
  const held = await loadScanner()
  if (held) return held
  const setup = await createDemoScannerSetup(accessToken)
  return provisionScanner({ setupCode: setup.setup_code, name: DEMO_SCANNER_NAME })
}

/** Is this text a setup code (CY:…), as read from the manager's QR? */
export const looksLikeSetupCode = (text) => /^CY:[0-9A-Z $%*+\-./:]+$/.test(String(text ?? '').trim())

// --- refreshing the bundle ---------------------------------------------------------------------

async function fetchBundle(record) {
  let stored = await loadStored()
  if (stored && stored.device?.id !== record.device.id) {
    await clearStored() // another device's data: start over with a full bundle
    stored = null
  }
  const query = nextQuery(stored)
  const headers = { 'X-Device-Token': record.token }
  if (stored && record.etag) headers['If-None-Match'] = record.etag
  let response
  try {
    response = await apiRequest(`${SCANNER_BUNDLE_URL}${query}`, { auth: false, headers })
  } catch (error) {
    if (STOPPED_CODES.has(error?.code)) {
      // Only if the token refused is still the one stored (not a fresh provisioning meanwhile).
      if ((await loadScanner())?.token === record.token) await clearScanner()
      throw new ScannerStopped(error.code)
    }
    throw error
  }
  // The fetch is over; what follows are short IndexedDB writes of their own.
  if ((await loadScanner())?.token !== record.token) return { status: 'superseded', stored: await loadStored() }
  const syncedAt = new Date().toISOString()
  if (response.status === 304) {
    await saveScanner({ ...record, synced_at: syncedAt })
    return { status: 'not_modified', stored }
  }
  const next = await storeBundle(response.data)
  await saveScanner({
    ...record,
    device: { ...record.device, name: response.data.device?.name ?? record.device.name }, // renamed on the server
    etag: response.headers.get('ETag') || null,
    synced_at: syncedAt,
  })
  return { status: response.data.full ? 'full' : 'delta', stored: next }
}

let refreshing = null

/**
 * Bring the offline bundle up to date. Concurrent callers share one request.
 * Resolves {status: 'full'|'delta'|'not_modified'|'superseded', stored} or null when this phone is
 * not a scanner; rejects with ScannerStopped (local data cleared) or ApiError (status 0 = offline).
 */
export function refreshBundle() {
  if (!refreshing) {
    refreshing = (async () => {
      const record = await loadScanner()
      if (!record) return null
      return fetchBundle(record)
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

// --- what the scanner shows --------------------------------------------------------------------

/** What staff read when a code is refused: one message per code of lib/codes.js (all seven). */
export const VERIFY_MESSAGES = Object.freeze({
  malformed: '无法识别的二维码，请对方出示「创业齐鲁」个人码',
  unknown_key: '签名密钥未知，请联网刷新离线数据后重试',
  bad_signature: '二维码签名无效，可能是伪造的，请勿放行',
  wrong_type: '这不是个人码，请对方出示「创业齐鲁」个人码',
  not_yet_valid: '二维码时间晚于本机时间，请检查本机和对方手机的时间设置',
  expired: '二维码已过期，请对方刷新后重新出示',
  revoked: '二维码已作废（设备已移除或账号已停用），请对方重新登录后出示',
})

const SETUP_INVALID = '开通码无效，请确认复制完整（以 CY: 开头），或请管理员重新生成'
const PROVISION_MESSAGES = Object.freeze({
  setup_used: '开通码已使用过，请管理员重新生成',
  expired: '开通码已过期（10 分钟内有效），请管理员重新生成',
  not_yet_valid: '开通码尚未生效，请检查本机时间设置',
  setup_invalid: SETUP_INVALID,
  malformed: SETUP_INVALID,
  bad_signature: SETUP_INVALID,
  unknown_key: SETUP_INVALID,
  wrong_type: '这不是开通码，请粘贴「扫码设备管理」里生成的开通码',
})

/** Why provisioning failed, in the words of this screen (开通码); otherwise the server's message. */
export function provisionMessage(error) {
  if (error?.status === 0) return '网络不可用：开通需要联网，请连上网络后重试'
  return PROVISION_MESSAGES[error?.code] || error?.message || '开通失败，请稍后重试'
}

export const PURPOSE_LABELS = Object.freeze({ identify: '个人码（签到、身份核验）', pay: '付款码（创业券支付）' })

export function verifyMessage(code) {
  return VERIFY_MESSAGES[code] || VERIFY_MESSAGES.malformed
}

/** 5 → '***5', 1234 → '***34': the last digits only (not even the length), to tell people apart at the desk. */
export function maskUserId(id) {
  const text = String(id ?? '')
  if (!text) return ''
  return `***${text.slice(text.length > 2 ? -2 : -1)}`
}

const clock = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23',
})

/** Seconds or an ISO string → '11-22 10:30:05' in Beijing time, whatever the phone's zone. */
export function formatMoment(value) {
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value)
  if (Number.isNaN(date.getTime())) return ''
  const p = Object.fromEntries(clock.formatToParts(date).map((x) => [x.type, x.value]))
  return `${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** A default name for this phone as a scanner, from the user agent: '前台扫码手机（Android · Chrome）'. */
export function defaultScannerName(label) {
  return label ? `前台扫码手机（${label}）` : '前台扫码手机'
}
