import { afterEach, describe, expect, it } from 'vitest'
import { defineModule } from '../../src/index.js'
import { createModuleHarness, type ModuleHarness, type ModuleHarnessOptions } from '../../src/testing/index.js'

const open: ModuleHarness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function harness(options: ModuleHarnessOptions): Promise<ModuleHarness> {
  const h = await createModuleHarness(options)
  open.push(h)
  return h
}

const RECORD_ALL = `
export function fetchUpstream(ctx) { ctx.set('order', ['fetchUpstream']); return 'http://picked.test:8080/base' }
export function requestModifier(ctx) { ctx.set('order', [...(ctx.get('order') ?? []), 'requestModifier']) }
export function responseModifier(ctx) { ctx.upstream().headers.set('x-order', [...ctx.get('order'), 'responseModifier'].join(',')) }
export function requestHandler(ctx) { ctx.response().json({ order: [...(ctx.get('order') ?? []), 'requestHandler'] }) }
`

describe('createModuleHarness: the hook order of DESIGN.md 5.1', () => {
  it('service route: fetchUpstream → requestModifier → upstream → responseModifier, sharing ctx.get/set', async () => {
    const h = await harness({ module: RECORD_ALL, upstream: { status: 201, body: { saved: true } } })
    const result = await h.run({ url: '/items/7?x=1' })
    expect(result.hooks).toEqual(['fetchUpstream', 'requestModifier', 'responseModifier'])
    expect(result.upstreamRequest?.url).toBe('http://picked.test:8080/base/items/7?x=1')
    expect(result.response.status).toBe(201)
    expect(result.response.from).toBe('upstream')
    expect(result.response.headers.get('x-order')).toBe('fetchUpstream,requestModifier,responseModifier')
    expect(result.response.json()).toEqual({ saved: true })
  })

  it('route without a service: requestModifier → requestHandler', async () => {
    const h = await harness({ module: RECORD_ALL })
    const result = await h.run()
    expect(result.hooks).toEqual(['requestModifier', 'requestHandler'])
    expect(result.upstreamRequest).toBeUndefined()
    expect([result.response.status, result.response.from, result.response.json()]).toEqual([200, 'requestHandler', { order: ['requestModifier', 'requestHandler'] }])
  })

  it('neither a service nor a requestHandler: 501 from the gateway', async () => {
    const h = await harness({ module: 'export function requestModifier() {}' })
    const result = await h.run()
    expect([result.response.status, result.response.from]).toEqual([501, 'gateway'])
    expect(result.response.json()).toEqual({ error: 'route has no service and no request handler', status: 501 })
  })

  it('a hook that wrote the response ends the request: nothing is proxied and no later hook runs', async () => {
    const h = await harness({
      module: `export function requestModifier(ctx) { if (!ctx.request().headers.get('x-key')) ctx.response().status(401).json({ error: 'no key' }) }
        export function responseModifier(ctx) { ctx.upstream().status(299) }`,
      upstream: { body: 'secret' },
    })
    const refused = await h.run()
    expect(refused.hooks).toEqual(['requestModifier'])
    expect(refused.upstreamRequest).toBeUndefined()
    expect([refused.response.status, refused.response.from, refused.response.json()]).toEqual([401, 'requestModifier', { error: 'no key' }])
    expect(refused.response.headers.get('content-length')).toBe(String('{"error":"no key"}'.length))
    const allowed = await h.run({ headers: { 'x-key': 'k' } })
    expect([allowed.response.status, allowed.response.text()]).toEqual([299, 'secret'])
  })

  it('a fetchUpstream that answers ends the request too', async () => {
    const h = await harness({ module: `export function fetchUpstream(ctx) { ctx.response().status(503).end('maintenance') }`, upstream: {} })
    const result = await h.run()
    expect([result.response.status, result.response.text(), result.upstreamRequest]).toEqual([503, 'maintenance', undefined])
  })

  it('a requestHandler that writes nothing answers 204; one that sets only a status answers it', async () => {
    const empty = await harness({ module: 'export function requestHandler() {}' })
    expect((await empty.run()).response.status).toBe(204)
    const status = await harness({ module: 'export function requestHandler(ctx) { ctx.response().status(202) }' })
    expect((await status.run()).response.status).toBe(202)
  })
})

