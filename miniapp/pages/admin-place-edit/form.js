// The place form: between the API's PlaceDetailOut and what an administrator types (coordinates
// as text), and the checks done before sending. The server has the last word; its 422 field
// messages go under the same fields. No Vue here: unit-tested in tests/place-form.test.js.
import { serverFieldErrors } from '../../lib/form.js'

export function emptyForm() {
  return { kind: '', name: '', district: '', address: '', lat: '', lng: '', opening_hours: '', phone: '', operator: '', services: [] }
}

const text = (value) => (value == null ? '' : String(value))

export function toForm(place) {
  return {
    kind: place.kind, name: place.name, district: place.district, address: text(place.address),
    lat: text(place.lat), lng: text(place.lng), opening_hours: text(place.opening_hours), phone: text(place.phone),
    operator: text(place.operator), services: [...(place.services || [])],
  }
}

/** '35.4146' → 35.4146 within [-limit, limit]; '' → null; anything else → NaN. */
export function parseCoordinate(value, limit) {
  const clean = String(value ?? '').trim()
  if (!clean) return null
  if (!/^-?\d{1,3}(\.\d{1,8})?$/.test(clean)) return NaN
  const n = Number(clean)
  return Math.abs(n) <= limit ? n : NaN
}

/** Check the form; returns {errors: {field: 中文}, payload}. */
export function buildPayload(form) {
  const e = {}
  const name = form.name.trim()
  if (!form.kind) e.kind = '请选择场所类型'
  if (name.length < 2 || name.length > 128) e.name = '请输入 2 到 128 个字的场所名称'
  if (!form.district) e.district = '请选择所在区县'
  const lat = parseCoordinate(form.lat, 90)
  const lng = parseCoordinate(form.lng, 180)
  if (Number.isNaN(lat)) e.lat = '纬度应为 -90 到 90 之间的数，如 35.4146'
  if (Number.isNaN(lng)) e.lng = '经度应为 -180 到 180 之间的数，如 116.5872'
  if (!e.lat && !e.lng && (lat === null) !== (lng === null)) e[lat === null ? 'lat' : 'lng'] = '经纬度需要同时填写，或都不填'
  const phone = form.phone.trim()
  if (!/^[0-9-]{0,32}$/.test(phone)) e.phone = '联系电话只能包含数字和“-”，如 0537-2345678'
  const address = form.address.trim()
  if (address.length > 256) e.address = '地址不能超过 256 个字'
  const hours = form.opening_hours.trim()
  if (hours.length > 128) e.opening_hours = '开放时间不能超过 128 个字'
  const payload = {
    kind: form.kind, name, district: form.district, address, lat, lng, opening_hours: hours, phone,
    operator: form.operator.trim(), services: [...form.services],
  }
  return { errors: e, payload }
}

/** A 422's details → {field: message}. */
export const serverErrors = (details) => serverFieldErrors(details)

/** The fields in the order the form shows them (the first with an error is scrolled to). */
export const FIELD_ORDER = ['kind', 'name', 'district', 'address', 'lat', 'lng', 'opening_hours', 'phone', 'operator', 'services']
