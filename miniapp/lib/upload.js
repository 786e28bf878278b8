// Uploading materials (POST /api/uploads, multipart field `file`; or another endpoint that takes a
// multipart file with extra fields, e.g. a loan case's documents) with progress, and reading an
// uploaded file back as a blob for previews (GET /api/uploads/<id> needs the bearer token, so an
// <img src> cannot load it directly). Errors are ApiError, as lib/api.js throws them.
import { ApiError, NETWORK_ERROR, refreshAccessToken } from './api.js'
import { getAccessToken } from './session.js'

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf']
export const UPLOAD_ACCEPT = UPLOAD_TYPES.join(',')
const EXTENSIONS = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', pdf: 'application/pdf' }

/** The type a file claims, from its MIME type or else its extension ('' when unknown). */
export function fileType(file) {
  if (UPLOAD_TYPES.includes(file?.type)) return file.type
  const ext = String(file?.name || '').split('.').pop().toLowerCase()
  return EXTENSIONS[ext] || ''
}

export function isImage(file) {
  return fileType(file).startsWith('image/')
}

/** Why this file can't be uploaded (Chinese), or null. The server checks the content again. */
export function checkFile(file) {
  if (!fileType(file)) return '只支持 JPG、PNG、WebP 图片或 PDF 文件'
  if (!file.size) return '文件是空的'
  if (file.size > MAX_UPLOAD_BYTES) return '文件不能超过 10 MB'
  return null
}

/** 2048 → '2 KB', 3_500_000 → '3.3 MB'. */
export function formatSize(bytes) {
  if (!(bytes >= 0)) return ''
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function parseBody(text) {
  try {
    const body = JSON.parse(text)
    return body && typeof body === 'object' ? body : {}
  } catch {
    return {}
  }
}

function sendOnce(file, { onProgress, signal, url = '/api/uploads', fields = {} }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Accept', 'application/json')
    const token = getAccessToken()
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    if (onProgress && xhr.upload) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total) onProgress(Math.min(1, event.loaded / event.total))
      }
    }
    xhr.onload = () => {
      const requestId = xhr.getResponseHeader?.('X-Request-ID') ?? null
      resolve({ status: xhr.status, body: parseBody(xhr.responseText), requestId })
    }
    xhr.onerror = () => reject(new ApiError(0, { code: NETWORK_ERROR }))
    xhr.ontimeout = () => reject(new ApiError(0, { code: NETWORK_ERROR }))
    xhr.onabort = () => reject(new DOMException('上传已取消', 'AbortError'))
    if (signal) {
      if (signal.aborted) {
        xhr.abort()
        return
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true })
    }
    const form = new FormData()
    for (const [key, value] of Object.entries(fields)) form.append(key, String(value))
    form.append('file', file, file.name || 'upload')
    xhr.send(form)
  })
}

/**
 * Upload one file. Resolves the server's record `{id, kind, content_type, size, original_name, …}`;
 * rejects with ApiError (status 0 = no network) or an AbortError when `signal` aborts.
 * onProgress(fraction 0..1) is called while the bytes go out. An expired token is refreshed once.
 * `url` and `fields` send it elsewhere with more form fields (a loan document: {kind}); the answer
 * is then whatever that endpoint returns.
 */
export async function uploadFile(file, { onProgress, signal, url, fields } = {}) {
  const options = { onProgress, signal, url, fields }
  let result = await sendOnce(file, options)
  if (result.status === 401 && result.body.code === 'token_expired' && (await refreshAccessToken())) {
    result = await sendOnce(file, options)
  }
  if (result.status >= 200 && result.status < 300) {
    onProgress?.(1)
    return result.body
  }
  throw new ApiError(result.status, result.body, result.requestId)
}

/** An uploaded file as a Blob (for previews and opening a PDF); ApiError on failure. */
export async function fetchUploadBlob(id, { signal } = {}) {
  const get = async () => {
    const token = getAccessToken()
    try {
      return await fetch(`/api/uploads/${id}`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        credentials: 'same-origin',
        signal,
      })
    } catch (err) {
      if (err?.name === 'AbortError') throw err
      throw new ApiError(0, { code: NETWORK_ERROR })
    }
  }
  let response = await get()
  if (response.status === 401) {
    const body = parseBody(await response.clone().text())
    if (body.code === 'token_expired' && (await refreshAccessToken())) response = await get()
  }
  if (!response.ok) {
    throw new ApiError(response.status, parseBody(await response.text()), response.headers.get('X-Request-ID'))
  }
  return response.blob()
}
