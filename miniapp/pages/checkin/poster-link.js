// The poster path. A place's poster carries a URL http(s)://<host>/c/<base64url>; WeChat's own
// scanner opens it in the browser and the server answers index.html. Before the router starts,
// routePosterPath() turns that address into '/#/checkin?code=<the URL>' (history.replaceState, so
// the address bar is clean and a reload stays on the check-in). Someone not signed in sees the place
// and 登录后签到; rememberAfterLogin() keeps the code, and resumeAfterLogin() brings them back to it
// once they have signed in. Loaded by main.js: keep it small (no codes, no network).
import { watch } from 'vue'
import { buildHash, redirectTo } from '../../lib/router.js'
import { session } from '../../lib/session.js'

const AFTER_LOGIN = 'cyql.checkin.after-login'
const MAX_WAIT_MS = 30 * 60 * 1000 // a login that takes longer than this was not about the poster

/** The full poster URL when the app was opened at /c/<code>, else null. */
export function posterCodeFrom(loc) {
  if (!loc || !/^\/c\/[A-Za-z0-9_=-]+\/?$/.test(loc.pathname || '')) return null
  return `${loc.origin}${loc.pathname.replace(/\/$/, '')}`
}

export function routePosterPath() {
  const code = posterCodeFrom(window.location)
  if (code) history.replaceState({ depth: 0 }, '', `/${buildHash('checkin', { code })}`)
}

function store() {
  try {
    return window.sessionStorage
  } catch {
    return null
  }
}

/** The check-in page, before sending someone to log in: come back here afterwards. */
export function rememberAfterLogin(query) {
  store()?.setItem(AFTER_LOGIN, JSON.stringify({ query, at: Date.now() }))
}

export function takeAfterLogin(now = Date.now()) {
  const s = store()
  if (!s) return null
  let saved = null
  try {
    saved = JSON.parse(s.getItem(AFTER_LOGIN) || 'null')
  } catch {
    /* unreadable: forget it */
  }
  s.removeItem(AFTER_LOGIN)
  if (!saved?.query?.code || !(now - saved.at < MAX_WAIT_MS)) return null
  return saved.query
}

/** After a login (the login page sends people home), go on to the check-in they started. */
export function resumeAfterLogin() {
  watch(
    () => session.user?.id ?? null,
    (id, before) => {
      if (id == null || id === before) return
      const query = takeAfterLogin()
      if (query) redirectTo('checkin', query)
    },
  )
}
