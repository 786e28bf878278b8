import { createApp } from 'vue'
import 'weui/dist/style/weui.min.css'
import './styles/app.css'
import App from './App.vue'
import { setAuthFailureHandler } from './lib/api.js'
import { pruneCache } from './lib/cache.js'
import { LOGIN_PAGE, redirectTo, startRouter } from './lib/router.js'
import { showToast } from './lib/toast.js'
import { startOutboxSync } from './lib/sync.js'
import { startServiceWorker } from './lib/sw-bridge.js'

setAuthFailureHandler((error) => {
  showToast(error.code === 'token_revoked' ? '已在其他地方退出，请重新登录' : '登录已过期，请重新登录')
  redirectTo(LOGIN_PAGE)
})

startRouter()
createApp(App).mount('#app')
startServiceWorker()
startOutboxSync()
pruneCache().catch(() => {})
