// The scanning flow shared by the door (tickets) and the station scanner (personal codes):
//   decode → verify (offline against the bundle or the door list, or the server when it answers)
//   → online: the server's answer; offline: queue in the outbox (lib/scan-op.js) → the result card
//   → the scan log (lib/scan-log.js) → the counts (待上传 from the outbox's own transactions; the
//   day's figure refreshed right after a sync and every few seconds while the page is visible).
// A page says what a code means and what the card says (its `kind`); the flow is the same.
// Scans are handled one at a time, in the order they came (a scanner gun can be faster than the
// server): a scan arriving while the previous one is being verified waits behind it.
import { computed, ref, shallowRef } from 'vue'
import { ApiError } from './api.js'
import { newNonce } from './nonce.js'
import { enqueue, failed as failedItems, list as outboxList, noticeText, subscribe, summarize } from './outbox.js'
import { SCAN_TONE, listScans, markFailed, putScan } from './scan-log.js'
import { useReachability } from './reachability.js'
import { replayNow } from './sync.js'

export const FIGURES_EVERY = 5_000

export { SCAN_TONE }
export const RESULT_TEXT = Object.freeze({ ok: '签到成功', duplicate: '今日已到访', forced: '离线放行待核查', rejected: '未通过' })

/** A scan of the log in words: {text, tone} of its state, and its flags [{key, text, tone}]. */
export function scanStatus(scan, texts = RESULT_TEXT) {
  const flags = []
  if (scan.offline) flags.push({ key: 'offline', text: '离线', tone: '' })
  if (scan.conflict) flags.push({ key: 'conflict', text: '多设备重复', tone: 'tag_orange' })
  if (scan.state === 'queued') return { text: '待上传', tone: 'tag_blue', flags }
  if (scan.state === 'failed') return { text: '上传被拒绝', tone: 'tag_red', flags }
  const result = scan.result ?? scan.local_result
  const text = scan.local && result === 'rejected' ? '未通过（本机）' : texts[result] || result || ''
  return { text, tone: SCAN_TONE[result] || '', flags }
}

/** Runs `task`s one after another, in the order they were given, whatever each one does. */
export function serialQueue() {
  let tail = Promise.resolve()
  let waiting = 0
  const size = ref(0)
  function push(task) {
    waiting += 1
    size.value = waiting
    const run = tail.then(task).catch((error) => console.error('scan failed', error)).finally(() => {
      waiting -= 1
      size.value = waiting
    })
    tail = run
    return run
  }
  return { push, size }
}

/**
 * The flow for one page. `kind`:
 *   op                       the outbox op of its uploads
 *   log()                    the scan log's key (lib/scan-log.js doorLog / placeLog)
 *   owns(item)               whether a queued outbox item is this page's (its event, its device)
 *   online(scan, signal)     the server's answer → {row, card}; throws ApiError (status 0: no answer)
 *   refused(error)           the card for a definite refusal of the online request
 *   offline(scan)            the local verdict → {row, card, payload}: a payload is queued
 *   cardOf(row)              the card of a scan the server answered after the queue went (optional)
 *   refreshFigures(signal)   fetch the day's figures and keep them (optional)
 */
