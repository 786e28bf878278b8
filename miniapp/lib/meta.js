// Reference lists from GET /api/meta (place kinds, subject types, districts, roles, event kinds,
// visit purposes, voucher categories, loan enums), cache first: every page takes its labels from here. The
// built-in labels below are only a fallback for the very first, offline start (and for a list the
// server does not send yet: voucher categories, backend/vouchers/enums.py CATEGORY_LABELS).
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
  regions: [],
  roles: [
    { value: 'entrepreneur', label: '创业者' },
    { value: 'provider_staff', label: '服务机构人员' },
    { value: 'station_staff', label: '场所工作人员' },
    { value: 'organiser', label: '活动组织者' },
    { value: 'admin', label: '人社部门管理员' },
    { value: 'bank_staff', label: '合作银行信贷员' },
  ],
  event_kinds: [
    { value: 'salon', label: '创业沙龙' },
    { value: 'market', label: '创业集市' },
    { value: 'lecture', label: '创业讲堂' },
    { value: 'bootcamp', label: '训练营' },
    { value: 'mentor_visit', label: '导师基层行' },
    { value: 'roadshow', label: '路演' },
    { value: 'policy_briefing', label: '政策宣讲' },
  ],
  visit_purposes: [
    { value: 'policy', label: '政策咨询' },
    { value: 'guidance', label: '创业指导' },
    { value: 'loan', label: '贷款咨询' },
    { value: 'event', label: '参加活动' },
    { value: 'other', label: '其他' },
  ],
  voucher_categories: [
    { value: 'rent', label: '房租抵扣' },
    { value: 'legal', label: '法律服务' },
    { value: 'tax', label: '财税服务' },
    { value: 'ip', label: '知识产权' },
    { value: 'training', label: '培训' },
    { value: 'testing', label: '检验检测' },
    { value: 'consulting', label: '管理咨询' },
    { value: 'coaching', label: '创业辅导' },
    { value: 'financing', label: '投融资服务' },
  ],
  // 创业担保贷款 (backend/loans/): the server sends these too; kept here for the first offline start.
  loan_borrower_types: [
    { value: 'individual', label: '个人' },
    { value: 'firm', label: '小微企业' },
  ],
  loan_identity_categories: [
    { value: 'graduate', label: '高校毕业生' },
    { value: 'returnee', label: '返乡创业人员' },
    { value: 'veteran', label: '退役军人' },
    { value: 'unemployed', label: '登记失业人员' },
    { value: 'poverty', label: '脱贫人口' },
    { value: 'disabled', label: '残疾人' },
    { value: 'other', label: '其他' },
  ],
  loan_document_kinds: [
    { value: 'id_card', label: '身份证' },
    { value: 'business_licence', label: '营业执照' },
    { value: 'credit_auth', label: '征信查询授权书' },
    { value: 'identity_proof', label: '身份类别证明' },
    { value: 'business_plan', label: '创业项目计划书' },
    { value: 'hiring_proof', label: '吸纳就业证明' },
    { value: 'other', label: '其他材料' },
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
export const categoryLabel = (category) => labelOf('voucher_categories', category)
export const eventKindLabel = (kind) => labelOf('event_kinds', kind)
export const purposeLabel = (purpose) => labelOf('visit_purposes', purpose)
