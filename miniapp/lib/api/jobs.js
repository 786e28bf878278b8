// The scheduler's jobs and their runs (administrators: 定时任务).
import { cachedGet } from '../api.js'
import { paged, post, withQuery } from './query.js'

/** Every job with its schedule, next run, last run and failures of the last 7 days; cache first. */
export const readJobs = (onData) => cachedGet('/api/admin/jobs', onData)

/** filters: {job, outcome}. */
export const jobRunsUrl = (filters, page, size) => withQuery('/api/admin/job-runs', { ...filters, ...paged(page, size) })

/** Run a job now (audited); answers with the run. */
export const runJob = (job) => post(`/api/admin/jobs/${encodeURIComponent(job)}/run`)
