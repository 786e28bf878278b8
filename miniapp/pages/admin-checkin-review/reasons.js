// 签到核查: what went wrong with a scan, in Chinese for the administrator (the scan's `reason` is a
// stable code of the check-in engine, backend/checkins/enums.py REASON_LABELS, which the server also
// sends as `reason_label`). Pure, unit-tested.

export const KINDS = Object.freeze([
  { value: 'rejected', label: '失败扫码' },
  { value: 'forced', label: '离线放行' },
  { value: 'conflict', label: '多设备重复' },
])

export const CHANNELS = Object.freeze([
  { value: '', label: '全部' },
  { value: 'place', label: '场所签到' },
  { value: 'door', label: '活动签到' },
])

/** Who scanned: the device by name, or the staff member's own phone. */
export function deviceText(scan) {
  if (scan.device_name || scan.device_id) {
    const device = scan.device_name || '未命名设备'
    return scan.staff_name ? `${device}（工作人员 ${scan.staff_name}）` : device
  }
  if (scan.staff_name || scan.staff_id) return `工作人员 ${scan.staff_name || '未填姓名'} 的手机`
  return '创业者自助扫码'
}

/** The headline of a scan under review. */
export function reasonText(scan) {
  // the words are the server's (backend/checkins/enums.py REASON_LABELS, sent as reason_label)
  if (scan?.reason) return scan.reason_label || `其他原因（${scan.reason}）`
  if (scan?.conflict && scan.channel === 'door') return '同一张票被两台设备分别扫码（至少一台离线），只按最早一次签到'
  if (scan?.conflict) return '同一人同一天在本场所被两台设备分别扫码（至少一台离线）'
  return '未记录原因'
}

export const EMPTY = Object.freeze({
  rejected: {
    pending: { title: '没有待核查的失败扫码', desc: '工作人员扫码被拒绝（二维码无效、过期、被篡改等）时会记录在这里，供核查是否有人冒用或设备故障。' },
    done: { title: '还没有已核查的失败扫码', desc: '核查过的记录会连同核查说明保留在这里。' },
  },
  forced: {
    pending: { title: '没有待核查的离线放行', desc: '扫码设备离线时放行、联网后服务器认定无效的签到会出现在这里；场所的这类到访仍计入统计，活动的不计入签到，请逐条核实。' },
    done: { title: '还没有已核查的离线放行', desc: '核查过的记录会连同核查说明保留在这里。' },
  },
  conflict: {
    pending: { title: '没有待核查的多设备重复', desc: '同一人同一天在同一场所、或同一张活动票，被两台设备分别扫码（至少一台离线）时会出现在这里，只按最早一次计数。' },
    done: { title: '还没有已核查的多设备重复', desc: '核查过的记录会连同核查说明保留在这里。' },
  },
})

/** A review note the server accepts: 2–200 characters; '' when fine, else the problem. */
export function noteProblem(note) {
  const text = (note || '').trim()
  if (text.length < 2) return '请填写核查说明（至少 2 个字）'
  if (text.length > 200) return '核查说明不能超过 200 字'
  return ''
}
