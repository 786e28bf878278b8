// @vitest-environment happy-dom
// Each lib/api/<domain>.js function sends the request its endpoint expects: URL (with its query
// encoded), method and JSON body. A fetch stub answers; the real apiFetch/cachedGet run underneath.
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { setAuthFailureHandler } from '../lib/api.js'
import * as accounts from '../lib/api/accounts.js'
import * as admin from '../lib/api/admin.js'
import * as events from '../lib/api/events.js'
import * as jobs from '../lib/api/jobs.js'
import * as loans from '../lib/api/loans.js'
import * as notifications from '../lib/api/notifications.js'
import * as places from '../lib/api/places.js'
import * as providers from '../lib/api/providers.js'
import { paged, withQuery } from '../lib/api/query.js'
import * as visits from '../lib/api/visits.js'
import * as vouchers from '../lib/api/vouchers.js'
import { closeCacheDB, readCached } from '../lib/cache.js'
import { endSession, startSession } from '../lib/session.js'

const ALICE = { id: 1, name: '张创业', roles: ['entrepreneur'] }
const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

let fetchMock
beforeEach(async () => {
  await closeCacheDB()
  globalThis.indexedDB = new IDBFactory()
  startSession({ access_token: 'access-1', refresh_token: 'refresh-1', user: ALICE })
  fetchMock = vi.fn(async () => json({ id: 7 }))
  vi.stubGlobal('fetch', fetchMock)
})

afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
  setAuthFailureHandler(() => {})
})

/** The one request made: {url, method, body (parsed), auth}. */
function sent() {
  expect(fetchMock).toHaveBeenCalledTimes(1)
  const [url, init] = fetchMock.mock.calls[0]
  return { url, method: init.method, body: init.body === undefined ? undefined : JSON.parse(init.body), auth: init.headers.Authorization }
}

describe('withQuery', () => {
  it('encodes values and leaves out empty ones', () => {
    expect(withQuery('/api/x', { q: '张 三&1', page: 2, kind: '', district: null, lat: undefined, usable: true, reviewed: false }))
      .toBe('/api/x?q=%E5%BC%A0+%E4%B8%89%261&page=2&usable=true&reviewed=false')
    expect(withQuery('/api/x', {})).toBe('/api/x')
    expect(paged(3, 20)).toEqual({ page: 3, page_size: 20 })
  })
})

