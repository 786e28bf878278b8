// 消息's empty state: what this role is sent (the notify() calls of backend/vouchers and
// backend/events), so a member of staff is not told about 创业券 applications they never make.

const BY_ROLE = Object.freeze({
  entrepreneur: '创业券申请的审核结果、券即将到期、活动报名的审核结果和候补递补等提醒会发到这里，请留意查看。',
  provider_staff: '服务机构入驻的审核结果、月度结算单的确认与退回等提醒会发到这里，请留意查看。',
  station_staff: '与您负责的场所有关的提醒会发到这里。到访登记和今日统计请在“工作台”查看。',
  organiser: '与您组织的活动有关的提醒会发到这里。报名审核和现场签到请在“工作台”处理。',
  admin: '需要您留意的事项会发到这里。待审核的申请和服务机构请在“管理”中处理。',
})

/** The empty state's words for the role the user is acting as. */
export function emptyDesc(role) {
  return BY_ROLE[role] || '与您有关的审核结果和提醒会发到这里，请留意查看。'
}
