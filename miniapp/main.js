import { createApp, watch } from 'vue'
import 'weui/dist/style/weui.min.css'
import './styles/app.css'
import App from './App.vue'
import { setAuthFailureHandler } from './lib/api.js'
import { pruneCache } from './lib/cache.js'
import { LOGIN_PAGE, redirectTo, startRouter } from './lib/router.js'
import { showToast } from './lib/toast.js'
import { session } from './lib/session.js'
import { replayNow, startOutboxSync } from './lib/sync.js'
// Outbox operations register before the first replay, or queued items would be dropped as unknown.
import './lib/door-op.js'
import './lib/visit-scan-op.js'
import { startServiceWorker } from './lib/sw-bridge.js'
// A place poster's URL (/c/<code>, opened by WeChat's scanner) becomes the check-in page.
import { resumeAfterLogin, routePosterPath } from './pages/checkin/poster-link.js'

setAuthFailureHandler((error) => {
  showToast(error.message || '登录已失效，请重新登录')
  redirectTo(LOGIN_PAGE)
})

routePosterPath()
startRouter()
resumeAfterLogin()
createApp(App).mount('#app')
startServiceWorker()
startOutboxSync()
// Signing in (again) sends whatever this user left in the outbox.
watch(() => session.user?.id, (id, before) => id != null && id !== before && replayNow())
pruneCache().catch(() => {})
