import { describe, expect, it } from 'vitest'
import { countsText, durationText, needsAttention } from '../lib/jobs.js'

describe('job runs as shown', () => {
  it('says how long a run took, or that it is still running', () => {
    const at = (s) => new Date(Date.UTC(2026, 11, 4, 1, 0, s)).toISOString()
    expect(durationText({ started_at: at(0), finished_at: null })).toBe('进行中')
    expect(durationText({ started_at: at(0), finished_at: at(1) })).toBe('1.0 秒')
    expect(durationText({ started_at: at(0), finished_at: at(42) })).toBe('42 秒')
    expect(durationText({ started_at: at(0), finished_at: new Date(Date.UTC(2026, 11, 4, 1, 3, 5)).toISOString() })).toBe('3 分 5 秒')
  })

  it('lists the counts with their labels', () => {
    expect(countsText({ counts_shown: [{ key: 'expired', label: '到期张数', value: '2' }, { key: 'returned', label: '退回批次金额', value: '¥1.00' }] }))
      .toBe('到期张数 2 · 退回批次金额 ¥1.00')
    expect(countsText({ counts_shown: [] })).toBe('')
  })

  it('flags a job whose last run failed or that failed this week', () => {
    expect(needsAttention({ last_run: { outcome: 'failed' }, failures_7d: 0 })).toBe(true)
    expect(needsAttention({ last_run: { outcome: 'ok' }, failures_7d: 2 })).toBe(true)
    expect(needsAttention({ last_run: null, failures_7d: 0 })).toBe(false)
  })
})
