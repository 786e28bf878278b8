// First-load budget: gzip every JS/CSS file that the built index.html loads (scripts, module
// preloads, stylesheets) plus everything those scripts import statically, and fail above 150 KB.
// Also reports the heaviest "shell + one page" total, since a page chunk loads right after.
import { readFileSync, existsSync, readdirSync } from 'node:fs'
import { dirname, join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const BUDGET = 150 * 1024
const here = dirname(fileURLToPath(import.meta.url))
const outDir = resolve(here, '../../static')
const indexPath = join(outDir, 'index.html')

if (!existsSync(indexPath)) {
  console.error(`No build found at ${indexPath}: run \`npm run build\` first.`)
  process.exit(1)
}

const html = readFileSync(indexPath, 'utf8')
const entryUrls = [
  ...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*\brel="(?:stylesheet|modulepreload)"[^>]*\bhref="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*\bhref="([^"]+)"[^>]*\brel="(?:stylesheet|modulepreload)"/g),
].map((m) => m[1])

const toFile = (url) => join(outDir, url.replace(/^\//, ''))
const gz = new Map()
const gzipSize = (file) => {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(file), { level: 9 }).length)
  return gz.get(file)
}

// Static imports in minified ES modules: `import"./x.js"`, `import{a}from"./x.js"`, `export*from"./x.js"`.
// Dynamic `import("./x.js")` is not first-load and is not matched (no quote right after `import`/`from`).
const STATIC_IMPORT = /(?:\bimport|\bfrom)\s*["']([^"']+\.js)["']/g

function closure(urls) {
  const seen = new Set()
  const queue = urls.filter((u) => /\.(js|css)$/.test(u)).map(toFile)
  while (queue.length) {
    const file = queue.shift()
    if (seen.has(file)) continue
    seen.add(file)
    if (!file.endsWith('.js')) continue
    const code = readFileSync(file, 'utf8')
    for (const [, spec] of code.matchAll(STATIC_IMPORT)) {
      if (spec.startsWith('.') || spec.startsWith('/')) {
        queue.push(spec.startsWith('/') ? toFile(spec) : join(dirname(file), spec))
      }
    }
  }
  return seen
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
const rel = (file) => posix.normalize(file.slice(outDir.length + 1).split('\\').join('/'))

const shell = closure(entryUrls)
const shellTotal = [...shell].reduce((sum, f) => sum + gzipSize(f), 0)

console.log('First-load shell (gzip -9):')
for (const file of [...shell].sort((a, b) => gzipSize(b) - gzipSize(a))) {
  console.log(`  ${kb(gzipSize(file)).padStart(9)}  ${rel(file)}`)
}
console.log(`  ${'-'.repeat(9)}\n  ${kb(shellTotal).padStart(9)}  total (budget ${kb(BUDGET)})`)

// Each page chunk and its CSS: pages are named after their folder (assets/<page>-<hash>.js).
const assets = readdirSync(join(outDir, 'assets'))
const pageNames = readdirSync(resolve(here, '../pages'))
let worst = { name: '', total: shellTotal }
for (const name of pageNames) {
  // <page>-<8-character hash>: not 'admin-dashboard-…' for the page 'admin'
  const own = (f, ext) => f.startsWith(`${name}-`) && /^[\w-]{8}$/.test(f.slice(name.length + 1, -ext.length)) && f.endsWith(ext)
  const js = assets.filter((f) => own(f, '.js'))
  const css = assets.filter((f) => own(f, '.css'))
  const files = closure([...js, ...css].map((f) => `/assets/${f}`))
  // Shared chunks a page imports also bring their CSS (emitted under the chunk's name).
  for (const f of [...files]) {
    const base = rel(f).replace(/^assets\//, '').replace(/-[\w-]{8}\.js$/, '')
    for (const c of assets.filter((a) => a.startsWith(`${base}-`) && a.endsWith('.css'))) files.add(join(outDir, 'assets', c))
  }
  const extra = [...files].filter((f) => !shell.has(f)).reduce((sum, f) => sum + gzipSize(f), 0)
  if (shellTotal + extra > worst.total) worst = { name, total: shellTotal + extra }
}
if (worst.name) console.log(`Heaviest first screen: shell + pages/${worst.name} = ${kb(worst.total)}`)

if (shellTotal > BUDGET || worst.total > BUDGET) {
  console.error(`Over budget: ${kb(Math.max(shellTotal, worst.total))} > ${kb(BUDGET)}`)
  process.exit(1)
}
console.log(`OK: within the ${kb(BUDGET)} first-load budget.`)