// [name, call, expected {url, method, body}]
const WRITES = [
  ['runJob', () => jobs.runJob('vouchers_expire'), { url: '/api/admin/jobs/vouchers_expire/run', method: 'POST', body: undefined }],
  ['sendSmsCode', () => accounts.sendSmsCode('13800000001'), { url: '/api/auth/sms-code', method: 'POST', body: { phone: '13800000001' } }],
  ['loginWithPhone', () => accounts.loginWithPhone('13800000001', '123456'), { url: '/api/auth/login/phone', method: 'POST', body: { phone: '13800000001', code: '123456' } }],
  ['demoLogin', () => accounts.demoLogin('admin'), { url: '/api/auth/demo-login', method: 'POST', body: { role: 'admin' } }],
  ['listDemoAccounts', () => accounts.listDemoAccounts(), { url: '/api/auth/demo-accounts', method: 'GET', body: undefined }],
  ['logout', () => accounts.logout('refresh-1'), { url: '/api/auth/logout', method: 'POST', body: { refresh_token: 'refresh-1' } }],
  ['logout without token', () => accounts.logout(null), { url: '/api/auth/logout', method: 'POST', body: {} }],
  ['getMe', () => accounts.getMe(), { url: '/api/me', method: 'GET', body: undefined }],
  ['removeDevice', () => accounts.removeDevice(5), { url: '/api/me/devices/5', method: 'DELETE', body: undefined }],
  ['markNotificationsRead ids', () => notifications.markNotificationsRead([1, 2]), { url: '/api/me/notifications/read', method: 'POST', body: { ids: [1, 2] } }],
  ['markNotificationsRead all', () => notifications.markNotificationsRead(), { url: '/api/me/notifications/read', method: 'POST', body: {} }],
  ['listOrganiserPlaces', () => places.listOrganiserPlaces(), { url: '/api/organiser/places', method: 'GET', body: undefined }],
  ['getAdminPlace', () => places.getAdminPlace(6), { url: '/api/admin/places/6', method: 'GET', body: undefined }],
  ['createPlace', () => places.createPlace({ kind: 'market', name: '某市场' }), { url: '/api/places', method: 'POST', body: { kind: 'market', name: '某市场' } }],
  ['updatePlace', () => places.updatePlace(6, { opening_hours: '全天' }), { url: '/api/places/6', method: 'PATCH', body: { opening_hours: '全天' } }],
  ['setPlaceOpen', () => places.setPlaceOpen(6, false), { url: '/api/places/6', method: 'PATCH', body: { is_active: false } }],
  ['applyForBatch', () => vouchers.applyForBatch(3, { statement: '开店', upload_ids: [9] }), { url: '/api/voucher-batches/3/applications', method: 'POST', body: { statement: '开店', upload_ids: [9] } }],
  ['withdrawApplication', () => vouchers.withdrawApplication(4), { url: '/api/me/voucher-applications/4/withdraw', method: 'POST', body: undefined }],
  ['objectToProvider', () => providers.objectToProvider(8, '不属实'), { url: '/api/providers/8/objections', method: 'POST', body: { text: '不属实' } }],
  ['registerProvider', () => providers.registerProvider({ name: '律所' }), { url: '/api/providers', method: 'POST', body: { name: '律所' } }],
  ['reverseRedemption', () => providers.reverseRedemption(12, '重复核销'), { url: '/api/provider/redemptions/12/reverse', method: 'POST', body: { reason: '重复核销' } }],
  ['submitStatement', () => providers.submitStatement('2026-11'), { url: '/api/provider/statements', method: 'POST', body: { month: '2026-11' } }],
  ['getAdminBatch', () => admin.getAdminBatch(2), { url: '/api/admin/voucher-batches/2', method: 'GET', body: undefined }],
  ['createBatch', () => admin.createBatch({ name: '券' }), { url: '/api/admin/voucher-batches', method: 'POST', body: { name: '券' } }],
  ['updateBatch', () => admin.updateBatch(2, { name: '新' }), { url: '/api/admin/voucher-batches/2', method: 'PATCH', body: { name: '新' } }],
  ['setBatchState', () => admin.setBatchState(2, 'active'), { url: '/api/admin/voucher-batches/2/state', method: 'POST', body: { state: 'active' } }],
  ['decideApplication', () => admin.decideApplication(6, { approve: false, reason: '材料不全' }), { url: '/api/admin/voucher-applications/6/decision', method: 'POST', body: { approve: false, reason: '材料不全' } }],
  ['listProviderObjections', () => admin.listProviderObjections(8), { url: '/api/admin/providers/8/objections', method: 'GET', body: undefined }],
  ['decideProvider', () => admin.decideProvider(8, { action: 'approve', reason: '' }), { url: '/api/admin/providers/8/decision', method: 'POST', body: { action: 'approve', reason: '' } }],
  ['decideStatement', () => admin.decideStatement(5, { action: 'pay', reason: '' }), { url: '/api/admin/statements/5/decision', method: 'POST', body: { action: 'pay', reason: '' } }],
  ['getOrganiserEvent', () => events.getOrganiserEvent(4), { url: '/api/organiser/events/4', method: 'GET', body: undefined }],
  ['createEvent', () => events.createEvent({ title: '沙龙' }), { url: '/api/organiser/events', method: 'POST', body: { title: '沙龙' } }],
  ['updateEvent', () => events.updateEvent(4, { capacity: 40 }), { url: '/api/organiser/events/4', method: 'PATCH', body: { capacity: 40 } }],
  ['publishEvent', () => events.publishEvent(4), { url: '/api/organiser/events/4/publish', method: 'POST', body: undefined }],
  ['cancelEvent', () => events.cancelEvent(4, '场地维修'), { url: '/api/organiser/events/4/cancel', method: 'POST', body: { reason: '场地维修' } }],
  ['getEventCounts', () => events.getEventCounts(4), { url: '/api/organiser/events/4/counts', method: 'GET', body: undefined }],
  ['approveRegistration', () => events.approveRegistration(4, 11), { url: '/api/organiser/events/4/registrations/11/approve', method: 'POST', body: undefined }],
  ['rejectRegistration', () => events.rejectRegistration(4, 11, '名额已满'), { url: '/api/organiser/events/4/registrations/11/reject', method: 'POST', body: { reason: '名额已满' } }],
  ['createLoanCase', () => loans.createLoanCase({ borrower_type: 'individual', amount: 20000000 }), { url: '/api/loans/cases', method: 'POST', body: { borrower_type: 'individual', amount: 20000000 } }],
  ['updateLoanCase', () => loans.updateLoanCase(3, { term_months: 24 }), { url: '/api/loans/cases/3', method: 'PATCH', body: { term_months: 24 } }],
  ['openCaseFromVisit', () => loans.openCaseFromVisit(41), { url: '/api/loans/cases/from-visit', method: 'POST', body: { visit_id: 41 } }],
  ['runLoanAction precheck', () => loans.runLoanAction(3, 'precheck'), { url: '/api/loans/cases/3/precheck', method: 'POST', body: {} }],
  ['runLoanAction request_documents', () => loans.runLoanAction(3, 'request_documents', { kinds: ['id_card'], remark: '' }), { url: '/api/loans/cases/3/request-documents', method: 'POST', body: { kinds: ['id_card'], remark: '' } }],
  ['runLoanAction repay', () => loans.runLoanAction(3, 'repay', { paid_on: '2026-12-01', principal: 0, interest: 100 }), { url: '/api/loans/cases/3/repayments', method: 'POST', body: { paid_on: '2026-12-01', principal: 0, interest: 100 } }],
  ['runLoanAction change_rate', () => loans.runLoanAction(3, 'change_rate', { from: '2026-12-01', rate_bp: 300 }), { url: '/api/loans/cases/3/rate', method: 'POST', body: { from: '2026-12-01', rate_bp: 300 } }],
  ['getLoanCase', () => loans.getLoanCase(3), { url: '/api/loans/cases/3', method: 'GET', body: undefined }],
  ['listLoanCases', () => loans.listLoanCases({ state: 'repaying' }), { url: '/api/loans/cases?state=repaying&page=1&page_size=100', method: 'GET', body: undefined }],
  ['listLoanBanks', () => loans.listLoanBanks(), { url: '/api/loans/banks?page=1&page_size=100', method: 'GET', body: undefined }],
  ['listLoanStations', () => loans.listLoanStations(), { url: '/api/loans/stations?page=1&page_size=100', method: 'GET', body: undefined }],
  ['createLoanStatement', () => loans.createLoanStatement({ year: 2026, quarter: 3, lines: [{ case_id: 3, interest: 100 }] }), { url: '/api/loans/statements', method: 'POST', body: { year: 2026, quarter: 3, lines: [{ case_id: 3, interest: 100 }] } }],
  ['approveLoanStatement', () => loans.approveLoanStatement(5), { url: '/api/loans/statements/5/approve', method: 'POST', body: undefined }],
  ['payLoanStatement', () => loans.payLoanStatement(5), { url: '/api/loans/statements/5/pay', method: 'POST', body: undefined }],
]

