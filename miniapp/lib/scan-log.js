// The scan log: this phone's own record of each scan at a door or a station, kept in the app's
// database (lib/db.js, store `scans`), one log per door ('door|<user>|<event>') or scanner device
// ('place|<device>'). A row:
//   {nonce, log, scanned_at, offline, state, local, local_result, result, code, message, conflict,
//    name, outbox_nonce, sent_at, …what the page adds (registration_id, user_id, purpose, note)}
//   state: 'done' (answered online, or refused here) | 'queued' (in the outbox) | 'sent' (the
//          server answered after the queue went) | 'failed' (the server refused the upload itself)
//   local_result: what this phone decided offline; result: what the server said (null while queued).
import { db } from './db.js'

export const KEEP_DAYS = 7

/** The tag colour of each answer, in the log and in the organiser's scan list. */
export const SCAN_TONE = Object.freeze({ ok: 'tag_green', duplicate: 'tag_orange', forced: 'tag_red', rejected: 'tag_red' })

export const doorLog = (userId, eventId) => `door|${userId ?? 'anon'}|${eventId}`
export const placeLog = (deviceId) => `place|${deviceId}`

const newestFirst = (a, b) => (a.scanned_at < b.scanned_at ? 1 : -1)

/** The log's scans, newest first. */
export async function listScans(log) {
  return (await (await db()).getAllFromIndex('scans', 'by_log', log)).sort(newestFirst)
}

export async function getScan(nonce) {
  return (await (await db()).get('scans', nonce)) || null
}

export async function putScan(scan) {
  await (await db()).put('scans', scan)
  return scan
}

/**
 * Write the server's per-item answers into the scans they answer, in one transaction; `extra(answer)`
 * adds what a kind reads from its answer (a name). Returns the scans changed.
 */
export async function recordResults(results, { at = new Date().toISOString(), extra = () => ({}) } = {}) {
  const tx = (await db()).transaction('scans', 'readwrite')
  const changed = []
  for (const answer of results || []) {
    const scan = await tx.store.get(answer.nonce)
    if (!scan) continue
    const row = {
      ...scan,
      state: scan.state === 'queued' ? 'sent' : scan.state,
      result: answer.result,
      code: answer.code ?? null,
      message: answer.message,
      conflict: Boolean(answer.conflict),
      sent_at: at,
      ...extra(answer, scan),
    }
    tx.store.put(row)
    changed.push(row)
  }
  await tx.done
  return changed
}

/** A queued scan whose upload the server refused for good (the outbox's failed list). */
export async function markFailed(scan, reason) {
  return putScan({ ...scan, state: 'failed', result: 'rejected', message: `上传被拒绝：${reason}` })
}

/** Forget answered scans older than KEEP_DAYS (queued ones stay until they are sent). */
export async function pruneScans(log, now = Date.now()) {
  const cutoff = new Date(now - KEEP_DAYS * 86_400_000).toISOString()
  const old = (await listScans(log)).filter((s) => s.state !== 'queued' && s.scanned_at < cutoff)
  if (!old.length) return 0
  const tx = (await db()).transaction('scans', 'readwrite')
  for (const scan of old) tx.store.delete(scan.nonce)
  await tx.done
  return old.length
}
