import { describe, expect, it } from 'vitest'
import { budgetFigure } from '../lib/voucher-text.js'

describe('budgetFigure', () => {
  it('is the budget when one was set', () => {
    expect(budgetFigure({ budget: 2_000_000_00, total_count: 10, face_value: 100_000 })).toBe(2_000_000_00)
  })
  it('is count × face value when the batch is bounded by its count only', () => {
    expect(budgetFigure({ budget: null, total_count: 200, face_value: 100_000 })).toBe(20_000_000)
  })
  it('is null only when neither bounds the batch', () => {
    expect(budgetFigure({ budget: null, total_count: null, face_value: 100_000 })).toBe(null)
  })
})
