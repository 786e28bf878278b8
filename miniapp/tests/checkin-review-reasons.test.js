import { describe, expect, it } from 'vitest'
import { deviceText } from '../pages/admin-checkin-review/reasons.js'

describe('deviceText: who scanned, by name, never an id', () => {
  it('names the device and the staff member', () => {
    expect(deviceText({ device_id: 3, device_name: '前台扫码枪', staff_id: 7, staff_name: '李*' })).toBe('前台扫码枪（工作人员 李*）')
  })
  it('falls back to neutral words when the names are missing', () => {
    expect(deviceText({ device_id: 3, device_name: '' })).toBe('未命名设备')
    expect(deviceText({ staff_id: 7, staff_name: '' })).toBe('工作人员 未填姓名 的手机')
    expect(deviceText({})).toBe('创业者自助扫码')
  })
})
