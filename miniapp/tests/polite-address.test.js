// House rule (issue 13): people are addressed as 您 everywhere the app speaks to them. Comments may say
// anything; strings and markup in pages, components and lib may not say 你.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : /\.(vue|js|json|html)$/.test(name) ? [path] : []
  })
}

/** Lines that say 你 outside a comment. */
export function informal(text) {
  return text.split('\n').flatMap((line, i) => {
    const code = line.replace(/^\s*(\/\/|\*|\/\*).*$/, '').replace(/\s\/\/\s.*$/, '').replace(/<!--.*?-->/g, '')
    return code.includes('你') ? [{ line: i + 1, text: line.trim() }] : []
  })
}

describe('the app says 您', () => {
  it('the check catches what it is meant to catch', () => {
    expect(informal("const t = '通知你'")).toEqual([{ line: 1, text: "const t = '通知你'" }])
    expect(informal('<p>你的到访</p>')).toHaveLength(1)
    expect(informal('// 你 in a comment\nconst t = \'通知您\'')).toEqual([])
  })

  it('no page, component or lib string says 你', () => {
    const files = ['pages', 'components', 'lib'].flatMap((d) => filesUnder(join(ROOT, d)))
      .concat([join(ROOT, 'app.json'), join(ROOT, 'App.vue'), join(ROOT, 'index.html')])
    expect(files.length).toBeGreaterThan(100)
    const found = files.flatMap((path) => informal(readFileSync(path, 'utf8')).map((b) => `${relative(ROOT, path)}:${b.line} ${b.text}`))
    expect(found).toEqual([])
  })
})