describe('createModuleHarness: failures', () => {
  const INTERNAL = { error: 'internal error', status: 500 }
  it.each([
    ['fetchUpstream throws', 'export function fetchUpstream() { throw new Error("secret detail") }'],
    ['fetchUpstream returns nothing', 'export function fetchUpstream() {}'],
    ['fetchUpstream returns a non-URL', 'export function fetchUpstream() { return "ftp://x" }'],
    ['requestModifier rejects', 'export async function requestModifier() { throw new Error("secret detail") }'],
    ['responseModifier throws', 'export function responseModifier() { throw new Error("secret detail") }'],
  ])('%s: 500 without an errorHandler, and no detail leaks', async (_what, module) => {
    const h = await harness({ module, upstream: {} })
    const result = await h.run()
    expect([result.response.status, result.response.from, result.response.json()]).toEqual([500, 'gateway', INTERNAL])
  })

  it('a requestHandler failure reaches errorHandler with the message and status 500', async () => {
    const h = await harness({
      module: `export function requestHandler() { throw new Error('db down') }
        export function errorHandler(ctx, err) { ctx.response().status(418).json({ handled: err.message, status: err.status }) }`,
    })
    const result = await h.run()
    expect(result.hooks).toEqual(['requestHandler', 'errorHandler'])
    expect(result.failures).toEqual([{ hook: 'requestHandler', message: 'db down', code: 'thrown' }])
    expect([result.response.status, result.response.from, result.response.json()]).toEqual([418, 'errorHandler', { handled: 'db down', status: 500 }])
  })

  it.each([
    ['unavailable', 502, 'upstream unavailable'],
    ['timeout', 504, 'upstream timed out'],
  ] as const)('an upstream that is %s: %i, through errorHandler when there is one', async (upstream, status, message) => {
    const bare = await harness({ module: 'export function requestModifier() {}', upstream })
    const plain = await bare.run()
    expect([plain.response.status, plain.response.json()]).toEqual([status, { error: message, status }])
    const handled = await harness({ module: 'export function errorHandler(ctx, err) { ctx.response().status(503).json({ saw: err.message, status: err.status }) }', upstream })
    expect((await handled.run()).response.json()).toEqual({ saw: message, status })
  })

  it('an upstream function that throws counts as unavailable', async () => {
    const h = await harness({
      module: 'export function requestModifier() {}',
      upstream: () => {
        throw new Error('connection refused')
      },
    })
    expect((await h.run()).response.status).toBe(502)
  })

  it.each([
    ['with . or .. segments', '/a/../admin', 'a hook set the path "/a/../admin", which has "." or ".." segments'],
    ['that cannot be percent-encoded', '/x\\ud800', 'a hook set the path "/x\\ud800", which is not valid Unicode (a lone surrogate)'],
  ])('a path a hook assigns %s is not sent: 500, the errorHandler sees why', async (_what, path, message) => {
    const module = (handler: string) => `export function requestModifier(ctx) { ctx.request().path = '${path}' }${handler}`
    const refused = await (await harness({ module: module(''), upstream: {} })).run()
    expect([refused.response.status, refused.response.json(), refused.upstreamRequest]).toEqual([500, INTERNAL, undefined])
    const handled = await (await harness({ module: module(`\nexport function errorHandler(ctx, err) { ctx.response().status(500).json({ saw: err.message }) }`), upstream: {} })).run()
    expect(handled.response.json()).toEqual({ saw: message })
  })

  it('an errorHandler that throws gives 500; one that does not answer leaves the default answer', async () => {
    const throws = await harness({ module: 'export function requestHandler() { throw new Error("a") }\nexport function errorHandler() { throw new Error("b") }' })
    const thrown = await throws.run()
    expect([thrown.response.status, thrown.response.json(), thrown.failures.map((f) => f.hook)]).toEqual([500, INTERNAL, ['requestHandler', 'errorHandler']])
    const silent = await harness({ module: 'export function requestModifier() { throw new Error("a") }\nexport function errorHandler() {}', upstream: {} })
    expect((await silent.run()).response.json()).toEqual(INTERNAL)
  })

  it('a module that does not compile is refused with the line, as the gateway refuses it', async () => {
    await expect(createModuleHarness({ module: 'export const ok = 1\nexport const x = ;' })).rejects.toThrow(/module "main": .*line 2/)
    await expect(createModuleHarness({ module: 'import fs from "node:fs"\nexport const read = fs.readFileSync' })).rejects.toThrow(/import "node:fs" is not allowed/)
    await expect(createModuleHarness({ module: 'throw new Error("at load")' })).rejects.toThrow(/at load/)
  })
})

