// One toast at a time, WeUI style, rendered by components/ToastHost.vue (role="alert").
import { reactive } from 'vue'

export const toastState = reactive({ visible: false, text: '', type: 'text' })
let timer = null

/** type: 'success' | 'warn' | 'loading' | 'text'. A loading toast stays until hideToast(). */
export function showToast(text, { type = 'text', duration = type === 'text' ? 2000 : 1500 } = {}) {
  clearTimeout(timer)
  Object.assign(toastState, { visible: true, text, type })
  if (type !== 'loading') timer = setTimeout(hideToast, duration)
}

export function hideToast() {
  clearTimeout(timer)
  toastState.visible = false
}
