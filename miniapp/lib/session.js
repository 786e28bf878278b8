// Who is signed in on this phone: tokens, the last known user (so the shell opens offline)
// and the role the user chose. Everything lives in localStorage; `session` is its reactive mirror.
import { reactive } from 'vue'

const KEYS = {
  access: 'cyql.access_token',
  refresh: 'cyql.refresh_token',
  user: 'cyql.user',
  role: 'cyql.role',
}

// localStorage, or a stand-in where there is none (unit tests in plain Node, private modes).
const storage = (() => {
  try {
    if (typeof localStorage !== 'undefined') return localStorage
  } catch {
    /* access denied */
  }
  const map = new Map()
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  }
})()

function readJson(key) {
  try {
    return JSON.parse(storage.getItem(key) || 'null')
  } catch {
    return null
  }
}

export const session = reactive({
  user: readJson(KEYS.user),
  role: storage.getItem(KEYS.role),
})
session.role = pickRole(session.user, session.role)

function pickRole(user, wanted) {
  const roles = user?.roles || []
  if (wanted && roles.includes(wanted)) return wanted
  return roles[0] || null
}

export function getAccessToken() {
  return storage.getItem(KEYS.access)
}

export function getRefreshToken() {
  return storage.getItem(KEYS.refresh)
}

export function setAccessToken(token) {
  storage.setItem(KEYS.access, token)
}

export function isLoggedIn() {
  return Boolean(getAccessToken() && session.user)
}

/** Store a login response `{access_token, refresh_token, user}`. */
export function startSession({ access_token, refresh_token, user }) {
  storage.setItem(KEYS.access, access_token)
  if (refresh_token) storage.setItem(KEYS.refresh, refresh_token)
  setUser(user)
}

/** Keep the cached Me in step with the server; re-check the chosen role. */
export function setUser(user) {
  session.user = user
  storage.setItem(KEYS.user, JSON.stringify(user))
  setRole(pickRole(user, session.role))
}

export function setRole(role) {
  session.role = role
  if (role) storage.setItem(KEYS.role, role)
  else storage.removeItem(KEYS.role)
}

/** The cache and outbox are keyed by this, so two people sharing a phone never mix data. */
export function currentUserId() {
  return session.user?.id ?? null
}

export function endSession() {
  for (const key of [KEYS.access, KEYS.refresh, KEYS.user]) storage.removeItem(key)
  session.user = null
  // The chosen role is a preference of the phone, not a secret; it is re-checked at next login.
}
