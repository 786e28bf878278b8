// When the outbox is replayed: at start-up, when the phone comes back online, when the service
// worker's Background Sync fires (it posts {type: 'outbox-replay'} to the page), and when the
// head item's back-off runs out.
import { replay, subscribe, pending } from './outbox.js'
import { currentUserId, isLoggedIn } from './session.js'

let timer = null

export async function replayNow() {
  if (!isLoggedIn() || !navigator.onLine) return null
  clearTimeout(timer)
  const result = await replay(undefined, { userId: currentUserId() })
  if (result.retryAt) {
    const wait = Math.max(1_000, result.retryAt - Date.now())
    timer = setTimeout(replayNow, wait)
  }
  return result
}

export function startOutboxSync() {
  window.addEventListener('online', () => replayNow())
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'outbox-replay') replayNow()
  })
  replayNow()
}

/** For the UI: calls fn(count) now and whenever the current user's queue changes. */
export function watchPending(fn) {
  const update = () => {
    const userId = currentUserId()
    if (userId == null) return fn(0)
    pending(userId).then(fn, () => fn(0))
  }
  update()
  return subscribe(update)
}
