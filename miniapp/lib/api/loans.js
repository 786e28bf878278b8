// 创业担保贷款 (backend/loans/, /api/loans): cases for the entrepreneur, the station's 专员, the bank's
// loan officer and the administrator; the public 公示 list; the banks' quarterly interest statements.
// Every write answers the whole case (or statement), so a page just shows what comes back.
import { cachedGet } from '../api.js'
import { writeCached } from '../cache.js'
import { currentUserId } from '../session.js'
import { get, paged, patch, post, withQuery } from './query.js'

const CASES = '/api/loans/cases'

/** Store a case a write answered as if it had just been read, so the page's reload shows it at once. */
export async function rememberLoanCase(loanCase) {
  if (!loanCase?.id) return loanCase
  try {
    await writeCached(currentUserId(), `${CASES}/${loanCase.id}`, { data: loanCase })
  } catch {
    /* no IndexedDB here: the reload asks the network */
  }
  return loanCase
}

/** filters: {state, overdue: 1, q}. Entrepreneurs get their own cases, handlers the ones they may see. */
export const loanCasesUrl = (filters, page, size) => withQuery(CASES, { ...filters, ...paged(page, size) })
/** One page of cases as a plain read (the statement form's pick list). */
export const listLoanCases = (filters, size = 100) => get(loanCasesUrl(filters, 1, size))
export const readLoanCase = (id, onData, options) => cachedGet(`${CASES}/${id}`, onData, options)
export const getLoanCase = (id) => get(`${CASES}/${id}`)

/** The application: {borrower_type, amount (fen), term_months, purpose, business, identity_category, age, …}. */
export const createLoanCase = async (fields) => rememberLoanCase(await post(CASES, fields))
export const updateLoanCase = async (id, fields) => rememberLoanCase(await patch(`${CASES}/${id}`, fields))
/** Station staff: the case of a scanned visit (a new one, or the visitor's open one). */
export const openCaseFromVisit = async (visitId) => rememberLoanCase(await post(`${CASES}/from-visit`, { visit_id: visitId }))

/** Where each case action is sent (the `actions` a case lists → its endpoint). */
const ACTION_PATHS = {
  precheck: 'precheck',
  request_documents: 'request-documents',
  submit: 'submit',
  approve: 'approve',
  reject: 'reject',
  refer: 'refer',
  withdraw: 'withdraw',
  diligence: 'diligence',
  disburse: 'disburse',
  repay: 'repayments',
  overdue: 'overdue',
  cure: 'cure',
  extend: 'extend',
  change_rate: 'rate',
}

export const loanActionPath = (action) => ACTION_PATHS[action] || null

/** Run one of the case's actions with its form's body; resolves the updated case. */
export function runLoanAction(id, action, body = {}) {
  const path = loanActionPath(action)
  if (!path) throw new Error(`unknown loan action ${action}`)
  return post(`${CASES}/${id}/${path}`, body).then(rememberLoanCase)
}

/** Where a document of a case is uploaded (multipart: file, kind) — lib/upload.js sends it. */
export const loanDocumentsUrl = (id) => `${CASES}/${id}/documents`

export const loanNoticeUrl = (page, size) => withQuery('/api/loans/notice', paged(page, size))
/** The partner banks and their branches (one page of 100 is all of them). */
export const listLoanBanks = () => get(withQuery('/api/loans/banks', paged(1, 100)))
/** The open 创贷之家 stations (one page of 100; the picker shows them all). */
export const listLoanStations = () => get(withQuery('/api/loans/stations', paged(1, 100)))

const STATEMENTS = '/api/loans/statements'
export const loanStatementsUrl = (filters, page, size) => withQuery(STATEMENTS, { ...filters, ...paged(page, size) })
export const readLoanStatement = (id, onData, options) => cachedGet(`${STATEMENTS}/${id}`, onData, options)
/** Bank staff: {year, quarter, lines: [{case_id, interest (fen)}]}; the server computes the subsidy. */
export const createLoanStatement = (statement) => post(STATEMENTS, statement)
export const approveLoanStatement = (id) => post(`${STATEMENTS}/${id}/approve`)
export const payLoanStatement = (id) => post(`${STATEMENTS}/${id}/pay`)
export const loanStatementXlsxUrl = (id) => `${STATEMENTS}/${id}.xlsx`
