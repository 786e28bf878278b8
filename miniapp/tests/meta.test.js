// @vitest-environment happy-dom
// lib/meta.js: every page's labels (voucher categories, event kinds, visit purposes, …) come from
// /api/meta, with built-in ones only until the first answer (or for a list the server lacks).
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { closeCacheDB } from '../lib/cache.js'
import { categoryLabel, eventKindLabel, labelOf, loadMeta, meta, purposeLabel } from '../lib/meta.js'
import { endSession, startSession } from '../lib/session.js'

beforeEach(async () => {
  await closeCacheDB()
  globalThis.indexedDB = new IDBFactory()
  startSession({ access_token: 'a', refresh_token: 'r', user: { id: 1, roles: ['entrepreneur'] } })
})
afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
})

it('labels from the built-in lists before /api/meta answers', () => {
  expect(categoryLabel('rent')).toBe('房租抵扣')
  expect(categoryLabel('financing')).toBe('投融资服务')
  expect(eventKindLabel('roadshow')).toBe('路演')
  expect(purposeLabel('loan')).toBe('贷款咨询')
  expect(labelOf('voucher_categories', 'unknown')).toBe('unknown')
  expect(meta.voucher_categories.map((c) => c.value)).toEqual(['rent', 'legal', 'tax', 'ip', 'training', 'testing', 'consulting', 'coaching', 'financing'])
})

it("the server's labels replace the built-in ones; a list it does not send keeps its fallback", async () => {
  const answer = {
    place_kinds: [], subject_types: [], districts: [{ value: '370811', label: '任城区' }], roles: [], place_services: [],
    event_kinds: [{ value: 'roadshow', label: '项目路演' }], visit_purposes: [{ value: 'loan', label: '创业贷款咨询' }], demo: false,
  }
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(answer), { status: 200, headers: { 'Content-Type': 'application/json' } })))
  await loadMeta()
  expect(meta.loaded).toBe(true)
  expect(eventKindLabel('roadshow')).toBe('项目路演')
  expect(purposeLabel('loan')).toBe('创业贷款咨询')
  expect(labelOf('districts', '370811')).toBe('任城区')
  expect(categoryLabel('tax')).toBe('财税服务')
})
