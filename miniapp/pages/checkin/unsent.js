// A check-in that could not reach the server (no network): kept on this phone, per person, until it
// is sent or the Beijing day is over (a visit counts on the day it reaches the server, so an old one
// is not offered again). Its nonce stays the same, so sending it twice records one visit.
import { beijingDay } from '../../lib/format.js'

const KEY = 'cyql.checkin.unsent'

function storage() {
  try {
    return window.localStorage
  } catch {
    return null
  }
}

/** {user_id, code, purpose, nonce, place_name, day, saved_at} */
export function saveUnsent(entry) {
  storage()?.setItem(KEY, JSON.stringify({ ...entry, day: beijingDay(), saved_at: new Date().toISOString() }))
}

export function loadUnsent(userId, now = new Date()) {
  let entry = null
  try {
    entry = JSON.parse(storage()?.getItem(KEY) || 'null')
  } catch {
    return null
  }
  if (!entry || entry.user_id !== userId || entry.day !== beijingDay(now)) return null
  return entry
}

export function clearUnsent() {
  storage()?.removeItem(KEY)
}
