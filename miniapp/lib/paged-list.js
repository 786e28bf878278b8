// A paged list read cache first (`?page=&page_size=`, X-Pagination): items, loading / failure /
// stale (shown from the stored copy while the network is away) and 加载更多. Every list page uses it.
import { computed, ref } from 'vue'
import { cachedGet } from './api.js'
import { showToast } from './toast.js'

export const PAGE_SIZE = 20

/** urlFor(page, pageSize) → the URL of one page; reload() starts over, loadMore() appends. */
export function usePagedList(urlFor, { pageSize = PAGE_SIZE } = {}) {
  const pages = ref([]) // pages[n - 1] = the items of page n
  const pagination = ref(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const stale = ref(null)
  const failure = ref(null)
  let generation = 0

  const items = computed(() => pages.value.flat())
  const hasMore = computed(() => {
    const p = pagination.value
    return Boolean(p && (p.next_page || (p.page && p.total_pages && p.page < p.total_pages)))
  })
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
      const p = pagination.value
      await loadPage(p.next_page || p.page + 1)
    } catch (error) {
      showToast(error.message || '加载失败，请稍后重试')
    } finally {
      loadingMore.value = false
    }
  }

  /** Merge a write's answer into the item it updated. */
  function replaceItem(updated, key = 'id') {
    pages.value = pages.value.map((page) => page.map((item) => (item[key] === updated[key] ? { ...item, ...updated } : item)))
  }

  /** Replace a row with the server's answer, or drop it when it left the filter (keep: false). */
  function replace(row, { keep = true } = {}) {
    pages.value = pages.value.map((rows) =>
      keep ? rows.map((r) => (r.id === row.id ? row : r)) : rows.filter((r) => r.id !== row.id),
    )
    if (!keep && pagination.value?.total) pagination.value = { ...pagination.value, total: pagination.value.total - 1 }
  }

  return { items, pagination, total, loading, loadingMore, stale, failure, hasMore, reload, loadMore, replaceItem, replace }
}

/** How many rows a list endpoint has (its X-Pagination total), cache first; null when unknown. */
export async function countOf(url) {
  let total = null
  await cachedGet(url, (data, info) => {
    total = info.pagination?.total ?? (Array.isArray(data) ? data.length : null)
  })
  return total
}
