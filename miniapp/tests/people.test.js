// lib/people.js, lib/console.js and the router's page roles: what the people console, the audit
// screen and the shell decide without a server.
import { describe, expect, it } from 'vitest'
import appConfig from '../app.json'
import { CONSOLE_SECTIONS, consoleSections, isConsolePage } from '../lib/console.js'
import { actionGroups, auditDiff, bindingOf, grantBody, grantText, isPhoneSearch, revokeQuery } from '../lib/people.js'
import { PAGES, mayOpen, rolesFor } from '../lib/router.js'

describe('grants', () => {
  it('needs the binding of each role', () => {
    expect(['entrepreneur', 'provider_staff', 'station_staff', 'organiser', 'admin', 'bank_staff'].map(bindingOf))
      .toEqual([null, 'provider', 'place', 'place', 'region', 'bank'])
  })

  it('sends the role with its one binding, ids as numbers and region codes as text', () => {
    expect(grantBody('station_staff', '12')).toEqual({ role: 'station_staff', place_id: 12 })
    expect(grantBody('provider_staff', '3')).toEqual({ role: 'provider_staff', provider_id: 3 })
    expect(grantBody('admin', '370811')).toEqual({ role: 'admin', region_code: '370811' })
    expect(grantBody('entrepreneur', '5')).toEqual({ role: 'entrepreneur' })
    expect(grantBody('bank_staff', '2')).toEqual({ role: 'bank_staff', bank_id: 2 })
  })

  it('reads a grant with the name of what it is bound to, and revokes exactly it', () => {
    const grant = { role: 'organiser', role_label: '活动组织者', place_id: 4, place_name: '喵小创·任城空间',
      provider_id: null, region_code: null }
    expect(grantText(grant)).toBe('活动组织者 · 喵小创·任城空间')
    expect(grantText({ role: 'entrepreneur', role_label: '创业者' })).toBe('创业者')
    expect(revokeQuery(grant)).toEqual({ role: 'organiser', place_id: 4 })
    expect(revokeQuery({ role: 'admin', region_code: '370800', place_id: null })).toEqual({ role: 'admin', region_code: '370800' })
    const officer = { role: 'bank_staff', role_label: '合作银行信贷员', bank_id: 1, bank_name: '济宁银行', place_id: null }
    expect(grantText(officer)).toBe('合作银行信贷员 · 济宁银行')
    expect(revokeQuery(officer)).toEqual({ role: 'bank_staff', bank_id: 1 })
  })

  it('tells a whole phone number from a name', () => {
    expect(isPhoneSearch(' 13800000001 ')).toBe(true)
    expect(isPhoneSearch('1380000000')).toBe(false)
    expect(isPhoneSearch('张三')).toBe(false)
  })
})

describe('audit entries', () => {
  it('lists what changed, before and after, in Chinese', () => {
    expect(auditDiff({ is_active: true }, { is_active: false })).toEqual([
      { key: 'is_active', label: '账号状态', before: '是', after: '否', changed: true },
    ])
    const rows = auditDiff(null, { role: 'station_staff', place_id: 3, region_code: null })
    expect(rows.map((r) => [r.label, r.before, r.after])).toEqual([['角色', '—', 'station_staff'], ['场所', '—', '3'], ['管辖地区', '—', '空']])
    expect(auditDiff({ opening_hours: '9:00' }, { opening_hours: '9:00' })[0].changed).toBe(false)
  })

  it('groups the action labels by what they act on', () => {
    const groups = actionGroups([
      { value: 'role.grant', label: '授予角色' }, { value: 'voucher_batch.create', label: '新建创业券批次' },
      { value: 'role.revoke', label: '撤销角色' },
    ])
    expect(groups.map((g) => [g.prefix, g.items.map((i) => i.label)])).toEqual([
      ['role', ['授予角色', '撤销角色']], ['voucher_batch', ['新建创业券批次']]])
  })
})

describe('the console', () => {
  it('lists the people, audit and scheduled-job screens under 系统管理, and every page only once', () => {
    const pages = CONSOLE_SECTIONS.flatMap((s) => s.items.map((i) => i.page))
    expect(new Set(pages).size).toBe(pages.length)
    expect(CONSOLE_SECTIONS.find((s) => s.title === '系统管理').items.map((i) => i.title)).toEqual(['人员与角色', '审计日志', '定时任务'])
  })

  it('leaves out pages this build does not have', () => {
    const shown = consoleSections((page) => page !== 'admin-dashboard').flatMap((s) => s.items.map((i) => i.page))
    expect(shown).not.toContain('admin-dashboard')
    expect(consoleSections((page) => Boolean(PAGES[page])).flatMap((s) => s.items.map((i) => i.page)))
      .toEqual(expect.arrayContaining(['admin-people', 'admin-audit', 'admin-batches']))
  })

  it('knows its pages', () => {
    expect(['admin', 'admin-people', 'admin-batch-edit', 'scanner-admin', 'event-figures'].every(isConsolePage)).toBe(true)
    expect(['home', 'mine', 'places', 'workbench'].some(isConsolePage)).toBe(false)
  })

  it('has a 创业担保贷款 section, and a loan case opened from it keeps the side navigation', () => {
    expect(CONSOLE_SECTIONS.find((s) => s.title === '创业担保贷款').items.map((i) => i.page)).toEqual(['loan-cases', 'loan-statements'])
    expect(['loan-cases', 'loan-statements', 'loan-case'].every(isConsolePage)).toBe(true)
    expect(['loans', 'loan-apply', 'loan-notice'].some(isConsolePage)).toBe(false)
  })
})

describe('page roles', () => {
  it('keeps admin pages for administrators, with the exceptions other roles use', () => {
    expect(mayOpen('admin-people', ['entrepreneur'])).toBe(false)
    expect(mayOpen('admin-people', ['entrepreneur', 'admin'])).toBe(true)
    expect(mayOpen('admin', ['station_staff'])).toBe(false)
    expect(mayOpen('admin-visits', ['station_staff'])).toBe(true) // a station's own figures
    expect(mayOpen('scanner-admin', ['organiser'])).toBe(true) // an organiser's place scanners
    expect(mayOpen('redeem', ['entrepreneur'])).toBe(false)
    expect(mayOpen('provider-home', ['entrepreneur'])).toBe(true) // where one registers a provider
    expect(mayOpen('home', [])).toBe(true)
    expect(rolesFor('organiser-event-edit')).toEqual(['organiser', 'admin'])
  })

  it('names only pages and roles that exist', () => {
    const roles = Object.keys(appConfig.tabBars)
    for (const [key, allowed] of Object.entries(appConfig.pageRoles)) {
      const names = key.endsWith('*') ? Object.keys(PAGES).filter((n) => n.startsWith(key.slice(0, -1))) : [key]
      expect(names.length, key).toBeGreaterThan(0)
      for (const name of names) expect(PAGES[name], name).toBeTruthy()
      for (const role of allowed) expect(roles).toContain(role)
    }
    expect(PAGES['no-permission']).toBeTruthy()
    expect(rolesFor('no-permission')).toBe(null)
  })
})
