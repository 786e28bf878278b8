// Pure helpers for the entrepreneur's check-in (pages/checkin, pages/my-visits): the purposes, the
// place a poster's code names (read without checking the signature — the server checks), the
// Chinese for each refusal, and a request nonce. No Vue, no network: unit-tested in tests/checkin*.
import { CodeError, fromText, parseSigned } from '../../lib/codes-format.js'

/** Why someone came (backend/checkins/enums.py VisitPurpose), in the order the buttons show. */
export const PURPOSES = Object.freeze([
  { value: 'policy', label: '政策咨询', desc: '扶持与补贴政策', icon: '政', tone: 'blue' },
  { value: 'guidance', label: '创业指导', desc: '项目、开业、经营', icon: '导', tone: 'green' },
  { value: 'loan', label: '贷款咨询', desc: '创业担保贷款', icon: '贷', tone: 'orange' },
  { value: 'event', label: '参加活动', desc: '沙龙、讲堂、路演', icon: '活', tone: 'red' },
  { value: 'other', label: '其他', desc: '办事、参观等', icon: '其', tone: 'gray' },
])

export function purposeLabel(value) {
  return PURPOSES.find((p) => p.value === value)?.label || value || ''
}

export function isPurpose(value) {
  return PURPOSES.some((p) => p.value === value)
}

/** What the person is told when the server (or the local reading) refuses a code. */
export const CHECKIN_ERRORS = Object.freeze({
  malformed: { title: '无法识别这个二维码', desc: '请对准场所门口张贴的“扫码签到”海报重新扫码。' },
  wrong_type: { title: '这不是场所签到码', desc: '到驿站、街区、市场或空间签到，请扫门口张贴的签到海报上的二维码。' },
  bad_signature: { title: '签到码无效', desc: '这个二维码不是本平台签发的，可能被替换或篡改。请向现场工作人员确认。' },
  unknown_key: { title: '签到码已更换', desc: '这张海报的二维码已停用，请扫场所最新张贴的海报，或请工作人员扫您的个人码。' },
  place_inactive: { title: '该场所已停用', desc: '这个场所已暂停服务，无法签到。可以在“场所”里查看附近其他服务场所。' },
  nonce_reused: { title: '请重新扫码', desc: '这次签到请求已失效，请重新扫描海报上的二维码。' },
  forbidden: { title: '当前账号不能签到', desc: '只有创业者账号可以扫场所码签到。工作人员请使用“扫码工作台”为来访者登记。' },
})

/** {title, desc} for an ApiError or CodeError. */
export function checkinError(error) {
  const known = CHECKIN_ERRORS[error?.code] || (error?.status === 403 ? CHECKIN_ERRORS.forbidden : null)
  if (known) return known
  return { title: '签到失败', desc: error?.message || '请稍后重试。' }
}

/** The place id a poster's code names ('CY:…' or '…/c/<base64url>'); throws CodeError. */
export function placeIdOf(code) {
  const parsed = parseSigned(fromText(code))
  if (parsed.type !== 'place') throw new CodeError('wrong_type')
  return parsed.fields.place_id
}