describe('createModuleHarness: requests, responses and bodies', () => {
  it('shows the request that goes upstream: method, path and query edits, headers, a rewritten body with its length', async () => {
    const h = await harness({
      module: `export async function requestModifier(ctx) {
        const req = ctx.request()
        const body = await req.readJson()
        req.method = 'PUT'
        req.headers.set('x-user', body.user).del('x-drop')
        req.query.set('page', '2')
        req.writeJson({ ...body, checked: true })
      }`,
      service: { urls: ['http://users.internal/v1?key=k'] },
    })
    const result = await h.run({ method: 'POST', url: '/users?sort=name', headers: { 'x-drop': '1' }, body: { user: 'ada' } })
    const sent = result.upstreamRequest!
    expect(sent.method).toBe('PUT')
    expect(sent.url).toBe('http://users.internal/v1/users?key=k&sort=name&page=2')
    expect(sent.path).toBe('/v1/users?key=k&sort=name&page=2')
    expect(sent.headers.get('x-user')).toBe('ada')
    expect(sent.headers.has('x-drop')).toBe(false)
    expect(sent.json()).toEqual({ user: 'ada', checked: true })
    expect(sent.headers.get('content-length')).toBe(String(sent.body.byteLength))
  })

  it('a body a hook only read still goes upstream whole', async () => {
    const h = await harness({ module: `export async function requestModifier(ctx) { ctx.set('len', (await ctx.request().readText()).length) }`, upstream: {} })
    const result = await h.run({ method: 'POST', body: 'hello' })
    expect([result.upstreamRequest?.text(), result.locals]).toEqual(['hello', { len: 5 }])
  })

  it('stripPath and a route name reach the upstream request and ctx.route()', async () => {
    const h = await harness({
      module: `export function requestModifier(ctx) { ctx.request().headers.set('x-route', ctx.route().name + ':' + ctx.pathParam('*')) }`,
      route: { name: 'api', paths: ['/api/*'], stripPath: true },
      params: { '*': 'users/7' },
      upstream: {},
    })
    const result = await h.run({ url: '/api/users/7?q=1' })
    expect(result.upstreamRequest?.path).toBe('/users/7?q=1')
    expect(result.upstreamRequest?.headers.get('x-route')).toBe('api:users/7')
  })

  it('an upstream function sees the request and its answer goes through responseModifier with a correct length', async () => {
    const h = await harness({
      module: `export async function responseModifier(ctx) {
        const data = await ctx.upstream().readJson()
        ctx.upstream().writeJson({ ...data, wrapped: true })
      }`,
      upstream: (request) => ({ headers: { 'x-echo': request.method }, body: { path: request.path } }),
    })
    const result = await h.run({ method: 'DELETE', url: '/things/1' })
    expect(result.response.json()).toEqual({ path: '/things/1', wrapped: true })
    expect(result.response.headers.get('x-echo')).toBe('DELETE')
    expect(result.response.headers.get('content-length')).toBe(String(result.response.body.byteLength))
  })

  it('sends headers hooks set on ctx.response() without answering with the relayed response, before the upstream ones', async () => {
    const h = await harness({
      module: `export function fetchUpstream(ctx) { ctx.response().headers.set('x-hash', 'abc'); return ctx.service().urls[0] }
        export function requestModifier(ctx) { ctx.response().headers.set('x-tag', 'module').set('content-length', '999') }
        export async function responseModifier(ctx) { ctx.upstream().writeBody((await ctx.upstream().readText()) + '!') }`,
      upstream: { headers: { 'x-tag': 'upstream' }, body: 'hi' },
    })
    const { response } = await h.run()
    expect([response.headers.get('x-hash'), response.headers.values('x-tag'), response.headers.values('content-length'), response.text()]).toEqual(['abc', ['module', 'upstream'], ['3'], 'hi!'])
  })

  it('relays the upstream body unchanged when no hook touches it', async () => {
    const h = await harness({ module: 'export function requestModifier() {}', upstream: { status: 404, headers: [['x-a', '1'], ['x-a', '2']], body: 'missing' } })
    const result = await h.run()
    expect([result.response.status, result.response.text(), result.response.headers.values('x-a')]).toEqual([404, 'missing', ['1', '2']])
  })

  it('ctx.request() sees method, path, host, remote address, length and headers of the given request', async () => {
    const h = await harness({
      module: `export async function requestHandler(ctx) {
        const r = ctx.request()
        ctx.response().json({ method: r.method, path: r.path, host: r.host, ip: r.remoteAddress, length: r.contentLength, type: r.headers.get('content-type'), body: await r.readJson(), q: ctx.query().get('q') })
      }`,
    })
    const result = await h.run({ method: 'post', url: 'https://api.example.com/a%20b?q=x', body: { n: 1 }, remoteAddress: '10.0.0.9' })
    expect(result.response.json()).toEqual({ method: 'POST', path: '/a b', host: 'api.example.com', ip: '10.0.0.9', length: 7, type: 'application/json', body: { n: 1 }, q: 'x' })
  })
})

