// The outbox op of a station check-in accepted offline (pages/station-scanner), with its own sender
// (lib/visit-scan.js sendQueued: the scanner's device token, `sent_at` at the moment of sending, the
// device's other queued scans in the same request, each answer kept in this phone's scan log).
// Registered at start-up — main.js imports this file — because an op unknown when lib/sync.js
// first replays the outbox is dropped as "no longer supported".
import { list, registerOp } from './outbox.js'
import { SYNC_URL, VISIT_OP, sendQueued } from './visit-scan.js'

export { VISIT_OP }

registerOp(VISIT_OP, SYNC_URL, { send: (item) => sendQueued(item, { queued: () => list(item.user_id) }) })