describe('writes and plain reads', () => {
  for (const [name, call, expected] of WRITES) {
    it(name, async () => {
      await call()
      const request = sent()
      expect({ url: request.url, method: request.method, body: request.body }).toEqual(expected)
      // Signing in and the demo accounts go without a token; everything else carries it.
      const anonymous = ['sendSmsCode', 'loginWithPhone', 'demoLogin', 'listDemoAccounts'].includes(name)
      expect(request.auth).toBe(anonymous ? undefined : 'Bearer access-1')
    })
  }
})

it('claimVoucher sends the idempotency key and resolves the voucher', async () => {
  fetchMock.mockResolvedValueOnce(json({ id: 31, balance: 50000 }, 201))
  expect(await vouchers.claimVoucher(3, 'key-1')).toEqual({ id: 31, balance: 50000 })
  expect(sent()).toMatchObject({ url: '/api/voucher-batches/3/claim', method: 'POST', body: { idempotency_key: 'key-1' } })
})

it('a loan action answers the case and stores it where the case page reads it', async () => {
  fetchMock.mockResolvedValueOnce(json({ id: 3, state: 'precheck', actions: ['submit'] }))
  expect(await loans.runLoanAction(3, 'precheck')).toMatchObject({ id: 3, state: 'precheck' })
  expect((await readCached(ALICE.id, '/api/loans/cases/3')).data).toMatchObject({ state: 'precheck' })
  expect(() => loans.runLoanAction(3, 'fly')).toThrow(/unknown loan action/)
})

