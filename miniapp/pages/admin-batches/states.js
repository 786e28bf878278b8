// Batch states as the admin sees them, and what may be done from each (draft → active ⇄ paused → ended).
export const STATE_TABS = [
  { value: '', label: '全部' },
  { value: 'draft', label: '草稿' },
  { value: 'active', label: '发放中' },
  { value: 'paused', label: '已暂停' },
  { value: 'ended', label: '已结束' },
]

export const STATE_TONE = { draft: '', active: 'tag_green', paused: 'tag_orange', ended: 'tag_red' }

export const MODE_LABELS = { claim: '先到先得', apply: '申请制' }

/** [{state, label, text, warn}] for the buttons of a batch in `state`. */
export function stateActions(state) {
  const publish = { state: 'active', label: '发布', text: '发布后创业者即可在领取时间内领取或申请，发放规则（面值、总量、用途、资格等）将不能再修改。' }
  const pause = { state: 'paused', label: '暂停', text: '暂停后创业者暂时不能领取或申请，已发放的券不受影响。' }
  const resume = { state: 'active', label: '恢复', text: '恢复后创业者可以继续领取或申请。' }
  const end = { state: 'ended', label: '结束', text: '结束后不能再领取或申请，也不能恢复；已发放的券在有效期内仍可使用。', warn: true }
  return { draft: [publish], active: [pause, end], paused: [resume, end], ended: [] }[state] || []
}
