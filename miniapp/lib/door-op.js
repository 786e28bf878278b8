// The outbox op of a door check-in let in offline (pages/event-door). Tiny on purpose: the app
// must register it before lib/sync.js first replays the outbox at start-up — an op unknown at that
// moment is dropped as "no longer supported" — so main.js should import this file.
import { registerOp } from './outbox.js'

export const DOOR_OP = 'event_checkin'
registerOp(DOOR_OP, '/api/events/checkins')
