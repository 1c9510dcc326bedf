import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { createModuleHarness } from '../../src/testing/index.js'
import { closedPort, echoUpstream, type Echo, type Running } from '../helpers/servers.js'

// Pipeline behaviours through a live gateway (realm runtime) that test/pipeline does not pin.
let gw: Gateway
let front: Listener
let upstream: Running & { seen: Echo[] }

beforeAll(async () => {
  upstream = await echoUpstream()
  gw = await createGateway({ modules: { runtime: 'realm' }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.services.put({ name: 'echo', urls: [upstream.url] })
  await gw.services.put({ name: 'dead', urls: [`http://127.0.0.1:${await closedPort()}`], retries: 0 })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})

async function route(name: string, payload: string, service?: string): Promise<string> {
  await gw.modules.put({ name, payload, moduleType: 'javascript' })
  await gw.routes.put({ name, paths: [`/${name}`], methods: ['GET', 'POST'], modules: [name], ...(service ? { service } : {}) })
  return `${front.url}/${name}`
}

describe('a path a requestModifier assigns', () => {
  const ASSIGN = (path: string) => `export function requestModifier(ctx) { ctx.request().path = ${JSON.stringify(path)} }`

  /** The upstream URL path and query the live gateway sent, and the one the harness reports for the same route. */
  async function both(name: string, assigned: string, stripPath: boolean): Promise<[string, string]> {
    await gw.modules.put({ name, payload: ASSIGN(assigned), moduleType: 'javascript' })
    await gw.routes.put({ name, paths: [`/${name}/*`], methods: ['GET'], service: 'echo', stripPath, modules: [name] })
    const res = await request(`${front.url}/${name}/old?q=1`)
    expect(res.statusCode).toBe(200)
    const live = ((await res.body.json()) as Echo).url
    const h = await createModuleHarness({ module: ASSIGN(assigned), moduleType: 'javascript', runtime: 'realm', route: { paths: [`/${name}/*`], stripPath }, upstream: { status: 200, body: 'ok' } })
    try {
      const result = await h.run({ url: `/${name}/old?q=1` })
      expect(result.failures).toEqual([])
      const url = new URL(result.upstreamRequest!.url)
      return [live, url.pathname + url.search]
    } finally {
      await h.close()
    }
  }

  it('goes upstream percent-encoded, with the query', async () => {
    expect(await both('repath', '/v2/ünï/100%?', false)).toEqual(['/v2/%C3%BCn%C3%AF/100%25%3F?q=1', '/v2/%C3%BCn%C3%AF/100%25%3F?q=1'])
  })

  it('with stripPath loses the route prefix it starts with, as DGate rewrites a changed path', async () => {
    expect(await both('strip', '/strip/a/b', true)).toEqual(['/a/b?q=1', '/a/b?q=1'])
    expect(await both('elsewhere', '/other/c', true)).toEqual(['/other/c?q=1', '/other/c?q=1'])
  })

  it('is refused with "." or ".." segments: 500, and nothing reaches the upstream', async () => {
    const before = upstream.seen.length
    await gw.modules.put({ name: 'escape', payload: ASSIGN('/a/../admin'), moduleType: 'javascript' })
    await gw.routes.put({ name: 'escape', paths: ['/escape'], methods: ['GET'], service: 'echo', modules: ['escape'] })
    const res = await request(`${front.url}/escape`)
    expect([res.statusCode, await res.body.json()]).toEqual([500, { error: 'internal error', status: 500 }])
    expect(upstream.seen.length).toBe(before)
  })
})

describe('module pipeline through a live gateway', () => {
  it('a request body a requestModifier only read still reaches the upstream whole', async () => {
    const url = await route('readonly', `export async function requestModifier(ctx) { ctx.set('n', (await ctx.request().readText()).length) }`, 'echo')
    const res = await request(url, { method: 'POST', body: 'hello body' })
    expect(res.statusCode).toBe(200)
    expect(((await res.body.json()) as Echo).body).toBe('hello body')
  })

  it('an upstream body a responseModifier only read is relayed as read, with its length', async () => {
    const url = await route('peek', `export async function responseModifier(ctx) { ctx.set('m', (await ctx.upstream().readJson()).method) }`, 'echo')
    const res = await request(url)
    const text = await res.body.text()
    expect([res.statusCode, (JSON.parse(text) as Echo).method]).toEqual([200, 'GET'])
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(text)))
  })

  // Without an errorHandler the upstream response goes to the client as on a plain route; with one, the pipeline
  // holds the upstream call so that a failure could reach it. Both relay the hooks' headers.
  it.each([
    ['', 'tagged'],
    ['export function errorHandler(ctx) { ctx.response().status(599).end() }', 'tagged-held'],
  ])('headers hooks set on ctx.response() without answering go out with the relayed response %#', async (errorHandler, name) => {
    const url = await route(name, `export function fetchUpstream(ctx) { ctx.response().headers.set('x-picked', 'yes'); return ctx.service().urls[0] }
      export function requestModifier(ctx) { ctx.response().headers.set('x-upstream', 'module') }
      ${errorHandler}`, 'echo')
    const res = await request(url)
    await res.body.dump()
    expect([res.statusCode, res.headers['x-picked'], res.headers['x-upstream']]).toEqual([200, 'yes', ['module', 'echo']])
  })

  it('a responseModifier that changes only the status and a header streams the upstream body unchanged', async () => {
    const url = await route('restatus', `export function responseModifier(ctx) { ctx.upstream().status(203); ctx.upstream().headers.set('x-mod', '1') }`, 'echo')
    const res = await request(url)
    expect([res.statusCode, res.headers['x-mod'], res.headers['x-upstream']]).toEqual([203, '1', 'echo'])
    expect(((await res.body.json()) as Echo).url).toBe('/restatus')
  })
})

