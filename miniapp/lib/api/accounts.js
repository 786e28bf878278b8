// Accounts: signing in and out, my profile (/api/me) and the devices my codes are bound to.
import { cachedGet } from '../api.js'
import { writeCached } from '../cache.js'
import { currentUserId } from '../session.js'
import { del, get, patch, post } from './query.js'

export const ME_URL = '/api/me'
export const DEVICES_URL = '/api/me/devices'

export const sendSmsCode = (phone) => post('/api/auth/sms-code', { phone }, { auth: false })
export const loginWithPhone = (phone, code) => post('/api/auth/login/phone', { phone, code }, { auth: false })
export const demoLogin = (role) => post('/api/auth/demo-login', { role }, { auth: false })
export const listDemoAccounts = () => get('/api/auth/demo-accounts', { auth: false })

/** Revoke the refresh token on the server; a gone session does not send anyone to login. */
export const logout = (refreshToken) =>
  post('/api/auth/logout', refreshToken ? { refresh_token: refreshToken } : {}, { authRedirect: false })

export const getMe = () => get(ME_URL)
export const readMe = (onData, options) => cachedGet(ME_URL, onData, options)

/** PATCH my profile; the answer is also stored as the cached /api/me (best effort). */
export async function updateMe(changes) {
  const me = await patch(ME_URL, changes)
  writeCached(currentUserId(), ME_URL, { data: me }).catch(() => {})
  return me
}

export const readDevices = (onData, options) => cachedGet(DEVICES_URL, onData, options)
export const removeDevice = (id) => del(`${DEVICES_URL}/${id}`)
