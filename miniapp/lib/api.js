// Talking to the Flask API: bearer tokens, one refresh on `token_expired`, errors as ApiError
// ({status, code, message, details} — show `message`, branch on `code`), and cache-first reads.
import { currentUserId, endSession, getAccessToken, getRefreshToken, setAccessToken } from './session.js'
import { deleteCached, readCached, writeCached } from './cache.js'

export const NETWORK_ERROR = 'network_error'

export class ApiError extends Error {
  /** requestId: the server's X-Request-ID; a 5xx message ends with its first 8 characters
   * (「错误编号 1a2b3c4d」) so that the toast a user reports can be found in the server's logs. */
  constructor(status, { code, message, details } = {}, requestId = null) {
    super(withReference(message || defaultMessage(status), status, requestId))
    this.name = 'ApiError'
    this.status = status
    this.code = code || (status ? `http_${status}` : NETWORK_ERROR)
    this.details = details || {}
    this.requestId = requestId || null
  }

  /** Worth trying again later: no answer, server trouble, timeout or rate limit. */
  get transient() {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429
  }
}

function withReference(message, status, requestId) {
  if (!requestId || !(status >= 500)) return message
  return `${message}（错误编号 ${String(requestId).slice(0, 8)}）`
}

function defaultMessage(status) {
  if (!status) return '网络不可用，请检查网络后重试'
  if (status === 401) return '请先登录'
  if (status === 403) return '没有权限进行此操作'
  if (status === 404) return '内容不存在或已删除'
  if (status === 429) return '操作太频繁，请稍后再试'
  if (status >= 500) return '服务暂时不可用，请稍后重试'
  return '请求失败，请稍后重试'
}

let onAuthFailure = () => {}

/** The shell decides what "go to login" means (router + toast); api.js only reports it. */
export function setAuthFailureHandler(handler) {
  onAuthFailure = handler
}

async function errorFrom(response) {
  let body = {}
  try {
    body = await response.json()
  } catch {
    /* not JSON: keep the default message */
  }
  const requestId = response.headers?.get?.('X-Request-ID') || null
  return new ApiError(response.status, body && typeof body === 'object' ? body : {}, requestId)
}

async function send(path, { method, headers, body, signal }) {
  try {
    return await fetch(path, { method, headers, body, signal, credentials: 'same-origin' })
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError(0, { code: NETWORK_ERROR })
  }
}

let refreshing = null

/**
 * Swap the refresh token for a new access token. Concurrent callers share one request.
 * Resolves true on success, false when the refresh token is refused; throws on no network.
 */
export function refreshAccessToken() {
  if (!refreshing) {
    refreshing = (async () => {
      const refreshToken = getRefreshToken()
      if (!refreshToken) return false
      const response = await send('/api/auth/refresh', {
        method: 'POST',
        headers: { Accept: 'application/json', Authorization: `Bearer ${refreshToken}` },
      })
      if (!response.ok) {
        if (response.status >= 500) throw await errorFrom(response)
        return false
      }
      const { access_token: accessToken } = await response.json()
      if (!accessToken) return false
      setAccessToken(accessToken)
      return true
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

/**
 * Call the API. Resolves `{status, headers, data}` for 2xx (data is null for 204);
 * throws ApiError otherwise (status 0 = no network).
 * Options: method, body (sent as JSON), headers, auth (default true), signal,
 * authRedirect (default true: when the session is gone, tell the shell so it can go to login).
 */
export async function apiRequest(path, options = {}) {
  const { method = 'GET', body, headers = {}, auth = true, signal } = options
  const finalHeaders = { Accept: 'application/json', ...headers }
  if (body !== undefined) finalHeaders['Content-Type'] = 'application/json'
  const token = auth ? getAccessToken() : null
  if (token) finalHeaders.Authorization = `Bearer ${token}`

  const response = await send(path, {
    method,
    headers: finalHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })

  if (response.status === 401 && auth) {
    const error = await errorFrom(response)
    if (error.code === 'token_expired' && !options.retried && (await refreshAccessToken())) {
      return apiRequest(path, { ...options, retried: true })
    }
    endSession()
    if (options.authRedirect !== false) onAuthFailure(error)
    throw error
  }
  if (response.status === 304) return { status: 304, headers: response.headers, data: null }
  if (!response.ok) throw await errorFrom(response)

  let data = null
  if (response.status !== 204) {
    const text = await response.text()
    data = text ? JSON.parse(text) : null
  }
  return { status: response.status, headers: response.headers, data }
}

/** Like apiRequest, but resolves the body only. */
export async function apiFetch(path, options) {
  return (await apiRequest(path, options)).data
}

/** `X-Pagination` → {total, total_pages, first_page, last_page, page, next_page, previous_page}. */
export function parsePagination(headers) {
  const raw = headers?.get?.('X-Pagination')
  if (!raw) return null
  try {
    return JSON.parse(raw)
  } catch {
    return null
  }
}

/**
 * Cache first, then refresh. Calls `onData(data, meta)` with the stored copy (if any), then again
 * with the fresh copy. meta = {source: 'cache'|'network', storedAt, pagination}.
 * The refresh is conditional (If-None-Match) when the stored copy has an ETag; a 304 re-confirms it.
 * Resolves {stale: false} after a refresh, or {stale: true, storedAt, error} when the network
 * failed but a stored copy was shown. Throws when there is nothing to show.
 */
export async function cachedGet(url, onData, { signal } = {}) {
  const userId = currentUserId()
  let cached = null
  try {
    cached = await readCached(userId, url)
  } catch {
    /* no IndexedDB (private mode): network only */
  }
  if (cached) {
    onData(cached.data, { source: 'cache', storedAt: cached.stored_at, pagination: cached.pagination })
  }

  let response
  try {
    const headers = cached?.etag ? { 'If-None-Match': cached.etag } : {}
    response = await apiRequest(url, { signal, headers })
  } catch (error) {
    if (error instanceof ApiError && error.transient && cached) {
      return { stale: true, storedAt: cached.stored_at, error }
    }
    if (error instanceof ApiError && !error.transient && error.status !== 401 && cached) {
      await deleteCached(userId, url).catch(() => {})
    }
    throw error
  }

  const notModified = response.status === 304 && cached
  const data = notModified ? cached.data : response.data
  const pagination = notModified ? cached.pagination : parsePagination(response.headers)
  const etag = response.headers.get('ETag') || (notModified ? cached.etag : null)
  let storedAt = new Date().toISOString()
  // The write happens after the fetch has finished, in its own transaction — and only if the
  // same person is still signed in.
  if (currentUserId() === userId) {
    try {
      storedAt = (await writeCached(userId, url, { data, pagination, etag })).stored_at
    } catch {
      /* storage full or unavailable: still show the fresh data */
    }
  }
  onData(data, { source: 'network', storedAt, pagination })
  return { stale: false, storedAt }
}
