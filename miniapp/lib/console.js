// The administrators' console: its sections and pages in one list (the side navigation from
// 1024 px, AdminNav.vue), and which pages belong to it.

export const CONSOLE_SECTIONS = [
  { title: '总览', items: [{ page: 'admin-dashboard', title: '项目看板' }] },
  {
    title: '创业券',
    items: [
      { page: 'admin-batches', title: '创业券批次' },
      { page: 'admin-applications', title: '申请审核' },
      { page: 'admin-providers', title: '服务机构审核' },
      { page: 'admin-statements', title: '兑付结算' },
    ],
  },
  {
    title: '创业担保贷款',
    items: [
      { page: 'loan-cases', title: '贷款案件' },
      { page: 'loan-statements', title: '贴息清单' },
    ],
  },
  {
    title: '喵小创活动',
    items: [
      { page: 'event-figures', title: '活动统计' },
      { page: 'organiser-events', title: '活动管理' },
    ],
  },
  {
    title: '场所签到',
    items: [
      { page: 'admin-visits', title: '到访统计' },
      { page: 'admin-checkin-review', title: '签到核查' },
      { page: 'admin-places', title: '场所管理' },
      { page: 'scanner-admin', title: '扫码设备' },
    ],
  },
  {
    title: '系统管理',
    items: [
      { page: 'admin-people', title: '人员与角色' },
      { page: 'admin-audit', title: '审计日志' },
      { page: 'admin-jobs', title: '定时任务' },
    ],
  },
]

// Detail pages opened from the console's lists keep the side navigation too (a loan case from 贷款案件).
const CONSOLE_DETAILS = ['loan-case']
const CONSOLE_PAGES = new Set([...CONSOLE_SECTIONS.flatMap((s) => s.items.map((i) => i.page)), ...CONSOLE_DETAILS])

/** The sections whose pages exist in this build (a page another piece has not shipped yet is left out). */
export function consoleSections(exists = () => true) {
  return CONSOLE_SECTIONS.map((s) => ({ ...s, items: s.items.filter((i) => exists(i.page)) })).filter((s) => s.items.length)
}

/** A page of the console: the admin home, an admin-* page, or one of the tools it links to. */
export function isConsolePage(name) {
  return name === 'admin' || (name || '').startsWith('admin-') || CONSOLE_PAGES.has(name)
}
