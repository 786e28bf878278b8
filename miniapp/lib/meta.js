// Reference lists from GET /api/meta (place kinds, subject types, districts, roles), cache first.
// The built-in labels below are only a fallback for the very first, offline start.
import { reactive } from 'vue'
import { cachedGet } from './api.js'

const FALLBACK = {
  place_kinds: [
    { value: 'space', label: '喵小创空间' },
    { value: 'street', label: '创业街区' },
    { value: 'market', label: '创业市场' },
    { value: 'loan_station', label: '创贷之家' },
  ],
  subject_types: [
    { value: 'individual', label: '个人' },
    { value: 'sole_proprietor', label: '个体工商户' },
    { value: 'startup', label: '初创企业' },
    { value: 'tech_startup', label: '科创企业' },
  ],
  districts: [],
  roles: [
    { value: 'entrepreneur', label: '创业者' },
    { value: 'provider_staff', label: '服务机构人员' },
    { value: 'station_staff', label: '驿站工作人员' },
    { value: 'organiser', label: '活动组织者' },
    { value: 'admin', label: '人社部门管理员' },
  ],
  demo: false,
}

export const meta = reactive({ ...FALLBACK, loaded: false })

let loading = null

export function loadMeta() {
  if (!loading) {
    loading = cachedGet('/api/meta', (data) => {
      Object.assign(meta, data, { loaded: true })
    }).catch(() => {
      loading = null // try again next time a page asks
    })
  }
  return loading
}

export function labelOf(listName, value) {
  return meta[listName]?.find((item) => item.value === value)?.label || FALLBACK[listName]?.find((i) => i.value === value)?.label || value || ''
}

export const roleLabel = (role) => labelOf('roles', role)
