// What every API module shares: a path with its query string, and the verbs over apiFetch.
import { apiFetch } from '../api.js'

/** withQuery('/api/x', {q: '张 三', page: 1, empty: ''}) → '/api/x?q=%E5%BC%A0+%E4%B8%89&page=1'; null/''/undefined are left out. */
export function withQuery(path, params = {}) {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue
    query.set(key, String(value))
  }
  const text = query.toString()
  return text ? `${path}?${text}` : path
}

/** The query of one page of a paged list. */
export const paged = (page, size) => ({ page, page_size: size })

export const get = (path, options) => apiFetch(path, options)
export const post = (path, body, options = {}) => apiFetch(path, { ...options, method: 'POST', ...(body === undefined ? {} : { body }) })
export const patch = (path, body) => apiFetch(path, { method: 'PATCH', body })
export const del = (path) => apiFetch(path, { method: 'DELETE' })
