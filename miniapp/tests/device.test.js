// This phone's device key: registered once, renewed near expiry, replaced when the server has
// dropped it, forgotten at logout — and the codes it makes verify against its credential.
import { IDBFactory } from 'fake-indexeddb'
import { ed25519 } from '@noble/curves/ed25519.js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { closeCacheDB } from '../lib/cache.js'
import {
  b64url, b64urlDecode, encodeSigned, fromText, keysFromListing, makePersonal, toText, verifyPersonal,
} from '../lib/codes.js'
import {
  RENEW_BEFORE, closeDeviceDB, credentialBytes, deviceLabel, ensureDevice, forgetDevice, loadDevice, usableCredential,
} from '../lib/device.js'
import { endSession, startSession } from '../lib/session.js'

const NOW = Math.floor(Date.now() / 1000)
const SEED = new Uint8Array(32).fill(7)
const KEYS = keysFromListing([{ kid: 4, alg: 'Ed25519', public_key: b64url(ed25519.getPublicKey(SEED)) }])
const ALICE = { id: 501, name: '张创业', roles: ['entrepreneur'] }

/** A pretend /api/me/devices: issues credentials, can revoke, can be offline. */
function fakeServer() {
  const server = { devices: new Map(), nextId: 11, offline: false, calls: [], timing: true }
  const issue = (device) => ({
    device: { id: device.id, name: device.name },
    credential: toText(encodeSigned('credential', { user_id: ALICE.id, device_id: device.id, device_key: device.key }, {
      kid: 4, privateKey: SEED, notBefore: NOW - 300, notAfter: NOW + 7 * 86400,
    })),
    // as the server sends them with every credential (timing false: as an older server did)
    ...(server.timing ? { code_window: 30, refresh_seconds: 20 } : {}),
  })
  const json = (body, status = 200) => new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
  vi.stubGlobal('fetch', vi.fn(async (url, init = {}) => {
    const method = init.method || 'GET'
    server.calls.push(`${method} ${url}`)
    if (server.offline) throw new TypeError('Failed to fetch')
    let m
    if (url === '/api/me/devices' && method === 'POST') {
      const body = JSON.parse(init.body)
      const device = { id: server.nextId++, name: body.name, key: b64urlDecode(body.public_key), revoked: false }
      server.devices.set(device.id, device)
      return json(issue(device), 201)
    }
    if (url === '/api/me/devices' && method === 'GET') {
      return json([...server.devices.values()].filter((d) => !d.revoked).map((d) => ({ id: d.id, name: d.name })))
    }
    if ((m = url.match(/^\/api\/me\/devices\/(\d+)\/credential$/))) {
      const device = server.devices.get(Number(m[1]))
      if (!device) return json({ code: 'device_not_found', message: '设备不存在' }, 404)
      if (device.revoked) return json({ code: 'device_revoked', message: '该设备已移除，请重新登录绑定' }, 409)
      return json(issue(device))
    }
    if ((m = url.match(/^\/api\/me\/devices\/(\d+)$/)) && method === 'DELETE') {
      server.devices.get(Number(m[1])).revoked = true
      return new Response(null, { status: 204 })
    }
    throw new Error(`unexpected ${method} ${url}`)
  }))
  return server
}

async function codeVerifies(record) {
  const code = await makePersonal(credentialBytes(record), record.key_pair.privateKey, 'identify', NOW)
  return verifyPersonal(fromText(toText(code)), { keys: KEYS, now: NOW })
}

beforeEach(async () => {
  await closeDeviceDB()
  await closeCacheDB()
  globalThis.indexedDB = new IDBFactory()
  startSession({ access_token: 'a', refresh_token: 'r', user: ALICE })
})

afterEach(() => {
  vi.unstubAllGlobals()
  endSession()
})