describe('the module harness answers as the gateway does', () => {
  it.each([
    ['a requestHandler that throws', 'export function requestHandler() { throw new Error("secret") }', undefined],
    ['an errorHandler that answers', 'export function requestHandler() { throw new Error("x") }\nexport function errorHandler(ctx, err) { ctx.response().status(418).json({ saw: err.message, status: err.status }) }', undefined],
    ['an errorHandler that throws', 'export function requestHandler() { throw new Error("a") }\nexport function errorHandler() { throw new Error("b") }', undefined],
    ['an empty requestHandler', 'export function requestHandler() {}', undefined],
    ['a requestHandler that sets only a status', 'export function requestHandler(ctx) { ctx.response().status(202) }', undefined],
    ['a route without a handler', 'export function requestModifier() {}', undefined],
    ['a requestModifier that answers', 'export function requestModifier(ctx) { ctx.response().status(401).headers.set("www-authenticate", "Bearer"); ctx.response().end("no") }', 'echo'],
    ['an unreachable upstream', 'export function requestModifier() {}', 'dead'],
    ['an unreachable upstream with an errorHandler', 'export function errorHandler(ctx, err) { ctx.response().status(503).json({ saw: err.message, status: err.status }) }', 'dead'],
  ])('%s', async (_what, payload, service) => {
    const name = `p${Math.random().toString(36).slice(2, 8)}`
    const live = await request(await route(name, payload, service))
    const liveBody = await live.body.text()
    const harness = await createModuleHarness({ module: payload, moduleType: 'javascript', ...(service ? { upstream: service === 'dead' ? ('unavailable' as const) : {} } : {}) })
    try {
      const { response } = await harness.run()
      expect([response.status, response.headers.get('content-type'), response.headers.get('www-authenticate'), response.text()]).toEqual([live.statusCode, live.headers['content-type'], live.headers['www-authenticate'], liveBody])
      expect(response.headers.get('content-length')).toBe(live.headers['content-length'])
    } finally {
      await harness.close()
    }
  })
})