it('a moved case refuses with loan_state_changed', async () => {
  fetchMock.mockResolvedValueOnce(json({ code: 'loan_state_changed', message: '案件状态已变化，请刷新后再操作', details: {} }, 409))
  await expect(loans.runLoanAction(3, 'approve', { remark: '' })).rejects.toMatchObject({ status: 409, code: 'loan_state_changed' })
})

it('a refused write rejects with the server error (code and Chinese message)', async () => {
  fetchMock.mockResolvedValueOnce(json({ code: 'capacity_below_taken', message: '名额不能少于已报名人数', details: {} }, 409))
  await expect(events.updateEvent(4, { capacity: 1 })).rejects.toMatchObject({ status: 409, code: 'capacity_below_taken', message: '名额不能少于已报名人数' })
})

// [name, url builder call, expected URL]
const URLS = [
  ['loanCasesUrl', () => loans.loanCasesUrl({ state: '', overdue: 1, q: 'DK2026' }, 1, 20), '/api/loans/cases?overdue=1&q=DK2026&page=1&page_size=20'],
  ['loanNoticeUrl', () => loans.loanNoticeUrl(2, 20), '/api/loans/notice?page=2&page_size=20'],
  ['loanStatementsUrl', () => loans.loanStatementsUrl({ state: 'submitted' }, 1, 20), '/api/loans/statements?state=submitted&page=1&page_size=20'],
  ['loanStatementXlsxUrl', () => loans.loanStatementXlsxUrl(5), '/api/loans/statements/5.xlsx'],
  ['loanDocumentsUrl', () => loans.loanDocumentsUrl(3), '/api/loans/cases/3/documents'],
  ['jobRunsUrl', () => jobs.jobRunsUrl({ job: 'cleanup', outcome: '' }, 2, 20), '/api/admin/job-runs?job=cleanup&page=2&page_size=20'],
  ['placesUrl', () => places.placesUrl({ kind: 'space', district: '', q: '喵 小创', lat: '35.415', lng: '116.587' }, 2, 20), '/api/places?kind=space&q=%E5%96%B5+%E5%B0%8F%E5%88%9B&lat=35.415&lng=116.587&page=2&page_size=20'],
  ['adminPlacesUrl', () => places.adminPlacesUrl({ state: 'closed', kind: '', district: '370811', q: '驿站' }, 1, 20), '/api/admin/places?state=closed&district=370811&q=%E9%A9%BF%E7%AB%99&page=1&page_size=20'],
  ['posterPngUrl', () => places.posterPngUrl(6, 'print'), '/api/places/6/poster.png?size=print'],
  ['posterPdfUrl', () => places.posterPdfUrl(6), '/api/places/6/poster.pdf'],
  ['batchesUrl', () => vouchers.batchesUrl(1, 20), '/api/voucher-batches?page=1&page_size=20'],
  ['myVouchersUrl usable', () => vouchers.myVouchersUrl({ usable: true }, 1, 100), '/api/me/vouchers?usable=true&page=1&page_size=100'],
  ['receiptsUrl', () => vouchers.receiptsUrl(2, 20), '/api/me/receipts?page=2&page_size=20'],
  ['myApplicationsUrl', () => vouchers.myApplicationsUrl(1, 20), '/api/me/voucher-applications?page=1&page_size=20'],
  ['notificationsUrl', () => notifications.notificationsUrl(1, 20), '/api/me/notifications?page=1&page_size=20'],
  ['providersUrl', () => providers.providersUrl({ status: 'listed', category: 'legal', district: '370811', q: '' }, 1, 20), '/api/providers?status=listed&category=legal&district=370811&page=1&page_size=20'],
  ['redemptionsUrl day', () => providers.redemptionsUrl({ day: '2026-12-04' }, 1, 20), '/api/provider/redemptions?day=2026-12-04&page=1&page_size=20'],
  ['redemptionTotalsUrl month', () => providers.redemptionTotalsUrl({ month: '2026-12' }), '/api/provider/redemptions/totals?month=2026-12'],
  ['statementsUrl', () => providers.statementsUrl(1, 20), '/api/provider/statements?page=1&page_size=20'],
  ['statementExportUrl', () => providers.statementExportUrl(5, 'xlsx'), '/api/provider/statements/5/export?format=xlsx'],
  ['adminBatchesUrl', () => admin.adminBatchesUrl({ state: 'active', q: '' }, 1, 1), '/api/admin/voucher-batches?state=active&page=1&page_size=1'],
  ['adminApplicationsUrl', () => admin.adminApplicationsUrl({ state: 'pending', batch_id: '3' }, 1, 20), '/api/admin/voucher-applications?state=pending&batch_id=3&page=1&page_size=20'],
  ['adminProvidersUrl', () => admin.adminProvidersUrl({ status: '', q: '律所' }, 1, 20), '/api/admin/providers?q=%E5%BE%8B%E6%89%80&page=1&page_size=20'],
  ['adminStatementsUrl', () => admin.adminStatementsUrl({ state: 'submitted' }, 1, 1), '/api/admin/statements?state=submitted&page=1&page_size=1'],
  ['adminStatementExportUrl', () => admin.adminStatementExportUrl(5, 'csv'), '/api/admin/statements/5/export?format=csv'],
  ['checkinScansUrl', () => admin.checkinScansUrl({ kind: 'forced', reviewed: false }, 1, 1), '/api/admin/checkin-scans?kind=forced&reviewed=false&page=1&page_size=1'],
  ['eventsUrl', () => events.eventsUrl({ when: 'upcoming', kind: 'salon', district: '', q: '' }, 1, 10), '/api/events?when=upcoming&kind=salon&page=1&page_size=10'],
  ['registrationUrl', () => events.registrationUrl(9), '/api/me/registrations/9'],
  ['myRegistrationsUrl', () => events.myRegistrationsUrl('past', 1, 20), '/api/me/registrations?when=past&page=1&page_size=20'],
  ['organiserEventsUrl', () => events.organiserEventsUrl({ state: '' }, 1, 20), '/api/organiser/events?page=1&page_size=20'],
  ['attendeesUrl all', () => events.attendeesUrl(4, '', 1, 20), '/api/organiser/events/4/registrations?page=1&page_size=20'],
  ['attendeesUrl state', () => events.attendeesUrl(4, 'pending', 1, 20), '/api/organiser/events/4/registrations?page=1&page_size=20&state=pending'],
  ['attendeesUrl checked in', () => events.attendeesUrl(4, 'checked_in', 2, 20), '/api/organiser/events/4/registrations?page=2&page_size=20&checked_in=true'],
  ['eventScansUrl', () => events.eventScansUrl(4, 1, 20), '/api/organiser/events/4/scans?page=1&page_size=20'],
  ['attendanceExportUrl', () => events.attendanceExportUrl(4, 'xlsx'), '/api/organiser/events/4/export?format=xlsx'],
  ['organiserFiguresUrl', () => events.organiserFiguresUrl({ year: 2026, group: 'place' }), '/api/organiser/figures?year=2026&group=place'],
  ['myVisitsUrl', () => visits.myVisitsUrl(1, 20), '/api/me/visits?page=1&page_size=20'],
  ['visitsUrl', () => visits.visitsUrl({ day_from: '2026-12-01', day_to: '2026-12-04', purpose: '', district: '370811' }, 1, 20), '/api/checkins/visits?day_from=2026-12-01&day_to=2026-12-04&district=370811&page=1&page_size=20'],
  ['visitsExportUrl', () => visits.visitsExportUrl({ day_from: '2026-12-01', day_to: '2026-12-04', format: 'csv' }), '/api/checkins/export?day_from=2026-12-01&day_to=2026-12-04&format=csv'],
]

