import { describe, expect, it } from 'vitest'
import { emptyDesc } from '../pages/notifications/empty-text.js'

describe('消息 empty state, per role', () => {
  it('tells an entrepreneur about vouchers and events', () => {
    expect(emptyDesc('entrepreneur')).toBe('创业券申请的审核结果、券即将到期、活动报名的审核结果和候补递补等提醒会发到这里，请留意查看。')
  })
  it('never tells staff about 创业券 applications', () => {
    for (const role of ['provider_staff', 'station_staff', 'organiser', 'admin', undefined]) {
      expect(emptyDesc(role)).not.toContain('创业券申请')
    }
    expect(emptyDesc('organiser')).toBe('与您组织的活动有关的提醒会发到这里。报名审核和现场签到请在“工作台”处理。')
    expect(emptyDesc('provider_staff')).toBe('服务机构入驻的审核结果、月度结算单的确认与退回等提醒会发到这里，请留意查看。')
  })
})
