// The outbox op of station check-ins accepted offline (pages/station-scanner): the check-in upload
// of lib/scan-op.js, one batch per scanner device (its token, `sent_at` at the moment of sending).
// Registered at start-up — main.js imports this file — so the first replay knows it.
import { SYNC_URL, postVisitSync } from './api/checkins.js'
import { registerCheckinOp } from './scan-op.js'
import { saveMeta } from './visit-scan.js'

export const VISIT_OP = 'visit_scan'

registerCheckinOp(VISIT_OP, {
  url: SYNC_URL,
  group: (item) => `${item.payload?.device_id}|${item.payload?.place_id}|${item.payload?.device_token || ''}`,
  post: ({ payload, items, sentAt }) => postVisitSync({ items, sentAt, token: payload.device_token, placeId: payload.place_id }),
  extra: (answer, scan) => ({ name: answer.visit?.name || scan.name || '' }),
  after: (payload, at) => (payload.device_id != null ? saveMeta(payload.device_id, { last_sync_at: at }) : null),
})
