// A paged list read cache first (X-Pagination, ?page=&page_size=), shared by the 创业券 pages:
// items, loading / failure / stale (shown from the stored copy) and 加载更多.
import { computed, ref } from 'vue'
import { cachedGet } from '../../lib/api.js'
import { showToast } from '../../lib/toast.js'

/** urlFor(page, pageSize) → the URL of one page. */
export function usePagedList(urlFor, { pageSize = 20 } = {}) {
  const pages = ref([]) // pages[n - 1] = the items of page n
  const pagination = ref(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const stale = ref(null)
  const failure = ref(null)
  let generation = 0

  const items = computed(() => pages.value.flat())
  const hasMore = computed(() => Boolean(pagination.value?.next_page))
  const total = computed(() => pagination.value?.total ?? items.value.length)

  async function loadPage(page) {
    const gen = generation
    const result = await cachedGet(urlFor(page, pageSize), (data, info) => {
      if (gen !== generation) return
      const next = pages.value.slice()
      next[page - 1] = Array.isArray(data) ? data : []
      pages.value = next
      if (info.pagination) pagination.value = info.pagination
    })
    if (gen === generation && result.stale) stale.value = result
  }

  async function reload() {
    generation += 1
    const gen = generation
    stale.value = null
    failure.value = null
    loading.value = true
    try {
      // Keep what is on screen until the first page answers (no flash of empty on refresh).
      await loadPage(1)
      if (gen === generation) pages.value = pages.value.slice(0, 1)
    } catch (error) {
      if (gen === generation) {
        failure.value = error
        pages.value = []
        pagination.value = null
      }
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  async function loadMore() {
    if (!hasMore.value || loadingMore.value) return
    loadingMore.value = true
    try {
      await loadPage(pagination.value.next_page)
    } catch (error) {
      showToast(error.message || '加载失败，请稍后重试')
    } finally {
      loadingMore.value = false
    }
  }

  /** Replace one item in place (after a write answered with the new version). */
  function replaceItem(updated, key = 'id') {
    pages.value = pages.value.map((page) => page.map((item) => (item[key] === updated[key] ? { ...item, ...updated } : item)))
  }

  return { items, pagination, total, loading, loadingMore, stale, failure, hasMore, reload, loadMore, replaceItem }
}
