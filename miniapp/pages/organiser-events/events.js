// Moved to lib/format.js (timeRange) and lib/event-text.js (states). Kept only for pages/event-door,
// which is being moved in the same change (issue 12): delete this file when that page imports lib/.
export { timeRange } from '../../lib/format.js'
