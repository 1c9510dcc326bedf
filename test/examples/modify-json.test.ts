import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway } from '../../src/index.js'
import { createModuleHarness } from '../../src/testing/index.js'
import { listen, type Running } from '../helpers/servers.js'

// examples/modify-json: a requestModifier and a responseModifier rewriting JSON both ways, through a live gateway
// served by a plain http.Server with gw.handler (realm runtime; TypeScript payload).
const payload = readFileSync(new URL('../../examples/modify-json/modify-json.ts', import.meta.url), 'utf8')

interface Seen {
  method: string
  url: string
  contentType: string | undefined
  contentLength: string | undefined
  body: string
}

let gw: Gateway
let front: Running
let upstream: Running
const seen: Seen[] = []

/** The users v2 upstream of the example: creates users, reads them, and shows a field nobody should see. */
function usersV2(): Promise<Running> {
  const users = new Map<string, object>()
  return listen(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], contentLength: req.headers['content-length'], body })
    const answer = (status: number, data: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(data))
    if (req.method === 'POST' && req.headers['content-type'] === 'text/plain') return answer(200, { echoed: body })
    if (req.method === 'POST') {
      const user = { id: users.size + 1, ...(JSON.parse(body) as object), passwordHash: 'secret-hash' }
      users.set(String(user.id), user)
      return answer(201, user)
    }
    const user = users.get(req.url!.replace('/users/', ''))
    return user ? answer(200, user) : answer(404, { error: 'no such user' })
  })
}

beforeAll(async () => {
  upstream = await usersV2()
  gw = await createGateway({ modules: { runtime: 'realm' }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.modules.put({ name: 'v1-compat', moduleType: 'typescript', payload })
  await gw.services.put({ name: 'users', urls: [`${upstream.url}/users`] })
  await gw.routes.put({ name: 'users-v1', paths: ['/v1/users', '/v1/users/*'], methods: ['GET', 'POST'], service: 'users', modules: ['v1-compat'], stripPath: true })
  front = await listen(gw.handler)
})
afterAll(async () => {
  await front?.close()
  await gw?.close()
  await upstream?.close()
})

async function call(method: 'GET' | 'POST', path: string, body?: string, contentType = 'application/json') {
  const res = await request(`${front.url}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } })
  const text = await res.body.text()
  return { status: res.statusCode, text, length: res.headers['content-length'], type: res.headers['content-type'] }
}

describe('examples/modify-json through a live gateway', () => {
  it('rewrites the request JSON for the upstream and the upstream JSON for the client, with correct lengths', async () => {
    const created = await call('POST', '/v1/users', JSON.stringify({ user_name: 'Zoë Ünal', e_mail: 'zoe@example.com', role: 'admin' }))
    // The upstream got v2 names, in the same order, with a content-length of the new body (in bytes: ë, Ü).
    const got = seen.at(-1)!
    expect(got.url).toBe('/users')
    expect(got.body).toBe('{"name":"Zoë Ünal","email":"zoe@example.com","role":"admin"}')
    expect(got.contentLength).toBe(String(Buffer.byteLength(got.body)))
    expect(got.contentType).toBe('application/json')
    // The client gets v1 names back, the upstream's 201, no passwordHash, and the length of what it got.
    expect(created.status).toBe(201)
    expect(created.text).toBe('{"id":1,"user_name":"Zoë Ünal","e_mail":"zoe@example.com","role":"admin"}')
    expect(created.length).toBe(String(Buffer.byteLength(created.text)))
    expect(created.type).toMatch(/^application\/json/)

    const read = await call('GET', '/v1/users/1')
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/users/1', body: '' })
    expect([read.status, JSON.parse(read.text), read.length]).toEqual([200, { id: 1, user_name: 'Zoë Ünal', e_mail: 'zoe@example.com', role: 'admin' }, String(Buffer.byteLength(read.text))])
  })

  it("keeps the upstream's error status, and passes bodies that aren't JSON objects through unchanged", async () => {
    const missing = await call('GET', '/v1/users/99')
    expect([missing.status, missing.text, missing.length]).toEqual([404, '{"error":"no such user"}', '24'])
    const plain = await call('POST', '/v1/users', 'user_name=x', 'text/plain')
    expect(seen.at(-1)?.body).toBe('user_name=x')
    expect([plain.status, JSON.parse(plain.text)]).toEqual([200, { echoed: 'user_name=x' }])
  })

  it('answers 400 for a body that is not JSON, and the upstream never sees it', async () => {
    const before = seen.length
    const bad = await call('POST', '/v1/users', '{"user_name": ')
    expect([bad.status, JSON.parse(bad.text)]).toEqual([400, { error: 'the request body is not valid JSON' }])
    expect(seen.length).toBe(before)
  })
})

describe('examples/modify-json in the module harness', () => {
  it('requestModifier rewrites the JSON body to v2 names; a body that is not JSON is answered 400', async () => {
    const harness = await createModuleHarness({ module: payload, moduleType: 'typescript', upstream: { status: 200 } })
    try {
      const { request, error, response } = await harness.call('requestModifier', { method: 'POST', body: { user_name: 'Zoë', e_mail: 'z@example.com', role: 'x' } })
      expect([error, response]).toEqual([undefined, undefined])
      expect(request.text()).toBe('{"name":"Zoë","email":"z@example.com","role":"x"}')
      expect(request.headers.get('content-type')).toBe('application/json')
      const bad = await harness.call('requestModifier', { method: 'POST', body: '{"user_name": ', headers: { 'content-type': 'application/json' } })
      expect([bad.response?.status, bad.response?.json()]).toEqual([400, { error: 'the request body is not valid JSON' }])
    } finally {
      await harness.close()
    }
  })

  it('responseModifier rewrites the upstream JSON to v1 names without passwordHash, keeping the status', async () => {
    const harness = await createModuleHarness({ module: payload, moduleType: 'typescript', upstream: { status: 200 } })
    try {
      const { upstream } = await harness.call('responseModifier', {}, { upstream: { status: 201, body: { id: 7, name: 'Zoë', email: 'z@example.com', passwordHash: 'h' } } })
      expect(upstream?.status).toBe(201)
      expect(upstream?.text()).toBe('{"id":7,"user_name":"Zoë","e_mail":"z@example.com"}')
    } finally {
      await harness.close()
    }
  })

  it('the whole pipeline: v1 in, v2 upstream, v1 out, with the lengths of the rewritten bodies', async () => {
    const harness = await createModuleHarness({
      module: payload,
      moduleType: 'typescript',
      upstream: (req) => ({ status: 201, body: { id: 1, ...req.json<object>(), passwordHash: 'h' } }),
    })
    try {
      const run = await harness.run({ method: 'POST', url: '/', body: { user_name: 'Zoë', e_mail: 'z@example.com' } })
      expect(run.hooks).toEqual(['requestModifier', 'responseModifier'])
      expect(run.upstreamRequest?.json()).toEqual({ name: 'Zoë', email: 'z@example.com' })
      expect(run.response.status).toBe(201)
      expect(run.response.text()).toBe('{"id":1,"user_name":"Zoë","e_mail":"z@example.com"}')
      expect(run.response.headers.get('content-length')).toBe(String(run.response.body.byteLength))
    } finally {
      await harness.close()
    }
  })
})