describe('createModuleHarness: documents, cache, fetch and logs', () => {
  const LINKS = `import { addDocument, getDocument } from 'dgate/state'
export async function requestHandler(ctx) {
  if (ctx.request().method === 'POST') {
    const { id, url } = await ctx.request().readJson()
    try {
      await addDocument({ id, collection: 'links', data: { url } })
      ctx.response().status(201).json({ id })
    } catch (err) {
      ctx.response().status(400).json({ error: err.message })
    }
    return
  }
  const doc = await getDocument(ctx.pathParam('id'), 'links')
  if (!doc) return ctx.response().status(404).json({ error: 'not found' })
  ctx.response().redirect(doc.data.url)
}`

  it('reads and writes documents of the namespace, validated against the collection schema', async () => {
    const h = await harness({
      module: LINKS,
      namespace: 'short',
      params: { id: 'gh' },
      collections: [{ name: 'links', schema: { type: 'object', required: ['url'], properties: { url: { type: 'string', pattern: '^https?://' } } } }],
      documents: [{ collection: 'links', id: 'gh', data: { url: 'https://github.com' } }],
    })
    const found = await h.run()
    expect([found.response.status, found.response.headers.get('location')]).toEqual([307, 'https://github.com'])
    const added = await h.run({ method: 'POST', body: { id: 'ex', url: 'https://example.com' } })
    expect(added.response.status).toBe(201)
    expect(added.documents).toEqual({ links: { gh: { url: 'https://github.com' }, ex: { url: 'https://example.com' } } })
    const refused = await h.run({ method: 'POST', body: { id: 'bad', url: 'ftp://nope' } })
    expect(refused.response.status).toBe(400)
    expect(refused.response.json<{ error: string }>().error).toMatch(/data\.url/)
    expect(await h.documents.get('links', 'bad')).toBeUndefined()
    expect((await h.documents.get('links', 'ex'))?.namespace).toBe('short')
  })

  it('refuses seed documents the schema rejects', async () => {
    await expect(createModuleHarness({ module: LINKS, collections: [{ name: 'links', schema: { type: 'object', required: ['url'] } }], documents: [{ collection: 'links', id: 'x', data: {} }] })).rejects.toThrow(/url/)
  })

  it('keeps module-level state and the dgate/storage cache across runs', async () => {
    const h = await harness({
      module: `import { getCache, setCache } from 'dgate/storage'
        let calls = 0
        export async function requestHandler(ctx) {
          calls++
          const seen = (await getCache('seen')) ?? 0
          await setCache('seen', seen + 1, { ttl: 60 })
          ctx.response().json({ calls, seen })
        }`,
    })
    await h.run()
    expect((await h.run()).response.json()).toEqual({ calls: 2, seen: 1 })
  })

  it('answers dgate/http fetches from the fetch option and records them; without it, fetch rejects', async () => {
    const FETCHER = `import { fetch } from 'dgate/http'
      export async function requestHandler(ctx) {
        try {
          const res = await fetch('https://rates.test/eur', { method: 'POST', body: 'q', headers: { 'x-k': '1' } })
          ctx.response().json({ status: res.status, data: await res.json() })
        } catch (err) {
          ctx.response().status(502).json({ error: err.message })
        }
      }`
    const h = await harness({ module: FETCHER, fetch: (request) => ({ status: 200, body: { rate: 1.1, method: request.method, key: request.headers.get('x-k') } }) })
    const result = await h.run()
    expect(result.response.json()).toEqual({ status: 200, data: { rate: 1.1, method: 'POST', key: '1' } })
    expect(result.fetches.map((f) => [f.method, f.url, f.text()])).toEqual([['POST', 'https://rates.test/eur', 'q']])
    const offline = await harness({ module: FETCHER })
    const failed = await offline.run()
    expect([failed.response.status, failed.response.json<{ error: string }>().error]).toEqual([502, expect.stringMatching(/not available in the module harness/)])
  })

  it('captures console output with the module name, per run and in total', async () => {
    const h = await harness({ module: `export function requestHandler(ctx) { console.log('hello', ctx.request().path); console.error('oops') }`, name: 'talker' })
    const result = await h.run({ url: '/x' })
    expect(result.logs).toEqual([
      { level: 'info', message: 'hello /x', module: 'talker' },
      { level: 'error', message: 'oops', module: 'talker' },
    ])
    await h.run()
    expect(h.logs).toHaveLength(4)
  })
})

