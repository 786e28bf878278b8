// Register the service worker (built to /sw.js, scope /). It updates itself (autoUpdate).
import { registerSW } from 'virtual:pwa-register'

export function startServiceWorker() {
  if (!('serviceWorker' in navigator)) return
  registerSW({
    immediate: true,
    onRegisterError(error) {
      console.warn('service worker registration failed', error)
    },
  })
}
