// Download a private file (needs the Bearer token): fetch it as a blob, then save it through an
// <a download>. The file name comes from Content-Disposition when the server sends one.
import { ApiError } from '../../lib/api.js'
import { getAccessToken } from '../../lib/session.js'

function filenameFrom(header, fallback) {
  if (!header) return fallback
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)
  if (star) return decodeURIComponent(star[1])
  const plain = /filename="?([^";]+)"?/i.exec(header)
  return plain ? plain[1] : fallback
}

export async function downloadFile(path, fallbackName) {
  let response
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${getAccessToken()}` } })
  } catch {
    throw new ApiError(0, {})
  }
  if (!response.ok) {
    let body = {}
    try {
      body = await response.json()
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, body)
  }
  const blob = await response.blob()
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filenameFrom(response.headers.get('Content-Disposition'), fallbackName)
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return link.download
}