export function useScanFlow(kind, { userId, now = () => Date.now() } = {}) {
  const reach = useReachability()
  const { online, withTimeout, answered, noAnswer, netDown } = reach
  const scans = ref([])
  const pending = ref(0)
  const notice = ref('')
  const card = shallowRef(null)
  const queue = serialQueue()
  const busy = computed(() => queue.size.value > 0)

  let alive = true
  let unsubscribe = null
  let figuresTimer = null
  const recent = new Map() // key → when last seen (the camera keeps seeing the phone held up)

  /** true when `key` was seen less than `pauseMs` ago (and remember it now). */
  function seenRecently(key, pauseMs) {
    const at = now()
    const before = recent.get(key)
    recent.set(key, at)
    return before != null && at - before < pauseMs
  }

  async function reload() {
    scans.value = await listScans(kind.log())
  }

  async function keep(row) {
    await putScan({ ...row, log: kind.log() })
    await reload()
  }

  /** Record one scan: the server when it answers, else the local verdict (queued when let in). */
  async function record(scan) {
    if (online.value) {
      try {
        const answer = await withTimeout((signal) => kind.online(scan, signal))
        answered()
        await keep({ ...answer.row, nonce: scan.nonce, scanned_at: scan.scannedAt, offline: false, state: 'done' })
        card.value = { ...answer.card, offline: false, nonce: scan.nonce }
        refreshFigures()
        return card.value
      } catch (error) {
        if (error instanceof ApiError && !error.transient) {
          card.value = { ...kind.refused(error), offline: false }
          return card.value
        }
        noAnswer(error)
        netDown.value = true
      }
    }
    const verdict = await kind.offline(scan)
    const row = { ...verdict.row, nonce: scan.nonce, scanned_at: scan.scannedAt, offline: true, state: 'done', result: verdict.row.result ?? null }
    if (verdict.payload) {
      const item = await enqueue(kind.op, verdict.payload, { userId })
      Object.assign(row, { state: 'queued', result: null, outbox_nonce: item.nonce })
    }
    await keep(row)
    card.value = { ...verdict.card, offline: true, nonce: scan.nonce }
    return card.value
  }

  /** Queue `handle(scan)` for a decoded text; scans run one at a time, in order. */
  function decode(text, handle) {
    const scan = { text: String(text).trim(), nonce: newNonce(), scannedAt: new Date(now()).toISOString() }
    return queue.push(() => (alive ? handle(scan) : null))
  }

  // --- counts --------------------------------------------------------------------------------------

  /** 待上传: this page's queued scans; the notice: anything of this user's queue kept too long or
   *  waiting for an app update (staff see it where they work, not only under 我的). */
  function count(items) {
    const users = items.filter((item) => item.user_id === userId)
    pending.value = users.filter((item) => item.op === kind.op && kind.owns(item)).length
    notice.value = noticeText(summarize(users, now()))
  }

  async function refreshFigures() {
    if (!kind.refreshFigures || !reach.browserOnline.value || !alive) return
    try {
      await withTimeout((signal) => kind.refreshFigures(signal))
      answered()
    } catch (error) {
      noAnswer(error)
    }
  }

  /** After the outbox moved: count from its transaction; settle what left the queue. */
  async function onOutbox(change = {}) {
    if (!alive) return
    const items = change.items || (await outboxList(userId))
    if (!change.items) count(items)
    const waiting = new Set(items.map((item) => item.nonce))
    await reload()
    const gone = scans.value.filter((s) => s.state === 'queued' && s.outbox_nonce && !waiting.has(s.outbox_nonce))
    if (gone.length) {
      // Not answered by the batch that sent it: refused for good (the failed list), or sent elsewhere.
      const refused = new Map((await failedItems(userId)).map((f) => [f.nonce, f]))
      for (const scan of gone) {
        const failure = refused.get(scan.outbox_nonce)
        await (failure ? markFailed(scan, failure.message) : putScan({ ...scan, state: 'sent', message: scan.message || '已上传' }))
      }
      await reload()
    }
    if (change.sent?.length || gone.length) {
      updateCard()
      refreshFigures()
    }
  }

  /** The card of a scan accepted offline, once the server has answered it: what the server said. */
  function updateCard() {
    const row = card.value?.nonce && scans.value.find((s) => s.nonce === card.value.nonce)
    if (!row || row.state === 'queued' || !kind.cardOf) return
    card.value = { ...kind.cardOf(row), offline: true, nonce: row.nonce }
  }

  // --- lifecycle ------------------------------------------------------------------------------------

  function goOnline() {
    reach.browserOnline.value = true
    netDown.value = false
    refreshFigures()
    replayNow()
  }

  function goOffline() {
    reach.browserOnline.value = false
  }

  function onVisible() {
    if (!document.hidden) refreshFigures()
  }

  /** Load the log, count the queue, start listening; then send what waits. */
  async function start() {
    window.addEventListener('online', goOnline)
    window.addEventListener('offline', goOffline)
    document.addEventListener('visibilitychange', onVisible)
    await reload().catch(() => {})
    const settling = serialQueue()
    unsubscribe = subscribe((change = {}) => {
      if (change.items) count(change.items) // at once, from the transaction that changed the queue
      settling.push(() => onOutbox(change))
    })
    await settling.push(() => onOutbox())
    figuresTimer = setInterval(() => !document.hidden && refreshFigures(), FIGURES_EVERY)
    replayNow()
  }

  function stop() {
    alive = false
    clearInterval(figuresTimer)
    unsubscribe?.()
    window.removeEventListener('online', goOnline)
    window.removeEventListener('offline', goOffline)
    document.removeEventListener('visibilitychange', onVisible)
  }

  return {
    ...reach, scans, pending, notice, card, busy, queue,
    decode, record, keep, reload, refreshFigures, seenRecently, start, stop,
  }
}
