// One record read cache first by the id in the page's query (?id=…): the record, loading, failure
// (a bad id is a 404 without asking) and stale (shown from the stored copy while the network is away).
// Every detail page uses it, with components/DetailStatus.vue for the states.
import { computed, ref } from 'vue'

/** idOf() → the raw id; read(id, onData) → cachedGet's answer; onLoaded(data) after each load. */
export function useDetail(idOf, read, { onLoaded } = {}) {
  const id = computed(() => Number(idOf()))
  const data = ref(null)
  const stale = ref(null)
  const failure = ref(null)
  const loading = ref(true)

  async function load() {
    loading.value = true
    failure.value = null
    stale.value = null
    if (!Number.isInteger(id.value) || id.value <= 0) {
      failure.value = { status: 404 }
      loading.value = false
      return
    }
    try {
      const answer = await read(id.value, (value) => {
        data.value = value
      })
      if (answer?.stale) stale.value = answer
      onLoaded?.(data.value)
    } catch (error) {
      failure.value = error
    } finally {
      loading.value = false
    }
  }

  return { id, data, stale, failure, loading, load }
}
