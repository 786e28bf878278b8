// How the 定时任务 screen shows a job run: its tone (failures stand out), how long it took, and the
// sentence under a job's name.

export const OUTCOME_TONE = { ok: 'tag_green', failed: 'tag_red', running: 'tag_blue', skipped: '' }

/** '1.2 秒', '3 分 5 秒', '进行中' for a run still running. */
export function durationText(run) {
  if (!run?.finished_at) return '进行中'
  const ms = Math.max(0, new Date(run.finished_at) - new Date(run.started_at))
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} 秒`
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)} 分 ${seconds % 60} 秒`
}

/** What a run did, in one line: '到期张数 2 · 退回批次金额 ¥123.45', or '' when it counted nothing. */
export function countsText(run) {
  return (run?.counts_shown || []).map((c) => `${c.label} ${c.value}`).join(' · ')
}

/** A job needs attention: its last run failed, or it failed in the last 7 days. */
export const needsAttention = (job) => job.last_run?.outcome === 'failed' || job.failures_7d > 0
