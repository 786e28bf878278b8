// 场所管理's fixed lists: the state tabs and the kinds' tag colours.
export const STATE_TABS = [
  { value: '', label: '全部' },
  { value: 'open', label: '开放中' },
  { value: 'closed', label: '已关闭' },
]

export const KIND_TONE = { space: 'tag_green', street: 'tag_blue', market: 'tag_orange', loan_station: 'tag_red' }

/** A place's state in words and its tag colour. */
export const stateOf = (place) => (place.is_active ? { label: '开放中', tone: 'tag_green' } : { label: '已关闭', tone: '' })
