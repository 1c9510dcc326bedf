import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, defineModule, type Gateway, type Listener } from '../../src/index.js'
import { echoUpstream, listen, type Echo, type Running } from '../helpers/servers.js'

// The failure rows of DESIGN.md 5.1, in the realm runtime (same pipeline, cheaper to start than workers).
let gw: Gateway
let front: Listener
let upstream: Running & { seen: Echo[] }
let dead: Running
const logs: string[] = []

beforeAll(async () => {
  upstream = await echoUpstream()
  dead = await listen(() => {})
  await dead.close()
  gw = await createGateway({
    modules: { runtime: 'realm' },
    logger: { debug() {}, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  })
  await gw.services.put({ name: 'echo', urls: [upstream.url] })
  await gw.services.put({ name: 'dead', urls: [dead.url], retries: 0 })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})

async function get(name: string, payload: string, service?: string): Promise<{ status: number; body: string }> {
  await gw.modules.put({ name, payload, moduleType: 'javascript' })
  await gw.routes.put({ name, paths: [`/${name}`], methods: ['GET'], modules: [name], ...(service ? { service } : {}) })
  const res = await request(`${front.url}/${name}`)
  return { status: res.statusCode, body: await res.body.text() }
}

describe('hook failures', () => {
  it.each([
    ['fetchUpstream throws', 'export function fetchUpstream() { throw new Error("boom") }', 500],
    ['fetchUpstream returns nothing', 'export function fetchUpstream() {}', 500],
    ['fetchUpstream returns a non-URL', 'export function fetchUpstream() { return "ftp://x" }', 500],
    ['requestModifier rejects', 'export async function requestModifier() { throw new Error("boom") }', 500],
    ['responseModifier throws', 'export function responseModifier() { throw new Error("boom") }', 500],
  ])('%s: 500 without an errorHandler, and no detail leaks', async (_what, payload, status) => {
    const name = `f${Math.random().toString(36).slice(2, 8)}`
    const res = await get(name, payload, 'echo')
    expect(res.status).toBe(status)
    expect(JSON.parse(res.body)).toEqual({ error: 'internal error', status: 500 })
  })

  it('an upstream failure reaches errorHandler with its status', async () => {
    const res = await get('upfail', 'export function errorHandler(ctx, err) { ctx.response().status(503).json({ saw: err.message }) }', 'dead')
    expect([res.status, JSON.parse(res.body)]).toEqual([503, { saw: 'upstream unavailable' }])
  })

  it('an upstream failure without errorHandler is 502', async () => {
    const res = await get('upfail2', 'export function requestModifier() {}', 'dead')
    expect(res.status).toBe(502)
  })

  it('an errorHandler that throws gives 500', async () => {
    const res = await get('eh', 'export function requestHandler() { throw new Error("a") }\nexport function errorHandler() { throw new Error("b") }')
    expect(res.status).toBe(500)
  })

  it('a requestHandler that answers nothing gives 204; one that only sets a status gives it', async () => {
    expect((await get('empty', 'export function requestHandler() {}')).status).toBe(204)
    expect((await get('onlystatus', 'export function requestHandler(ctx) { ctx.response().status(202) }')).status).toBe(202)
  })

  it('console output reaches the gateway logger', async () => {
    await get('talk', 'export function requestHandler(ctx) { console.warn("hello from", ctx.pathParam("x") || "module") ; ctx.response().end("ok") }')
    expect(logs.some((line) => line.includes('hello from module'))).toBe(true)
  })
})

describe('native modules', () => {
  it('run defineModule hooks in-process for routes that name them', async () => {
    await gw.modules.register(
      'stamp',
      defineModule({
        requestModifier(ctx) {
          ctx.request().headers.set('x-stamped', ctx.route().name as string)
        },
      }),
    )
    await gw.routes.put({ name: 'native', paths: ['/native'], methods: ['GET'], service: 'echo', modules: ['stamp'] })
    const res = await request(`${front.url}/native`)
    expect(((await res.body.json()) as Echo).headers['x-stamped']).toBe('native')
    expect((await gw.modules.get('stamp'))?.tags).toEqual(['native'])
  })

  it('fail closed on a node where they are not registered', async () => {
    const other = await createGateway({ modules: { runtime: 'realm' }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
    try {
      const stamp = (await gw.modules.get('stamp'))!
      await other.services.put({ name: 'echo', urls: [upstream.url] })
      await other.modules.put({ name: stamp.name, payload: stamp.payload, moduleType: stamp.moduleType })
      await other.routes.put({ name: 'native', paths: ['/native'], methods: ['GET'], service: 'echo', modules: ['stamp'] })
      const res = await other.fetch(new Request('http://x/native'))
      expect(res.status).toBe(500)
      await res.body?.cancel()
    } finally {
      await other.close()
    }
  })

  it('refuses something that is not a defineModule result', async () => {
    await expect(gw.modules.register('bad', { requestModifier() {} } as never)).rejects.toThrow('modules.register: definition must come from defineModule()')
  })
})

describe('a client that goes away on a module route', () => {
  it('cancels the upstream request', async () => {
    let upstreamClosed: () => void = () => {}
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve))
    const slow = await listen((req, res) => {
      res.on('close', () => upstreamClosed())
      setTimeout(() => res.end('late'), 5000).unref()
    })
    await gw.services.put({ name: 'slow', urls: [slow.url] })
    await gw.modules.put({ name: 'passmod', payload: 'export function requestModifier(ctx) { ctx.request().headers.set("x-m", "1") }', moduleType: 'javascript' })
    await gw.routes.put({ name: 'slowmod', paths: ['/slowmod'], methods: ['GET'], service: 'slow', modules: ['passmod'] })
    const controller = new AbortController()
    const pending = request(`${front.url}/slowmod`, { signal: controller.signal }).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 200))
    controller.abort()
    await pending
    const started = Date.now()
    await closed
    expect(Date.now() - started).toBeLessThan(2000)
    await slow.close()
  })
})

describe('a module that passes its check but does not load in the runtime', () => {
  it('answers 500 "module failed to load", logs why, and serves again once the module is replaced', async () => {
    // The write-time check allows a second of top-level code; this gateway's workers give it 200 ms.
    const errors: string[] = []
    const strict = await createGateway({ modules: { workers: 1, deadlineMs: 200 }, logger: { debug() {}, info() {}, warn() {}, error: (m) => errors.push(m) } })
    try {
      await strict.services.put({ name: 'echo', urls: [upstream.url] })
      const busy = 'const until = Date.now() + 400; while (Date.now() < until) {}\nexport function requestModifier() {}'
      await strict.modules.put({ name: 'slowstart', payload: busy, moduleType: 'javascript' })
      await strict.routes.put({ name: 'slowstart', paths: ['/slowstart'], methods: ['GET'], service: 'echo', modules: ['slowstart'] })
      const refused = await strict.fetch(new Request('http://x/slowstart'))
      expect([refused.status, await refused.json()]).toEqual([500, { error: 'module failed to load', status: 500 }])
      expect(errors.some((line) => line.includes('module "slowstart" failed to load') && line.includes('did not finish within 200 ms'))).toBe(true)

      await strict.modules.put({ name: 'slowstart', payload: 'export function requestModifier() {}', moduleType: 'javascript' })
      const served = await strict.fetch(new Request('http://x/slowstart'))
      expect(served.status).toBe(200)
      await served.body?.cancel()
    } finally {
      await strict.close()
    }
  })
})
