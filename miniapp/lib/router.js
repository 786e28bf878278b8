// A mini-program style router over the URL hash: '#/places?kind=space'.
// Pages and per-role tab bars come from app.json; a page's title from pages/<name>/index.json.
// navigateTo pushes, redirectTo replaces, switchTab replaces and resets the stack, navigateBack pops.
import { reactive } from 'vue'
import appConfig from '../app.json'

const loaders = import.meta.glob('../pages/*/index.vue')
const configs = import.meta.glob('../pages/*/index.json', { eager: true, import: 'default' })

/** 'pages/place-detail/index' → 'place-detail' */
export function pageName(pagePath) {
  return pagePath.split('/')[1]
}

export const PAGES = Object.fromEntries(
  appConfig.pages.map((path) => {
    const name = pageName(path)
    return [name, { name, path, config: configs[`../${path}.json`] || {}, load: loaders[`../${path}.vue`] }]
  }),
)

export const LOGIN_PAGE = pageName(appConfig.loginPage)
export const NO_PERMISSION_PAGE = 'no-permission'

/** The roles a page is for (app.json pageRoles: a page name, or a prefix ending in '*'); null = anyone signed in. */
export function rolesFor(name) {
  const rules = appConfig.pageRoles || {}
  if (rules[name]) return rules[name]
  const prefix = Object.keys(rules).find((key) => key.endsWith('*') && name.startsWith(key.slice(0, -1)))
  return prefix ? rules[prefix] : null
}

/** Whether a person holding `roles` may open page `name` (any one of the page's roles will do). */
export function mayOpen(name, roles) {
  const needed = rolesFor(name)
  return !needed || (roles || []).some((role) => needed.includes(role))
}

export function tabBarFor(role) {
  const list = appConfig.tabBars[role]?.list || []
  return list.map((item) => ({ ...item, name: pageName(item.pagePath) }))
}

/** The first tab of a role is where it lands after login. */
export function homeFor(role) {
  return tabBarFor(role)[0]?.name || 'mine'
}

export function pageTitle(name) {
  return PAGES[name]?.config.navigationBarTitleText || appConfig.window.navigationBarTitleText
}

export function isPublic(name) {
  return Boolean(PAGES[name]?.config.public)
}

export function parseHash(hash) {
  const raw = (hash || '').replace(/^#\/?/, '')
  const [name = '', search = ''] = raw.split('?')
  return { name: decodeURIComponent(name), query: Object.fromEntries(new URLSearchParams(search)) }
}

export function buildHash(name, query = {}) {
  const clean = Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')
  const search = new URLSearchParams(clean).toString()
  return `#/${name}${search ? `?${search}` : ''}`
}

export const route = reactive({ name: '', query: {}, fullPath: '' })

/** A page may retitle the navigation bar (wx.setNavigationBarTitle); reset on every route change. */
export const navigationBar = reactive({ title: '' })

export function setNavigationBarTitle(title) {
  navigationBar.title = title || ''
  if (typeof document !== 'undefined') document.title = `${title || pageTitle(route.name)} · 创业齐鲁`
}

function sync() {
  const { name, query } = parseHash(location.hash)
  navigationBar.title = ''
  Object.assign(route, { name, query, fullPath: location.hash })
}

function depth() {
  return history.state?.depth ?? 0
}

export function navigateTo(name, query) {
  history.pushState({ depth: depth() + 1 }, '', buildHash(name, query))
  sync()
}

export function redirectTo(name, query) {
  history.replaceState({ depth: depth() }, '', buildHash(name, query))
  sync()
}

export function switchTab(name) {
  history.replaceState({ depth: 0 }, '', buildHash(name))
  sync()
}

export function navigateBack(fallback) {
  if (depth() > 0) history.back()
  else switchTab(fallback)
}

export function canGoBack() {
  return depth() > 0
}

export function startRouter() {
  window.addEventListener('popstate', sync)
  window.addEventListener('hashchange', sync)
  sync()
}
