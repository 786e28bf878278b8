import { describe, expect, it } from 'vitest'
import { formatRatio, formatYuan, parseYuan } from '../lib/money.js'

describe('money', () => {
  it('formats fen as yuan with thousands separators', () => {
    expect(formatYuan(123456)).toBe('¥1,234.56')
    expect(formatYuan(5)).toBe('¥0.05')
    expect(formatYuan(-500)).toBe('-¥5.00')
    expect(formatYuan(200000000, { symbol: false })).toBe('2,000,000.00')
    expect(formatYuan(null)).toBe('')
  })

  it('parses what people type into fen, refusing anything else', () => {
    expect(parseYuan('1,234.5')).toBe(123450)
    expect(parseYuan('￥ 100')).toBe(10000)
    expect(parseYuan('0.01')).toBe(1)
    expect(parseYuan('12.')).toBe(1200)
    for (const bad of ['', '-1', '1.234', 'abc', '1e3', null]) expect(parseYuan(bad), String(bad)).toBeNull()
  })

  it('shows a ratio in basis points as a percentage', () => {
    expect(formatRatio(5000)).toBe('50%')
    expect(formatRatio(3333)).toBe('33.33%')
    expect(formatRatio(10000)).toBe('100%')
  })
})
