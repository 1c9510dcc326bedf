import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { GatewayOptions } from '../../src/index.js'
import { rawRequest, type Echo } from '../helpers/servers.js'
import { call, echo, echoed, serve, startGateway } from './fixture.js'

async function setup(options: GatewayOptions = {}, service: { hideDGateHeaders?: boolean } = {}) {
  const up = await echo()
  const { gw, url, port } = await startGateway(options)
  await gw.services.put({ name: 'svc', urls: [up.url], ...service })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return { gw, url, port, up }
}

/** Header names as the upstream received them, lower-cased, in order. */
function names(seen: Echo): string[] {
  return seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
}

describe('upstream request headers', () => {
  it('removes hop-by-hop headers, including those named in Connection, and keeps TE: trailers', async () => {
    const { port, up } = await setup()
    const res = await rawRequest(
      port,
      'GET /h HTTP/1.1\r\nHost: front.test\r\nConnection: close, X-Private\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nTE: trailers, deflate\r\nTrailer: X-Sum\r\n' +
        'Upgrade: h2c\r\nX-Kept: yes\r\nUser-Agent: raw\r\n\r\n',
    )
    expect(res.status).toBe(200)
    const seen = up.seen[0]!
    for (const gone of ['x-private', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'trailer', 'upgrade', 'transfer-encoding']) expect(seen.headers[gone]).toBeUndefined()
    expect(seen.headers.te).toBe('trailers')
    expect(seen.headers['x-kept']).toBe('yes')
    expect(seen.headers['user-agent']).toBe('raw')
    // The upstream connection is the pool's own: keep-alive, whatever the client asked for.
    expect(seen.headers.connection).toBe('keep-alive')
  })

  it('drops a TE header without "trailers"', async () => {
    const { port, up } = await setup()
    await rawRequest(port, 'GET /h HTTP/1.1\r\nHost: front.test\r\nTE: gzip\r\nConnection: close\r\n\r\n')
    expect(up.seen[0]!.headers.te).toBeUndefined()
  })

  it('sends the upstream Host, and sets X-Forwarded-For, -Host, -Proto and X-Real-IP from the connection', async () => {
    const { url, up } = await setup()
    const seen = await echoed(`${url}/h`, { headers: { host: 'front.test:8080' } })
    expect(seen.headers.host).toBe(new URL(up.url).host)
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen.headers['x-forwarded-host']).toBe('front.test:8080')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers['x-real-ip']).toBe('127.0.0.1')
  })

  it('replaces forwarding headers sent by a client that is not a trusted proxy', async () => {
    const { url } = await setup({ proxy: { trustedProxies: ['10.0.0.0/8'] } })
    const seen = await echoed(`${url}/h`, {
      headers: { host: 'front.test', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.7', forwarded: 'for=203.0.113.7' },
    })
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen.headers['x-forwarded-host']).toBe('front.test')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers['x-real-ip']).toBe('127.0.0.1')
    expect(seen.headers.forwarded).toBeUndefined()
    expect(names(seen).filter((n) => n === 'x-forwarded-for')).toHaveLength(1)
  })

  it('appends to X-Forwarded-For from a trusted proxy and keeps its X-Forwarded-Host, -Proto and Forwarded', async () => {
    const { url } = await setup({ proxy: { trustedProxies: ['127.0.0.0/8'] } })
    const seen = await echoed(`${url}/h`, {
      headers: [
        ['host', 'front.test'],
        ['x-forwarded-for', '203.0.113.7, 198.51.100.2'],
        ['x-forwarded-for', '192.0.2.9'],
        ['x-forwarded-host', 'public.example'],
        ['x-forwarded-proto', 'https'],
        ['forwarded', 'for=192.0.2.9'],
      ].flat(),
    })
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7, 198.51.100.2, 192.0.2.9, 127.0.0.1')
    expect(seen.headers['x-forwarded-host']).toBe('public.example')
    expect(seen.headers['x-forwarded-proto']).toBe('https')
    expect(seen.headers.forwarded).toBe('for=192.0.2.9')
    // The client is the nearest address not vouched for by a trusted proxy, not the left-most (which anyone can forge).
    expect(seen.headers['x-real-ip']).toBe('192.0.2.9')
  })

  it("keeps a trusted proxy's X-Real-IP, and skips trusted hops when deriving it", async () => {
    const { url } = await setup({ proxy: { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } })
    const kept = await echoed(`${url}/h`, { headers: { 'x-real-ip': '198.51.100.4', 'x-forwarded-for': '198.51.100.4' } })
    expect(kept.headers['x-real-ip']).toBe('198.51.100.4')
    const derived = await echoed(`${url}/h`, { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.1.2.3' } })
    expect(derived.headers['x-real-ip']).toBe('198.51.100.4')
    expect(derived.headers['x-forwarded-for']).toBe('6.6.6.6, 198.51.100.4, 10.1.2.3, 127.0.0.1')
  })

  it('strips client-sent X-DGate-* headers and sets its own, with Via', async () => {
    const { url } = await setup()
    const seen = await echoed(`${url}/h`, { headers: { 'x-dgate-route': 'forged', 'X-DGate-Admin': '1', 'x-dgatex': 'kept' } })
    expect(seen.headers['x-dgate-route']).toBe('r')
    expect(seen.headers['x-dgate-service']).toBe('svc')
    expect(seen.headers['x-dgate-namespace']).toBe('default')
    expect(seen.headers['x-dgate-admin']).toBeUndefined()
    expect(seen.headers['x-dgatex']).toBe('kept')
    expect(seen.headers.via).toBe('1.1 dgate')
    expect(names(seen).filter((n) => n === 'x-dgate-route')).toHaveLength(1)
  })

  it('sends neither Via nor X-DGate-* with hideDGateHeaders, and still strips the client ones', async () => {
    const { url } = await setup({}, { hideDGateHeaders: true })
    const seen = await echoed(`${url}/h`, { headers: { 'x-dgate-route': 'forged' } })
    expect(names(seen).filter((n) => n === 'via' || n.startsWith('x-dgate-'))).toEqual([])
  })

  it('forwards repeated request headers as separate lines, in order', async () => {
    const { url } = await setup()
    const seen = await echoed(`${url}/h`, { headers: ['x-multi', 'one', 'x-multi', 'two', 'cookie', 'a=1'] })
    const multi = seen.rawHeaders.flatMap((v, i) => (i % 2 === 1 && seen.rawHeaders[i - 1]!.toLowerCase() === 'x-multi' ? [v] : []))
    expect(multi).toEqual(['one', 'two'])
  })
})

