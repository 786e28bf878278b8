import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import appConfig from '../app.json'
import { PAGES, buildHash, homeFor, isPublic, mayOpen, pageTitle, parseHash, tabBarFor } from '../lib/router.js'

const root = resolve(import.meta.dirname, '..')

describe('app.json', () => {
  it('lists pages that exist, each with a Vue file and a page config', () => {
    for (const path of appConfig.pages) {
      expect(existsSync(resolve(root, `${path}.vue`)), path).toBe(true)
      expect(existsSync(resolve(root, `${path}.json`)), path).toBe(true)
    }
    expect(Object.keys(PAGES)).toEqual(expect.arrayContaining(['login', 'home', 'places', 'place-detail', 'mine', 'profile-edit']))
  })

  it('gives each role its tab bar', () => {
    const texts = (role) => tabBarFor(role).map((t) => t.text)
    expect(texts('entrepreneur')).toEqual(['首页', '活动', '创业券', '场所', '我的'])
    expect(texts('provider_staff')).toEqual(['工作台', '我的'])
    expect(texts('station_staff')).toEqual(['工作台', '场所', '我的'])
    expect(texts('organiser')).toEqual(['工作台', '场所', '我的'])
    expect(texts('admin')).toEqual(['管理', '场所', '我的'])
    expect(texts('bank_staff')).toEqual(['工作台', '贴息清单', '我的'])
  })

  it('points every tab at a listed page and lands each role on its first tab', () => {
    for (const role of Object.keys(appConfig.tabBars)) {
      for (const tab of tabBarFor(role)) expect(appConfig.pages).toContain(tab.pagePath)
    }
    expect(homeFor('entrepreneur')).toBe('home')
    expect(homeFor('admin')).toBe('admin')
    expect(homeFor('station_staff')).toBe('workbench')
    expect(homeFor('provider_staff')).toBe('provider-home')
    expect(homeFor('bank_staff')).toBe('loan-cases')
  })

  it('opens the loan pages to the roles that work on them', () => {
    expect(mayOpen('loans', ['entrepreneur'])).toBe(true)
    expect(mayOpen('loan-apply', ['bank_staff'])).toBe(false)
    // The 专员 completes the application of a case opened from a visit (the server lists 'edit').
    expect(mayOpen('loan-apply', ['station_staff'])).toBe(true)
    for (const role of ['station_staff', 'bank_staff', 'admin']) expect(mayOpen('loan-cases', [role])).toBe(true)
    expect(mayOpen('loan-cases', ['entrepreneur'])).toBe(false)
    expect(mayOpen('loan-statements', ['bank_staff'])).toBe(true)
    expect(mayOpen('loan-statements', ['station_staff'])).toBe(false)
    // One detail page for everyone signed in; the server decides what each may see and do.
    for (const role of ['entrepreneur', 'station_staff', 'bank_staff', 'admin']) expect(mayOpen('loan-case', [role])).toBe(true)
    expect(isPublic('loan-notice')).toBe(true)
    expect(isPublic('loan-case')).toBe(false)
  })

  it('titles pages from their page config', () => {
    expect(pageTitle('places')).toBe('服务场所')
    expect(pageTitle('nope')).toBe('创业齐鲁')
  })
})

describe('hash routes', () => {
  it('round-trips a page name and query', () => {
    expect(buildHash('place-detail', { id: 3, empty: '' })).toBe('#/place-detail?id=3')
    expect(parseHash('#/place-detail?id=3')).toEqual({ name: 'place-detail', query: { id: '3' } })
    expect(parseHash('')).toEqual({ name: '', query: {} })
  })
})
