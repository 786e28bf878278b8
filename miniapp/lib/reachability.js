// Whether the server can be reached, for pages that must switch between online and offline by
// themselves (the door and the station scanner): the browser's own flag, and whether the last
// request got an answer. A request with no answer within `timeout` counts as no network; the first
// answer after that sends whatever waited in the outbox.
import { computed, ref } from 'vue'
import { ApiError } from './api.js'
import { replayNow } from './sync.js'

export function useReachability({ timeout = 8000 } = {}) {
  const browserOnline = ref(navigator.onLine !== false)
  const netDown = ref(false) // the last request got no answer although the browser says online
  const online = computed(() => browserOnline.value && !netDown.value)

  async function withTimeout(call) {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeout)
    try {
      return await call(controller.signal)
    } catch (error) {
      if (error?.name === 'AbortError') throw new ApiError(0, { code: 'network_error' })
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  function answered() {
    if (netDown.value) {
      netDown.value = false
      replayNow()
    }
  }

  /** No answer, or a server failing: work offline until the next answer. */
  function noAnswer(error) {
    if (error instanceof ApiError && (error.status === 0 || error.status >= 500)) netDown.value = true
  }

  return { browserOnline, netDown, online, withTimeout, answered, noAnswer }
}