describe('list and export URLs', () => {
  for (const [name, build, expected] of URLS) it(name, () => expect(build()).toBe(expected))
})

// Cache-first readers: [name, call(onData), URL read]
const READERS = [
  ['readJobs', (cb) => jobs.readJobs(cb), '/api/admin/jobs'],
  ['readMe', (cb) => accounts.readMe(cb), '/api/me'],
  ['readDevices', (cb) => accounts.readDevices(cb), '/api/me/devices'],
  ['readLatestNotifications', (cb) => notifications.readLatestNotifications(cb), '/api/me/notifications?page=1&page_size=100'],
  ['readPlace', (cb) => places.readPlace(6, cb), '/api/places/6'],
  ['readBatch', (cb) => vouchers.readBatch(3, cb), '/api/voucher-batches/3'],
  ['readMyVoucher', (cb) => vouchers.readMyVoucher(31, cb), '/api/me/vouchers/31'],
  ['readMyProvider', (cb) => providers.readMyProvider(cb), '/api/provider'],
  ['readRedemptionTotals', (cb) => providers.readRedemptionTotals({ day: '2026-12-04' }, cb), '/api/provider/redemptions/totals?day=2026-12-04'],
  ['readAdminBatch', (cb) => admin.readAdminBatch(2, cb), '/api/admin/voucher-batches/2'],
  ['readEvent', (cb) => events.readEvent(4, cb), '/api/events/4'],
  ['readRegistration', (cb) => events.readRegistration(9, cb), '/api/me/registrations/9'],
  ['readVisitFigures', (cb) => visits.readVisitFigures({ day_from: '2026-12-01', day_to: '2026-12-04', group: 'district', bucket: 'day' }, cb), '/api/checkins/figures?day_from=2026-12-01&day_to=2026-12-04&group=district&bucket=day'],
]

