// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../lib/api.js'
import { endSession, getAccessToken, startSession } from '../lib/session.js'
import { checkFile, fetchUploadBlob, formatSize, uploadFile } from '../lib/upload.js'

const ALICE = { id: 1, name: '张创业', roles: ['entrepreneur'], phone_masked: '138****0001' }

/** A stand-in XMLHttpRequest answering from a queue: {status, body} | 'offline'. */
function fakeXhr(...answers) {
  const sent = []
  class FakeXHR {
    constructor() {
      this.headers = {}
      this.upload = {}
    }
    open(method, url) {
      Object.assign(this, { method, url })
    }
    setRequestHeader(name, value) {
      this.headers[name] = value
    }
    getResponseHeader(name) {
      return this.responseHeaders?.[name] ?? null
    }
    abort() {
      this.onabort?.()
    }
    send(body) {
      sent.push({ url: this.url, method: this.method, headers: { ...this.headers }, body })
      const answer = answers.shift()
      queueMicrotask(() => {
        if (answer === 'offline') return this.onerror?.()
        this.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 })
        this.status = answer.status
        this.responseText = JSON.stringify(answer.body)
        this.responseHeaders = answer.headers || {}
        this.onload?.()
      })
    }
  }
  vi.stubGlobal('XMLHttpRequest', FakeXHR)
  return sent
}

function png(size = 1000, name = 'a.png', type = 'image/png') {
  return new File([new Uint8Array(size)], name, { type })
}

beforeEach(() => {
  startSession({ access_token: 'access-1', refresh_token: 'refresh-1', user: ALICE })
})

afterEach(() => {
  endSession()
  vi.unstubAllGlobals()
})

describe('checkFile', () => {
  it('accepts images and PDF up to 10 MB, by type or extension', () => {
    expect(checkFile(png())).toBeNull()
    expect(checkFile(png(10, 'scan.PDF', ''))).toBeNull()
    expect(checkFile(png(10, 'photo.webp', 'image/webp'))).toBeNull()
  })

  it('explains in Chinese what is wrong', () => {
    expect(checkFile(png(10, 'a.exe', 'application/x-msdownload'))).toContain('只支持')
    expect(checkFile(png(0))).toBe('文件是空的')
    expect(checkFile({ name: 'big.png', type: 'image/png', size: 10 * 1024 * 1024 + 1 })).toContain('10 MB')
  })

  it('formats sizes', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(2048)).toBe('2 KB')
    expect(formatSize(3_500_000)).toBe('3.3 MB')
  })
})

describe('uploadFile', () => {
  it('sends the file as multipart with the bearer token and reports progress', async () => {
    const sent = fakeXhr({ status: 201, body: { id: 7, kind: 'image', size: 1000 } })
    const progress = []
    const upload = await uploadFile(png(), { onProgress: (f) => progress.push(f) })
    expect(upload).toMatchObject({ id: 7, kind: 'image' })
    expect(sent[0]).toMatchObject({ url: '/api/uploads', method: 'POST' })
    expect(sent[0].headers.Authorization).toBe('Bearer access-1')
    expect(sent[0].body).toBeInstanceOf(FormData)
    expect(sent[0].body.get('file').name).toBe('a.png')
    expect(progress).toEqual([0.5, 1])
  })

  it('sends to another endpoint with extra fields (a loan case document and its kind)', async () => {
    const sent = fakeXhr({ status: 401, body: { code: 'token_expired', message: '登录已过期' } }, { status: 201, body: { id: 3, documents: [] } })
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ access_token: 'access-2' }), { status: 200 })))
    const answer = await uploadFile(png(), { url: '/api/loans/cases/3/documents', fields: { kind: 'id_card' } })
    expect(answer).toEqual({ id: 3, documents: [] })
    // The retry after the refresh goes to the same place with the same fields.
    expect(sent.map((s) => s.url)).toEqual(['/api/loans/cases/3/documents', '/api/loans/cases/3/documents'])
    expect(sent[1].body.get('kind')).toBe('id_card')
    expect(sent[1].body.get('file').name).toBe('a.png')
    expect(sent[1].headers.Authorization).toBe('Bearer access-2')
  })

  it('turns a refusal into an ApiError with the server code and message', async () => {
    fakeXhr({ status: 422, body: { code: 'invalid_image', message: '文件不是有效的图片', details: {} } })
    const error = await uploadFile(png()).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 422, code: 'invalid_image', message: '文件不是有效的图片' })
    expect(error.transient).toBe(false)
  })

  it('a server failure keeps the request id and shows its first 8 characters', async () => {
    const body = { code: 'service_unavailable', message: '服务暂时不可用，请稍后重试', details: {} }
    fakeXhr({ status: 503, body, headers: { 'X-Request-ID': 'abcdef0123456789' } })
    const error = await uploadFile(png()).catch((e) => e)
    expect(error).toMatchObject({ status: 503, requestId: 'abcdef0123456789', transient: true })
    expect(error.message).toBe('服务暂时不可用，请稍后重试（错误编号 abcdef01）')
  })

  it('reports no network as a transient ApiError', async () => {
    fakeXhr('offline')
    const error = await uploadFile(png()).catch((e) => e)
    expect(error).toMatchObject({ status: 0, code: 'network_error' })
    expect(error.transient).toBe(true)
  })

  it('refreshes an expired token once and sends again', async () => {
    const sent = fakeXhr({ status: 401, body: { code: 'token_expired', message: '登录已过期' } }, { status: 201, body: { id: 8 } })
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ access_token: 'access-2' }), { status: 200 })))
    const upload = await uploadFile(png())
    expect(upload.id).toBe(8)
    expect(getAccessToken()).toBe('access-2')
    expect(sent.map((s) => s.headers.Authorization)).toEqual(['Bearer access-1', 'Bearer access-2'])
  })

  it('stops when the signal aborts', async () => {
    fakeXhr({ status: 201, body: { id: 9 } })
    const controller = new AbortController()
    controller.abort()
    await expect(uploadFile(png(), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('fetchUploadBlob', () => {
  it('reads the file with the bearer token', async () => {
    const fetchMock = vi.fn(async () => new Response(new Uint8Array([1, 2, 3]), { status: 200, headers: { 'Content-Type': 'image/png' } }))
    vi.stubGlobal('fetch', fetchMock)
    const blob = await fetchUploadBlob(5)
    expect(blob.size).toBe(3)
    expect(fetchMock.mock.calls[0][0]).toBe('/api/uploads/5')
    expect(fetchMock.mock.calls[0][1].headers.Authorization).toBe('Bearer access-1')
  })

  it('throws the server error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'forbidden', message: '没有权限查看该文件' }), { status: 403 })))
    await expect(fetchUploadBlob(5)).rejects.toMatchObject({ status: 403, code: 'forbidden', message: '没有权限查看该文件' })
  })
})