describe('ensureDevice', () => {
  it('makes a non-extractable P-256 key, registers its compressed public key and keeps the credential', async () => {
    const server = fakeServer()
    const record = await ensureDevice({ now: NOW, online: true })
    expect(server.calls).toEqual(['POST /api/me/devices'])
    const sent = JSON.parse(fetch.mock.calls[0][1].body)
    expect(b64urlDecode(sent.public_key)).toHaveLength(33)
    expect(sent.name).toMatch(/ · /)
    expect(record).toMatchObject({ user_id: 501, device_id: 11, expires_at: NOW + 7 * 86400, code_window: 30,
      refresh_seconds: 20 })
    expect(record.key_pair.privateKey.extractable).toBe(false)
    expect(usableCredential(record, NOW)).toBe(true)

    await closeDeviceDB() // as after a restart: the CryptoKey comes back out of IndexedDB
    const stored = await loadDevice(501)
    expect(await codeVerifies(stored)).toMatchObject({ userId: 501, deviceId: 11, purpose: 'identify' })
  })

  it('needs no network once registered, and makes no new key', async () => {
    const server = fakeServer()
    const first = await ensureDevice({ now: NOW, online: true })
    server.offline = true
    const again = await ensureDevice({ now: NOW + 60, online: false })
    expect(again.public_key).toBe(first.public_key)
    expect(server.calls).toHaveLength(1)
    // the network is said to be there but does not answer: the good credential is still used
    expect((await ensureDevice({ now: NOW + 5 * 86400, online: true })).credential).toBe(first.credential)
  })

  it('a record kept from before the server sent the code timing renews once to learn it', async () => {
    const server = fakeServer()
    server.timing = false
    const old = await ensureDevice({ now: NOW, online: true })
    expect(old.refresh_seconds).toBeUndefined()
    server.timing = true
    const renewed = await ensureDevice({ now: NOW + 60, online: true })
    expect(server.calls.at(-1)).toBe('POST /api/me/devices/11/credential')
    expect([renewed.code_window, renewed.refresh_seconds]).toEqual([30, 20])
    expect((await loadDevice()).refresh_seconds).toBe(20)
    await ensureDevice({ now: NOW + 120, online: true })
    expect(server.calls).toHaveLength(2)
  })

  it('renews when fewer than three days are left', async () => {
    const server = fakeServer()
    await ensureDevice({ now: NOW, online: true })
    await ensureDevice({ now: NOW + 7 * 86400 - RENEW_BEFORE - 10, online: true })
    expect(server.calls).toHaveLength(1)
    const renewed = await ensureDevice({ now: NOW + 7 * 86400 - RENEW_BEFORE + 10, online: true })
    expect(server.calls.at(-1)).toBe('POST /api/me/devices/11/credential')
    expect(renewed.device_id).toBe(11)
  })

  it('drops the key and registers a new one when the server has removed the device', async () => {
    const server = fakeServer()
    const first = await ensureDevice({ now: NOW, online: true })
    server.devices.get(11).revoked = true
    const second = await ensureDevice({ now: NOW + 5 * 86400, online: true }) // renewal → 409 device_revoked
    expect(second.device_id).toBe(12)
    expect(second.public_key).not.toBe(first.public_key)
    server.devices.clear()
    const third = await ensureDevice({ now: NOW + 12 * 86400, online: true }) // renewal → 404 device_not_found
    expect(third.device_id).toBe(13)
  })

  it('with check, notices a removal before renewal is due', async () => {
    const server = fakeServer()
    await ensureDevice({ now: NOW, online: true })
    server.devices.get(11).revoked = true
    expect((await ensureDevice({ now: NOW, online: true })).device_id).toBe(11)
    expect((await ensureDevice({ now: NOW, online: true, check: true })).device_id).toBe(12)
  })

  it('offline before the first registration: a key but no credential; no network at all: an error', async () => {
    const server = fakeServer()
    server.offline = true
    const record = await ensureDevice({ now: NOW, online: false })
    expect(record.key_pair).toBeTruthy()
    expect(usableCredential(record, NOW)).toBe(false)
    await expect(ensureDevice({ now: NOW, online: true })).rejects.toMatchObject({ code: 'network_error' })
    server.offline = false
    expect((await ensureDevice({ now: NOW, online: true })).public_key).toBe(record.public_key) // same key registered
  })

  it('keeps one device per user on a shared phone', async () => {
    fakeServer()
    const alice = await ensureDevice({ now: NOW, online: true })
    startSession({ access_token: 'b', refresh_token: 'r', user: { id: 502, name: '李四', roles: ['entrepreneur'] } })
    const bob = await ensureDevice({ now: NOW, online: true })
    expect(bob.user_id).toBe(502)
    expect(bob.public_key).not.toBe(alice.public_key)
    expect((await loadDevice(501)).public_key).toBe(alice.public_key)
  })
})

describe('forgetDevice', () => {
  it('removes the device on the server and the key here', async () => {
    const server = fakeServer()
    await ensureDevice({ now: NOW, online: true })
    await forgetDevice(501)
    expect(server.calls.at(-1)).toBe('DELETE /api/me/devices/11')
    expect(await loadDevice(501)).toBeNull()
  })

  it('forgets the key even when the server cannot be told', async () => {
    const server = fakeServer()
    await ensureDevice({ now: NOW, online: true })
    server.offline = true
    await forgetDevice(501)
    expect(await loadDevice(501)).toBeNull()
  })
})

describe('deviceLabel', () => {
  it.each([
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN', 'iPhone · 微信'],
    ['Mozilla/5.0 (Linux; Android 14; 23127PN0CC Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/5G Language/zh_CN ABI/arm64', 'Android · 微信'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'iPhone · Safari'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36', 'Linux · Chrome'],
  ])('%s', (ua, label) => {
    expect(deviceLabel(ua)).toBe(label)
  })
})
