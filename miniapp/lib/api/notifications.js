// My notifications: the paged list, marking read, and the newest 100 for the unread badge.
import { cachedGet } from '../api.js'
import { paged, post, withQuery } from './query.js'

export const notificationsUrl = (page, size) => withQuery('/api/me/notifications', paged(page, size))

export const readLatestNotifications = (onData) => cachedGet(notificationsUrl(1, 100), onData)

/** Mark these ids read, or all when `ids` is not given; resolves {unread}. */
export const markNotificationsRead = (ids) => post('/api/me/notifications/read', ids ? { ids } : {})