describe('createModuleHarness: one hook at a time', () => {
  it('calls requestModifier alone and shows the request after it', async () => {
    const h = await harness({ module: `export function requestModifier(ctx) { ctx.request().headers.set('x-seen', ctx.get('who')) }`, request: { url: '/a' } })
    const call = await h.call('requestModifier', { url: '/b?c=1' }, { locals: { who: 'ada' } })
    expect([call.error, call.response, call.request.path, call.request.headers.get('x-seen')]).toEqual([undefined, undefined, '/b?c=1', 'ada'])
  })

  it("returns fetchUpstream's URL", async () => {
    const h = await harness({ module: `export const fetchUpstream = (ctx) => 'http://10.0.0.' + (ctx.request().remoteAddress.endsWith('1') ? '1' : '2')`, upstream: {} })
    expect((await h.call('fetchUpstream', { remoteAddress: '192.168.0.1' })).result).toBe('http://10.0.0.1')
  })

  it('gives errorHandler the error to handle and shows its response', async () => {
    const h = await harness({ module: `export function errorHandler(ctx, err) { ctx.response().status(err.status).json({ message: err.message }) }` })
    const call = await h.call('errorHandler', undefined, { error: { message: 'upstream unavailable', status: 502 } })
    expect([call.response?.status, call.response?.json()]).toEqual([502, { message: 'upstream unavailable' }])
  })

  it('gives responseModifier an upstream response and shows it after the changes', async () => {
    const h = await harness({ module: `import { readWriteBody } from 'dgate/util'
      export async function responseModifier(ctx) { await readWriteBody(ctx.upstream(), (t) => t.toUpperCase()); ctx.upstream().status(202) }` })
    const call = await h.call('responseModifier', undefined, { upstream: { status: 200, body: 'quiet' } })
    expect([call.upstream?.status, call.upstream?.text(), call.upstream?.headers.get('content-length')]).toEqual([202, 'QUIET', '5'])
  })

  it('reports a failing hook without a response', async () => {
    const h = await harness({ module: `export function requestHandler() { throw new TypeError('bad input') }` })
    const call = await h.call('requestHandler')
    expect([call.error, call.response]).toEqual([{ message: 'bad input', code: 'thrown' }, undefined])
  })

  it('refuses a hook the module does not export', async () => {
    const h = await harness({ module: 'export function requestHandler() {}' })
    await expect(h.call('responseModifier')).rejects.toThrow('the module does not export responseModifier (it exports: requestHandler)')
  })
})

describe('createModuleHarness: modules and runtimes', () => {
  it('loads TypeScript that imports a sibling module by name', async () => {
    const h = await harness({
      module: `import { greet } from './greeting'
        export function requestHandler(ctx: { response(): { json(v: unknown): void } }): void { ctx.response().json({ text: greet('ada') }) }`,
      modules: { greeting: `export const greet = (name: string): string => 'hello ' + name` },
    })
    expect((await h.run()).response.json()).toEqual({ text: 'hello ada' })
  })

  it('runs DGate CommonJS-style JavaScript', async () => {
    const h = await harness({ module: `module.exports.requestHandler = (ctx) => ctx.response().end('cjs')`, moduleType: 'javascript' })
    expect((await h.run()).response.text()).toBe('cjs')
  })

  it('runs a defineModule() object in the native runtime', async () => {
    const h = await harness({
      module: defineModule({
        requestModifier(ctx) {
          ctx.request().headers.set('x-native', String(ctx.route().name))
        },
      }),
      upstream: {},
    })
    expect((await h.run()).upstreamRequest?.headers.get('x-native')).toBe('route')
    await expect(createModuleHarness({ module: defineModule({}), runtime: 'realm' })).rejects.toThrow(/native runtime/)
    await expect(createModuleHarness({ module: 'export function requestHandler() {}', runtime: 'native' })).rejects.toThrow(/realm/)
  })

  it('runs in a worker, where the deadline stops a stuck hook', async () => {
    const h = await harness({ module: `export function requestHandler(ctx) { if (ctx.query().get('spin')) { while (true) {} } ctx.response().end('ok') }`, runtime: 'worker', deadlineMs: 300 })
    const stuck = await h.run({ url: '/?spin=1' })
    expect([stuck.response.status, stuck.failures[0]?.code]).toEqual([500, 'deadline'])
    expect((await h.run()).response.text()).toBe('ok')
  })

  it('refuses calls after close', async () => {
    const h = await createModuleHarness({ module: 'export function requestHandler() {}' })
    await h.close()
    await expect(h.run()).rejects.toThrow('the module harness is closed')
    await h.close()
  })
})
