// 导出签到表: the export needs the bearer token, so it is fetched as a blob and saved through a
// temporary <a download> (an expired token is refreshed once, as lib/api.js does).
import { ApiError, NETWORK_ERROR, refreshAccessToken } from '../../lib/api.js'
import { getAccessToken } from '../../lib/session.js'

/** 'attachment; filename*=UTF-8''%E7%AD%BE.xlsx' → '签.xlsx'; falls back to `fallback`. */
export function filenameFrom(disposition, fallback) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition || '')
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition || '')
  return plain ? plain[1] : fallback
}

async function get(url) {
  const token = getAccessToken()
  try {
    return await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, { code: NETWORK_ERROR })
  }
}

async function errorOf(response) {
  try {
    return new ApiError(response.status, await response.json())
  } catch {
    return new ApiError(response.status, {})
  }
}

/** Download the attendance sheet of an event as `format` ('xlsx' | 'csv'); resolves the file name. */
export async function downloadAttendance(eventId, format) {
  const url = `/api/organiser/events/${eventId}/export?format=${format}`
  let response = await get(url)
  if (response.status === 401) {
    const error = await errorOf(response.clone())
    if (error.code === 'token_expired' && (await refreshAccessToken())) response = await get(url)
  }
  if (!response.ok) throw await errorOf(response)
  const name = filenameFrom(response.headers.get('Content-Disposition'), `签到表-${eventId}.${format}`)
  const blob = await response.blob()
  const href = URL.createObjectURL(blob)
  const link = Object.assign(document.createElement('a'), { href, download: name, style: 'display:none' })
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
  return name
}
