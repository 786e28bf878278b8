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

// The tokens live in the page (localStorage), so the page does the sending.
async function tellPagesToReplay() {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
  for (const page of pages) page.postMessage({ type: 'outbox-replay' })
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') event.waitUntil(tellPagesToReplay())
})
