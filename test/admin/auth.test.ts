import { afterEach, describe, expect, it } from 'vitest'
import { createGateway } from '../../src/index.js'
import { adminFixture, type AdminFixture } from './fixture.js'

let f: AdminFixture | undefined
afterEach(async () => {
  await f?.close()
  f = undefined
})

describe('API keys', () => {
  it('answers 401 without a key or with a wrong one, and serves with a right one', async () => {
    f = await adminFixture({ admin: { keys: ['first-key-0001', 'second-key-002'] } })
    const refusal = { error: 'unauthorized: send a valid API key in x-dgate-key', status: 401 }
    expect(await f.call('GET', '/api/v1/namespace')).toMatchObject({ status: 401, json: refusal })
    expect(await f.call('GET', '/api/v1/namespace', { headers: { 'x-dgate-key': 'first-key-0002' } })).toMatchObject({ status: 401, json: refusal })
    expect(await f.call('GET', '/api/v1/namespace', { headers: { 'x-dgate-key': 'first-key-000' } })).toMatchObject({ status: 401 })
    expect(await f.call('PUT', '/api/v1/namespace', { body: { name: 'x' } })).toMatchObject({ status: 401 })
    expect(f.gw.snapshot.namespace('x')).toBeUndefined()
    expect((await f.call('GET', '/api/v1/namespace', { headers: { 'x-dgate-key': 'first-key-0001' } })).status).toBe(200)
    expect((await f.call('GET', '/api/v1/namespace', { headers: { 'X-DGate-Key': 'second-key-002' } })).status).toBe(200)
  })

  it('reads the key from a configured header and leaves health and readiness open', async () => {
    f = await adminFixture({ admin: { keys: ['k-123456'], keyHeader: 'Authorization-Key' } })
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-dgate-key': 'k-123456' } })).status).toBe(401)
    expect((await f.call('GET', '/api/v1/route', { headers: { 'authorization-key': 'k-123456' } })).status).toBe(200)
    expect((await f.call('GET', '/healthz')).status).toBe(200)
    expect((await f.call('GET', '/readyz')).status).toBe(200)
  })

  it('never echoes a key in a refusal', async () => {
    f = await adminFixture({ admin: { keys: ['the-real-key'] } })
    const wrong = await f.call('GET', '/api/v1/route', { headers: { 'x-dgate-key': 'a-guessed-key' } })
    expect(wrong.text).not.toContain('a-guessed-key')
    expect(wrong.text).not.toContain('the-real-key')
  })

  it.each([
    [{ auth: 'key' as const }, 'admin.auth is "key" but admin.keys is empty: refusing to serve an admin API that no key can open'],
    [{ auth: 'key' as const, keys: [] }, 'admin.auth is "key" but admin.keys is empty: refusing to serve an admin API that no key can open'],
    [{ auth: 'none' as const, keys: ['k'] }, 'admin.keys are set but admin.auth is "none": say "key" to require them'],
    [{ keys: [''] }, 'admin.keys[0] must be a non-empty string'],
    [{ allowList: ['10.0.0.0/33'] }, 'admin.allowList[0] must be an IP address or a CIDR, not "10.0.0.0/33"'],
    [{ allowList: ['localhost'] }, 'admin.allowList[0] must be an IP address or a CIDR, not "localhost"'],
    [{ keyHeader: 'bad header' }, 'admin.keyHeader must be a header name, not "bad header"'],
    [{ maxBodySize: 0 }, 'admin.maxBodySize must be a positive integer, not 0'],
  ])('fails closed at creation on %j', async (admin, message) => {
    await expect(createGateway({ admin })).rejects.toThrow(new TypeError(message))
  })
})

describe('the allow-list', () => {
  it('answers 403 outside it, before looking at keys, on every path', async () => {
    f = await adminFixture({ admin: { allowList: ['10.0.0.0/8', '::1'], keys: ['k-123456'] } })
    const refusal = { status: 403, json: { error: 'forbidden: this address may not use the admin API', status: 403 } }
    expect(await f.call('GET', '/api/v1/route', { headers: { 'x-dgate-key': 'k-123456' } })).toMatchObject(refusal)
    expect(await f.call('GET', '/api/v1/route')).toMatchObject(refusal)
    expect(await f.call('GET', '/healthz')).toMatchObject(refusal)
  })

  it('admits addresses inside a CIDR (IPv4 peers of dual-stack sockets included)', async () => {
    f = await adminFixture({ admin: { allowList: ['127.0.0.0/8'] } })
    expect((await f.call('GET', '/api/v1/route')).status).toBe(200)
  })

  it('checks the n-th X-Forwarded-For entry from the end when told to trust n proxies', async () => {
    f = await adminFixture({ admin: { allowList: ['192.0.2.0/24'], xForwardedForDepth: 1 } })
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': '203.0.113.9, 192.0.2.7' } })).status).toBe(200)
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': '192.0.2.7, 203.0.113.9' } })).status).toBe(403)
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': 'garbage' } })).status).toBe(403)
    expect((await f.call('GET', '/api/v1/route')).status).toBe(403)
  })

  it('defaults to loopback only when no keys are required, and to every address when they are', async () => {
    f = await adminFixture({ admin: { xForwardedForDepth: 1 } })
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(403)
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': '127.0.0.1' } })).status).toBe(200)
    await f.close()
    f = await adminFixture({ admin: { xForwardedForDepth: 1, keys: ['k-123456'] } })
    expect((await f.call('GET', '/api/v1/route', { headers: { 'x-forwarded-for': '203.0.113.9', 'x-dgate-key': 'k-123456' } })).status).toBe(200)
  })
})
