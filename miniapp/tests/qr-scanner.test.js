// @vitest-environment happy-dom
// A scanner gun (keyboard wedge) on components/QrScanner.vue's 手动输入 box: it types the code and
// presses Enter; the box submits and clears, and consecutive scans never run together.
import { afterEach, describe, expect, it } from 'vitest'
import { createApp, h, nextTick, ref } from 'vue'
import QrScanner from '../components/QrScanner.vue'

let app
let host

async function mount({ busy = ref(false) } = {}) {
  const decoded = []
  host = document.createElement('div')
  document.body.appendChild(host)
  app = createApp({ render: () => h(QrScanner, { busy: busy.value, onDecode: (text, meta) => decoded.push([text, meta.source]) }) })
  app.mount(host)
  await nextTick()
  await nextTick()
  return { decoded, busy }
}

/** What a gun does: the characters into the focused box, then Enter. */
async function gun(text) {
  const box = host.querySelector('[data-testid="qr-manual-input"]')
  box.value = text
  box.dispatchEvent(new Event('input'))
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true }))
  await nextTick()
  return box
}

afterEach(() => {
  app?.unmount()
  host?.remove()
})

describe('QrScanner with a scanner gun', () => {
  it('falls back to the 手动输入 box without a camera', async () => {
    await mount()
    expect(host.querySelector('[data-testid="qr-scanner"]').dataset.mode).toBe('manual')
  })

  it('Enter submits the code and clears the box', async () => {
    const { decoded } = await mount()
    const box = await gun('CY:first-code')
    expect(decoded).toEqual([['CY:first-code', 'manual']])
    expect(box.value).toBe('')
  })

  it('two fast scans are two codes, in order, never run together', async () => {
    const { decoded } = await mount()
    await gun('CY:one')
    await gun('CY:two')
    expect(decoded.map(([text]) => text)).toEqual(['CY:one', 'CY:two'])
  })

  it('a scan arriving while the page is busy waits behind it', async () => {
    const busy = ref(true)
    const { decoded } = await mount({ busy })
    await gun('CY:one')
    await gun('CY:two')
    expect(decoded).toEqual([])
    busy.value = false
    await nextTick()
    await nextTick()
    await nextTick()
    expect(decoded.map(([text]) => text)).toEqual(['CY:one', 'CY:two'])
  })

  it('an empty Enter says what to do and emits nothing', async () => {
    const { decoded } = await mount()
    await gun('   ')
    expect(decoded).toEqual([])
    expect(host.textContent).toContain('请输入或粘贴二维码内容')
  })
})
