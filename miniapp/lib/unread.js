// How many of my messages are unread, for the badges on 我的 and 首页. The API has no count
// endpoint, so this counts the unread ones among the newest 100 (cache first, so it works offline).
import { ref } from 'vue'
import { readLatestNotifications } from './api/notifications.js'

export const unreadCount = ref(0)

export async function loadUnread() {
  try {
    await readLatestNotifications((data) => {
      unreadCount.value = (Array.isArray(data) ? data : []).filter((n) => !n.read_at).length
    })
  } catch {
    /* no network and nothing stored: keep the last count */
  }
  return unreadCount.value
}

/** 'voucher-detail?id=3' → {name: 'voucher-detail', query: {id: '3'}}; tolerant of '#/', '/', 'pages/x/index'. */
export function parseLink(link) {
  const raw = String(link || '').trim().replace(/^#?\/?/, '')
  if (!raw) return null
  const [path, search = ''] = raw.split('?')
  const name = path.replace(/^pages\//, '').replace(/\/index$/, '')
  if (!name) return null
  return { name, query: Object.fromEntries(new URLSearchParams(search)) }
}
