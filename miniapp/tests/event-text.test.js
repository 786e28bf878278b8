import { describe, expect, it } from 'vitest'
import {
  audienceText, canCancel, formatDay, formatEventTime, formatMoment, registrationBadge, seatsInfo, seatsPercent,
  signUpLabel, signupWindowText, ticketView,
} from '../lib/event-text.js'

// 2025-11-26 is a Wednesday; 06:00Z is 14:00 in Beijing.
const NOW = new Date('2025-11-20T02:00:00Z')
const event = (over = {}) => ({
  state: 'published',
  starts_at: '2025-11-26T06:00:00+00:00',
  ends_at: '2025-11-26T08:00:00+00:00',
  capacity: 40,
  seats_taken: 10,
  seats_left: 30,
  waitlist: true,
  approval_required: false,
  ...over,
})

describe('event times', () => {
  it('shows the Beijing day with its weekday, and the year only when it is not this year', () => {
    expect(formatDay('2025-11-26T06:00:00Z', NOW)).toBe('11月26日 周三')
    expect(formatDay('2025-11-25T17:30:00Z', NOW)).toBe('11月26日 周三') // 01:30 in Beijing
    expect(formatDay('2026-01-04T06:00:00Z', NOW)).toBe('2026年1月4日 周日')
    expect(formatDay('nope', NOW)).toBe('')
  })

  it('joins a same-day range with a dash and a longer one with 至', () => {
    expect(formatEventTime('2025-11-26T06:00:00Z', '2025-11-26T08:00:00Z', NOW)).toBe('11月26日 周三 14:00–16:00')
    expect(formatEventTime('2025-11-26T06:00:00Z', '2025-11-27T08:30:00Z', NOW))
      .toBe('11月26日 周三 14:00 至 11月27日 周四 16:30')
  })

  it('gives the time of day alone on the same day', () => {
    expect(formatMoment('2025-11-26T06:05:00Z', new Date('2025-11-26T01:00:00Z'))).toBe('14:05')
    expect(formatMoment('2025-11-26T06:05:00Z', NOW)).toBe('11月26日 14:05')
  })
})

describe('seats and the sign-up button', () => {
  it('says how many are left, full with a waitlist, full, cancelled or over', () => {
    expect(seatsInfo(event(), NOW)).toEqual({ text: '剩余 30 个名额', tone: 'tag_green' })
    expect(seatsInfo(event({ capacity: 2, seats_taken: 1, seats_left: 1 }), NOW).tone).toBe('tag_orange')
    expect(seatsInfo(event({ seats_left: 0, seats_taken: 40 }), NOW).text).toBe('已满，可候补')
    expect(seatsInfo(event({ seats_left: 0, waitlist: false }), NOW).text).toBe('名额已满')
    expect(seatsInfo(event({ state: 'cancelled' }), NOW).text).toBe('活动已取消')
    expect(seatsInfo(event(), new Date('2025-12-01T00:00:00Z')).text).toBe('已结束 · 10 人报名')
    expect(seatsPercent(event())).toBe(25)
    expect(seatsPercent(event({ capacity: 0 }))).toBe(0)
  })

  it('labels the button by how the sign-up will go', () => {
    expect(signUpLabel(event())).toBe('立即报名')
    expect(signUpLabel(event({ seats_left: 0 }))).toBe('候补报名')
    expect(signUpLabel(event({ approval_required: true, seats_left: 0 }))).toBe('提交报名（需审核）')
  })

  it('tells when sign-up runs', () => {
    const e = event({ signup_opens_at: '2025-11-19T00:00:00Z', signup_closes_at: '2025-11-26T04:00:00Z' })
    expect(signupWindowText(e, NOW)).toBe('即日起至 11月26日 周三 12:00')
    expect(signupWindowText(e, new Date('2025-11-18T00:00:00Z'))).toBe('11月19日 周三 08:00 开始，11月26日 周三 12:00 截止')
    expect(signupWindowText(e, new Date('2025-11-27T00:00:00Z'))).toBe('已于 11月26日 周三 12:00 截止')
  })

  it('names the audience', () => {
    const label = (list, v) => ({ startup: '初创企业', 370811: '任城区' })[v] || v
    expect(audienceText({ subject_types: [], districts: [] })).toBe('所有创业者均可报名')
    expect(audienceText({ subject_types: ['startup'], districts: ['370811'] }, label)).toBe('限初创企业；限任城区的创业者')
  })
})

describe('registrations and tickets', () => {
  const reg = (over = {}) => ({ id: 1, state: 'registered', checked_in_at: null, event: event(), ticket: { code: 'CY:X' }, ...over })

  it('picks what the ticket page shows', () => {
    expect(ticketView(reg(), NOW)).toBe('ticket')
    expect(ticketView(reg({ ticket: null }), NOW)).toBe('no_ticket')
    expect(ticketView(reg({ checked_in_at: '2025-11-26T06:05:00Z' }), NOW)).toBe('checked_in')
    expect(ticketView(reg({ event: event({ state: 'cancelled' }) }), NOW)).toBe('event_cancelled')
    expect(ticketView(reg(), new Date('2025-12-01T00:00:00Z'))).toBe('ended')
    for (const state of ['pending', 'waitlisted', 'cancelled', 'rejected']) {
      expect(ticketView(reg({ state, ticket: null }), NOW)).toBe(state)
    }
  })

  it('badges a registration, and lets me cancel only a live one before the end', () => {
    expect(registrationBadge(reg(), NOW).label).toBe('报名成功')
    expect(registrationBadge(reg({ state: 'waitlisted', waitlist_position: 2 }), NOW).label).toBe('候补第 2 位')
    expect(registrationBadge(reg(), new Date('2025-12-01T00:00:00Z')).label).toBe('未签到')
    expect(registrationBadge(reg({ checked_in_at: '2025-11-26T06:05:00Z' }), NOW).label).toBe('已签到')
    expect(canCancel(reg(), NOW)).toBe(true)
    expect(canCancel(reg({ state: 'cancelled' }), NOW)).toBe(false)
    expect(canCancel(reg({ checked_in_at: '2025-11-26T06:05:00Z' }), NOW)).toBe(false)
    expect(canCancel(reg(), new Date('2025-12-01T00:00:00Z'))).toBe(false)
  })
})