describe('cache-first readers', () => {
  for (const [name, read, url] of READERS) {
    it(name, async () => {
      const onData = vi.fn()
      await read(onData)
      expect(sent()).toMatchObject({ url, method: 'GET', auth: 'Bearer access-1' })
      expect(onData).toHaveBeenCalledWith({ id: 7 }, expect.objectContaining({ source: 'network' }))
    })
  }
})

describe('what the modules keep on the phone', () => {
  it('updateMe PATCHes and stores the answer as the cached /api/me', async () => {
    fetchMock.mockResolvedValueOnce(json({ id: 1, name: '张三' }))
    expect(await accounts.updateMe({ name: '张三' })).toEqual({ id: 1, name: '张三' })
    expect(sent()).toMatchObject({ url: '/api/me', method: 'PATCH', body: { name: '张三' } })
    await vi.waitFor(async () => expect((await readCached(1, '/api/me'))?.data).toEqual({ id: 1, name: '张三' }))
  })

  it('signUp and cancelRegistration keep the ticket under the URL the ticket page reads', async () => {
    fetchMock.mockResolvedValueOnce(json({ id: 9, state: 'registered', ticket: { code: 'T' } }, 201))
    await events.signUp(4)
    expect(sent()).toMatchObject({ url: '/api/events/4/registrations', method: 'POST', body: undefined })
    expect((await readCached(1, '/api/me/registrations/9')).data.state).toBe('registered')

    fetchMock.mockClear()
    fetchMock.mockResolvedValueOnce(json({ id: 9, state: 'cancelled' }))
    await events.cancelRegistration(9)
    expect(sent()).toMatchObject({ url: '/api/me/registrations/9/cancel', method: 'POST' })
    expect((await readCached(1, '/api/me/registrations/9')).data.state).toBe('cancelled')
  })

  it('prefetchTickets reads only live, upcoming, not-yet-checked-in registrations', async () => {
    const regs = [
      { id: 1, state: 'registered', event: { state: 'published' } },
      { id: 2, state: 'cancelled', event: { state: 'published' } },
      { id: 3, state: 'waitlisted', event: { state: 'cancelled' } },
      { id: 4, state: 'pending', event: { state: 'published' }, checked_in_at: null },
      { id: 5, state: 'registered', event: { state: 'published' }, checked_in_at: '2026-12-01T02:00:00Z' },
    ]
    expect(await events.prefetchTickets(regs)).toBe(2)
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(['/api/me/registrations/1', '/api/me/registrations/4'])
  })

  it('the pay-code page reads receipts since an instant and the code state without going to login', async () => {
    const onAuthFailure = vi.fn()
    setAuthFailureHandler(onAuthFailure)
    await vouchers.receiptsSince('2026-12-04T06:00:00.000Z')
    expect(sent().url).toBe('/api/me/receipts?since=2026-12-04T06%3A00%3A00.000Z&page=1&page_size=10')
    fetchMock.mockClear()
    fetchMock.mockResolvedValueOnce(json({ code: 'token_revoked', message: '请重新登录' }, 401))
    await expect(vouchers.getPayCodeState()).rejects.toMatchObject({ status: 401 })
    expect(fetchMock.mock.calls[0][0]).toBe('/api/me/pay-code')
    expect(onAuthFailure).not.toHaveBeenCalled()
  })
})
