// The outbox op of door check-ins let in offline (pages/event-door): the check-in upload of
// lib/scan-op.js, one batch per event. Registered at start-up — main.js imports this file — so the
// first replay knows it (an op unknown then is kept, flagged as needing an app update).
import { DOOR_CHECKINS_URL, postDoorCheckins } from './api/door.js'
import { registerCheckinOp } from './scan-op.js'

export const DOOR_OP = 'event_checkin'

registerCheckinOp(DOOR_OP, {
  url: DOOR_CHECKINS_URL,
  group: (item) => String(item.payload?.event_id ?? ''),
  post: ({ payload, items, sentAt }) => postDoorCheckins({ eventId: payload.event_id, items, sentAt }),
  extra: (answer, scan) => ({
    name: answer.registration?.name || scan.name || '',
    registration_id: answer.registration?.id ?? scan.registration_id ?? null,
  }),
})
