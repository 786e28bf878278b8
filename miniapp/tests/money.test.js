import { describe, expect, it } from 'vitest'
import { formatRatio, formatYuan, parseYuan, yuanInput } from '../lib/money.js'

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

  it('is strict: 12.5 is 1250 fen, and nothing half-right passes', () => {
    expect(parseYuan('12.5')).toBe(1250)
    expect(parseYuan('12.05')).toBe(1205)
    expect(parseYuan(' 9999999999.99 ')).toBe(999999999999)
    expect(parseYuan('1,234,567')).toBe(123456700)
    expect(parseYuan('1，234')).toBe(123400)
    for (const bad of ['1,2,3', '12,34', '12.5元', '0x10', '.5', '1 000', '12..5', '+12', '10000000000', 'Infinity', '１２']) {
      expect(parseYuan(bad), bad).toBeNull()
    }
  })

  it('shows fen for editing so that it parses back the same', () => {
    expect(yuanInput(1250)).toBe('12.5')
    expect(yuanInput(200000)).toBe('2000')
    expect(yuanInput(5)).toBe('0.05')
    expect(yuanInput(null)).toBe('')
  })

  it('shows a ratio in basis points as a percentage', () => {
    expect(formatRatio(5000)).toBe('50%')
    expect(formatRatio(3333)).toBe('33.33%')
    expect(formatRatio(10000)).toBe('100%')
  })
})
