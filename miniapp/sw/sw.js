// Service worker: precache the whole shell (the list is injected at build time), answer every
// navigation with index.html so the app opens offline — except /api/, which always goes to
// the network — and turn Background Sync into a message that makes the page replay its outbox.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { clientsClaim } from 'workbox-core'

self.skipWaiting()
clientsClaim()
cleanupOutdatedCaches()
precacheAndRoute(self.__WB_MANIFEST)

registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api\//] }))

// The dashboard's chart library is left out of the precache (only administrators open it): the first
// visit fetches it, and from then on it is answered from this cache (its name changes with its content).
registerRoute(({ url }) => url.pathname.startsWith('/assets/echarts-'), async ({ request }) => {
  const cache = await caches.open('cyql-charts')
  const kept = await cache.match(request)
  if (kept) return kept
  const response = await fetch(request)
  if (response.ok) await cache.put(request, response.clone())
  return response
})

// The tokens live in the page (localStorage), so the page does the sending.
async function tellPagesToReplay() {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
  for (const page of pages) page.postMessage({ type: 'outbox-replay' })
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(tellPagesToReplay())
})
