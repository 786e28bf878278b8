// The one outbox operation of check-in uploads, for the door (tickets) and the station (personal
// codes): the queued scans of one target (an event; a scanner device at a place) go together as
// {items: [{nonce, code, scanned_at, offline, …}], sent_at} to the kind's endpoint — sent_at is the
// clock at the moment of sending, from which the server corrects a phone whose clock is off. The
// server answers per item (ok / duplicate / forced / rejected, + conflict); each answer is written
// into this phone's scan log, and the outbox removes the whole batch in one transaction.
// Each outbox item holds one scan: payload {…target, items: [scan]}.
import { ApiError } from './api.js'
import { registerOp } from './outbox.js'
import { recordResults } from './scan-log.js'

export const BATCH_MAX = 200

/** The scans of these outbox items, once each, in queue order. */
export function batchItems(outboxItems) {
  const seen = new Set()
  return outboxItems
    .flatMap((item) => item.payload?.items || [])
    .filter((scan) => !seen.has(scan.nonce) && seen.add(scan.nonce))
    .slice(0, BATCH_MAX)
}

/**
 * Send a batch (the outbox sender's contract: {status, body} for any HTTP answer; throws when there
 * was none). `post({payload, items, sentAt})` resolves the answer's body {results}; `extra(answer,
 * scan)` adds what the kind reads from an answer into its scan; `after(payload, at)` runs once sent.
 */
export async function sendCheckins(outboxItems, { post, extra, after, now = Date.now }) {
  const payload = outboxItems[0]?.payload || {}
  try {
    const data = await post({ payload, items: batchItems(outboxItems), sentAt: new Date(now()).toISOString() })
    const at = new Date(now()).toISOString()
    await recordResults(data?.results, { at, extra }).catch(() => [])
    await after?.(payload, at)?.catch?.(() => null)
    return { status: 200, body: data }
  } catch (error) {
    if (error instanceof ApiError && error.status) {
      return { status: error.status, body: { code: error.code, message: error.message, details: error.details } }
    }
    throw error // no answer: the outbox keeps the scans
  }
}

/** Register a kind of check-in upload: `group(item)` says which queued scans may go together. */
export function registerCheckinOp(op, { url, group, post, extra, after }) {
  registerOp(op, url, {
    batch: { max: BATCH_MAX, group },
    send: (items) => sendCheckins(items, { post, extra, after }),
  })
}
