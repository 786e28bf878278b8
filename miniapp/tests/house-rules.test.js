// House rules for pages (issue 12, "pages are leaves"): a page names operations from lib/api/*, never
// an '/api/…' URL, and imports lib/ and components/, never another page's folder.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')
const PAGES = join(ROOT, 'pages')

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(vue|js|css)$/.test(name) ? [path] : []
  })
}

const API_STRING = /['"`]\/api\//g
const OTHER_PAGE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|@import\s+)['"]\.\.\/(?!\.\.\/)([^'"/]+)\//g

/** What a file breaks: [{rule, line, text}]. Exported shape kept small so the report reads well. */
function breaches(text) {
  const found = []
  text.split('\n').forEach((line, i) => {
    if (line.match(API_STRING)) found.push({ rule: 'api-string', line: i + 1, text: line.trim() })
    for (const m of line.matchAll(OTHER_PAGE_IMPORT)) found.push({ rule: `imports ../${m[1]}/`, line: i + 1, text: line.trim() })
  })
  return found
}

describe('house rules for pages', () => {
  it('the checks catch what they are meant to catch', () => {
    expect(breaches("const url = '/api/me'")).toHaveLength(1)
    expect(breaches('apiFetch(`/api/events/${id}`)')).toHaveLength(1)
    expect(breaches('import X from "../events/EventCover.vue"')).toEqual([
      { rule: 'imports ../events/', line: 1, text: 'import X from "../events/EventCover.vue"' },
    ])
    expect(breaches("import '../admin/layout.css'")).toHaveLength(1)
    expect(breaches("@import '../admin/layout.css';")).toHaveLength(1)
    expect(breaches("const m = await import('../vouchers/claim.js')")).toHaveLength(1)
    expect(breaches("import { x } from '../../lib/api/events.js'\nimport Y from './Local.vue'")).toEqual([])
    expect(breaches('// POST /api/checkins/sync in a comment names no URL string')).toEqual([])
  })

  const folders = readdirSync(PAGES).filter((name) => statSync(join(PAGES, name)).isDirectory())

  it('finds the pages', () => expect(folders.length).toBeGreaterThan(40))

  for (const folder of folders) {
    it(`pages/${folder} names no /api/ URL and imports no other page`, () => {
      const found = filesUnder(join(PAGES, folder)).flatMap((path) =>
        breaches(readFileSync(path, 'utf8')).map((b) => `${relative(ROOT, path)}:${b.line} ${b.rule}: ${b.text}`),
      )
      expect(found).toEqual([])
    })
  }
})
