// Saving a private file (an export that needs the bearer token): fetched as a blob with the token,
// an expired token refreshed once as apiFetch does, then saved through a temporary <a download>
// under the server's file name (Content-Disposition) or `fallbackName`. Errors are ApiError.
import { ApiError, NETWORK_ERROR, refreshAccessToken } from './api.js'
import { getAccessToken } from './session.js'

/** 'attachment; filename*=UTF-8''%E7%AD%BE.xlsx' → '签.xlsx'; `fallback` when there is none. */
export function filenameFrom(disposition, fallback) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition || '')
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* malformed escape: try the plain name */
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
  const requestId = response.headers?.get?.('X-Request-ID') || null
  try {
    const body = await response.json()
    return new ApiError(response.status, body && typeof body === 'object' ? body : {}, requestId)
  } catch {
    return new ApiError(response.status, {}, requestId)
  }
}

/** Fetch `url` with the token (refreshing an expired one once); resolves the Response or throws ApiError. */
export async function fetchFile(url) {
  let response = await get(url)
  if (response.status === 401) {
    const error = await errorOf(response.clone())
    if (error.code === 'token_expired' && (await refreshAccessToken())) response = await get(url)
  }
  if (!response.ok) throw await errorOf(response)
  return response
}

/** Download `url` and save it; resolves the file name it was saved under. */
export async function downloadFile(url, fallbackName) {
  const response = await fetchFile(url)
  const name = filenameFrom(response.headers.get('Content-Disposition'), fallbackName)
  const blob = await response.blob()
  const href = URL.createObjectURL(blob)
  const link = Object.assign(document.createElement('a'), { href, download: name, style: 'display:none' })
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
  return name
}
