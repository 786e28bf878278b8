// What an admin may do with a provider in each status (backend/vouchers/providers.py ACTIONS).
export const STATUS_TABS = [
  { value: 'pending', label: '待审核' },
  { value: 'notice', label: '公示中' },
  { value: 'listed', label: '已入库' },
  { value: 'suspended', label: '已暂停' },
  { value: 'rejected', label: '未通过' },
  { value: 'blacklisted', label: '黑名单' },
  { value: '', label: '全部' },
]

export const STATUS_TONE = { pending: 'tag_orange', notice: 'tag_blue', listed: 'tag_green', suspended: 'tag_orange', rejected: 'tag_red', blacklisted: 'tag_red' }

export const ACTIONS = {
  approve: { label: '通过', title: '审核通过', text: '通过后进入 7 天公示，公示期满无异议即入库，可以为创业者提供服务并核销创业券。', optional: true, confirm: '通过，进入公示' },
  reject: { label: '不通过', title: '审核不通过', text: '请写明不通过的原因，机构会在通知中看到。', warn: true, confirm: '确认不通过' },
  suspend: { label: '暂停', title: '暂停服务资格', text: '暂停后该机构不能再核销创业券，直到恢复。请写明原因。', warn: true, confirm: '暂停' },
  restore: { label: '恢复', title: '恢复服务资格', text: '恢复后该机构可以继续核销创业券。请写明恢复的依据。', confirm: '恢复' },
  blacklist: { label: '列入黑名单', title: '列入黑名单', text: '列入黑名单后不能恢复，该机构不能再提供创业券服务。请写明原因。', warn: true, confirm: '列入黑名单' },
}

/** Buttons for a provider whose public status is `status`, the main one last. */
export function actionsFor(status) {
  return {
    pending: ['blacklist', 'reject', 'approve'],
    notice: ['blacklist', 'suspend', 'reject'],
    listed: ['blacklist', 'suspend'],
    suspended: ['blacklist', 'restore'],
    rejected: ['blacklist'],
    blacklisted: [],
  }[status] || []
}
