import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { createModuleHarness } from '../../src/testing/index.js'
import { echoUpstream, type Echo, type Running } from '../helpers/servers.js'

// examples/ip-hash: DGate's IP-hash load balancer in fetchUpstream, through a live gateway (realm runtime: the
// behaviour doesn't depend on workers).
const payload = readFileSync(new URL('../../examples/ip-hash/ip-hash.js', import.meta.url), 'utf8')
const names = ['a', 'b', 'c']

let gw: Gateway
let front: Listener
let upstreams: (Running & { seen: Echo[] })[]

beforeAll(async () => {
  upstreams = await Promise.all(names.map((n) => echoUpstream(n)))
  gw = await createGateway({ modules: { runtime: 'realm' }, proxy: { trustedProxies: ['127.0.0.1'] }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.modules.put({ name: 'ip-hash', moduleType: 'javascript', payload })
  await gw.services.put({ name: 'pool', urls: upstreams.map((u) => u.url) })
  await gw.routes.put({ name: 'lb', paths: ['/lb/*'], methods: ['GET'], service: 'pool', modules: ['ip-hash'], stripPath: true })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw?.close()
  await Promise.all(upstreams.map((u) => u.close()))
})

/** What the example computes: sha1 of the address, first 16 bits, modulo the number of upstreams. */
function expected(address: string): string {
  const hash = createHash('sha1').update(address).digest('hex')
  return names[parseInt(hash.slice(0, 4), 16) % names.length]!
}

async function get(forwardedFor?: string): Promise<{ status: number; echo: Echo & { upstream: string }; headers: Record<string, unknown> }> {
  const res = await request(`${front.url}/lb/hello?x=1`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} })
  return { status: res.statusCode, echo: (await res.body.json()) as Echo & { upstream: string }, headers: res.headers }
}

describe('examples/ip-hash through a live gateway', () => {
  it('sends each client IP to the upstream its hash picks, every time, and spreads clients over every upstream', async () => {
    const clients = Array.from({ length: 24 }, (_, i) => `10.0.${i}.${(i * 37) % 251}`)
    const seen = new Map<string, string>()
    for (const round of [1, 2]) {
      for (const ip of clients) {
        const { status, echo } = await get(ip)
        expect(status).toBe(200)
        expect(echo.upstream, `${ip} in round ${round}`).toBe(expected(ip))
        if (round === 2) expect(echo.upstream).toBe(seen.get(ip))
        seen.set(ip, echo.upstream)
        // The route strips /lb; the query and the client's address (trusted proxy) reach the upstream.
        expect(echo.url).toBe('/hello?x=1')
        expect(echo.headers['x-forwarded-for']).toBe(`${ip}, 127.0.0.1`)
      }
    }
    expect(new Set(seen.values())).toEqual(new Set(names))
  })

  it('hashes the first X-Forwarded-For entry, and the peer address without one', async () => {
    expect((await get('192.168.0.1, 10.9.9.9')).echo.upstream).toBe(expected('192.168.0.1'))
    expect((await get()).echo.upstream).toBe(expected('127.0.0.1'))
  })

  // DGate's example relies on this: headers set on ctx.response() in fetchUpstream go out with the proxied response.
  it('returns the X-Hash and X-Remote-Address headers the module sets in fetchUpstream', async () => {
    const { headers } = await get('192.168.0.1')
    expect(headers['x-hash']).toBe(createHash('sha1').update('192.168.0.1').digest('hex'))
    expect(headers['x-remote-address']).toBe('192.168.0.1')
  })
})

describe('examples/ip-hash in the module harness', () => {
  const urls = ['http://a.test', 'http://b.test', 'http://c.test']
  const pick = (address: string) => urls[names.indexOf(expected(address))]

  it('fetchUpstream returns the service URL the client address hashes to', async () => {
    const harness = await createModuleHarness({ module: payload, moduleType: 'javascript', service: { urls } })
    try {
      for (const ip of ['192.168.0.1', '192.168.0.2', '10.1.2.3', '172.16.0.9']) {
        const { result, error } = await harness.call('fetchUpstream', { headers: { 'x-forwarded-for': `${ip}, 10.0.0.1` } })
        expect(error).toBeUndefined()
        expect(result, ip).toBe(pick(ip))
      }
      expect((await harness.call('fetchUpstream', { remoteAddress: '203.0.113.7' })).result).toBe(pick('203.0.113.7'))
    } finally {
      await harness.close()
    }
  })

  it('the whole pipeline proxies to that upstream, with the path as the route strips it', async () => {
    const harness = await createModuleHarness({
      module: payload,
      moduleType: 'javascript',
      service: { urls },
      route: { paths: ['/lb/*'], stripPath: true },
      params: { '*': 'hello' },
      upstream: (req) => ({ body: { reached: req.url } }),
    })
    try {
      const run = await harness.run({ url: '/lb/hello?x=1', headers: { 'x-forwarded-for': '192.168.0.1' } })
      expect(run.hooks).toEqual(['fetchUpstream'])
      expect(run.upstreamRequest?.url).toBe(`${pick('192.168.0.1')}/hello?x=1`)
      expect([run.response.status, run.response.from, run.response.json()]).toEqual([200, 'upstream', { reached: `${pick('192.168.0.1')}/hello?x=1` }])
      expect(run.response.headers.get('x-hash')).toBe(createHash('sha1').update('192.168.0.1').digest('hex'))
      expect(run.response.headers.get('x-remote-address')).toBe('192.168.0.1')
    } finally {
      await harness.close()
    }
  })
})