describe('client response headers', () => {
  async function upstreamWith(headers: [string, string][]) {
    const up = await serve((_req, res) => {
      const body = 'ok'
      res.writeHead(200, [...headers.flat(), 'content-length', '2'])
      res.end(body)
    })
    return up
  }

  it('removes hop-by-hop headers (and those the upstream names in Connection), keeps repeated ones, adds Via', async () => {
    const up = await upstreamWith([
      ['connection', 'close, x-internal'],
      ['x-internal', 'secret'],
      ['keep-alive', 'timeout=99'],
      ['proxy-authenticate', 'Basic'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-app', 'yes'],
    ])
    const { gw, port } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(200)
    const got = res.headers.filter(([n]) => n !== 'date')
    expect(got).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-app', 'yes'],
      ['content-length', '2'],
      ['via', '1.1 dgate'],
      ['connection', 'close'],
    ])
    expect(res.body.toString()).toBe('ok')
  })

  it("appends to the upstream's Via, and adds none with hideDGateHeaders", async () => {
    const up = await upstreamWith([['via', '1.0 cache']])
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    expect((await call(url)).headers.via).toBe('1.0 cache, 1.1 dgate')
    await gw.services.put({ name: 'svc', urls: [up.url], hideDGateHeaders: true })
    expect((await call(url)).headers.via).toBe('1.0 cache')
  })

  it('sets globalHeaders on proxied responses, replacing upstream headers of the same name', async () => {
    const up = await upstreamWith([['x-frame-options', 'ALLOW'], ['x-app', 'yes']])
    const { gw, url } = await startGateway({ proxy: { globalHeaders: { 'X-Frame-Options': 'DENY', 'Strict-Transport-Security': 'max-age=60' } } })
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const res = await call(url)
    expect(res.headers['x-frame-options']).toBe('DENY')
    expect(res.headers['strict-transport-security']).toBe('max-age=60')
    expect(res.headers['x-app']).toBe('yes')
  })

  it('forwards the status code, reason phrase and trailers', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(207, 'Quite Multi', { trailer: 'x-sum', 'content-type': 'text/plain' })
      res.write('body')
      res.addTrailers({ 'x-sum': 'abc' })
      res.end()
    })
    const { gw, url, port } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const res = await request(url)
    expect(res.statusCode).toBe(207)
    expect(await res.body.text()).toBe('body')
    expect(res.trailers).toEqual({ 'x-sum': 'abc' })
    const raw = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: front.test\r\nConnection: close\r\n\r\n')
    expect(raw.head.split('\r\n')[0]).toBe('HTTP/1.1 207 Quite Multi')
  })
})

describe('Expect: 100-continue', () => {
  it('answers the client with 100 Continue itself and forwards the body without the Expect header', async () => {
    const { port, up } = await setup()
    const body = 'x'.repeat(2000)
    const res = await rawRequest(port, `POST /e HTTP/1.1\r\nHost: front.test\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`)
    expect(res.head).toBe('HTTP/1.1 100 Continue')
    expect(res.body.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(up.seen[0]!.body).toBe(body)
    expect(up.seen[0]!.headers.expect).toBeUndefined()
  })
})
