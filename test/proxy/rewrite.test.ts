import { describe, expect, it } from 'vitest'
import type { RouteSpec, ServiceSpec } from '../../src/index.js'
import { rawRequest } from '../helpers/servers.js'
import { echo, echoed, startGateway } from './fixture.js'

/** A gateway with one service (at `base` on an echo upstream) and one route; returns a function giving the upstream path for a request path. */
async function setup(base: string, route: Omit<RouteSpec, 'name' | 'methods' | 'service'>, service: Partial<ServiceSpec> = {}) {
  const up = await echo()
  const { gw, url, port } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [`${up.url}${base}`], ...service })
  await gw.routes.put({ name: 'r', methods: ['GET'], service: 'svc', ...route })
  const upstreamPath = async (path: string) => (await echoed(`${url}${path}`)).url
  return { gw, url, port, up, upstreamPath }
}

describe('stripPath', () => {
  it('removes the part of the path before the catch-all and joins the rest to the service path', async () => {
    const { upstreamPath } = await setup('/v1', { paths: ['/api/*'], stripPath: true })
    expect(await upstreamPath('/api/users/42')).toBe('/v1/users/42')
    expect(await upstreamPath('/api/')).toBe('/v1/')
    expect(await upstreamPath('/api/a/b/')).toBe('/v1/a/b/')
  })

  it('removes params before the catch-all too (DGate only strips a literal prefix)', async () => {
    const { upstreamPath } = await setup('/v1', { paths: ['/api/{tenant}/*', '/files/{id:[0-9]+}-{name}/*'], stripPath: true })
    expect(await upstreamPath('/api/acme/orders/7')).toBe('/v1/orders/7')
    expect(await upstreamPath('/files/12-report/raw/data.csv')).toBe('/v1/raw/data.csv')
  })

  it('sends just the service path for a pattern without a catch-all', async () => {
    const { upstreamPath } = await setup('/v1/item', { paths: ['/items/{id}'], stripPath: true })
    expect(await upstreamPath('/items/9')).toBe('/v1/item')
  })

  it('sends "/" when both the service path and the remainder are empty', async () => {
    const { upstreamPath } = await setup('', { paths: ['/only', '/all/*'], stripPath: true })
    expect(await upstreamPath('/only')).toBe('/')
    expect(await upstreamPath('/all/x')).toBe('/x')
  })

  it('without stripPath, appends the whole request path to the service path', async () => {
    const { upstreamPath } = await setup('/v1/', { paths: ['/api/*'] })
    expect(await upstreamPath('/api/users/42')).toBe('/v1/api/users/42')
    expect(await upstreamPath('/api/users/')).toBe('/v1/api/users/')
  })

  it('keeps the path as the client encoded it: %2F and other escapes are not decoded', async () => {
    const { upstreamPath } = await setup('/v1', { paths: ['/api/*'], stripPath: true })
    expect(await upstreamPath('/api/a%2Fb/c%20d')).toBe('/v1/a%2Fb/c%20d')
    const plain = await setup('', { paths: ['/files/{name}'] })
    expect(await plain.upstreamPath('/files/a%2Fb')).toBe('/files/a%2Fb')
  })
})

describe('query string', () => {
  it("forwards the client's raw query unchanged", async () => {
    const { upstreamPath } = await setup('', { paths: ['/q'] })
    expect(await upstreamPath('/q?b=2&a=1&a=%20x&&flag&e=%zz')).toBe('/q?b=2&a=1&a=%20x&&flag&e=%zz')
    expect(await upstreamPath('/q?')).toBe('/q')
  })

  it("puts the service URL's query in front of the client's", async () => {
    const { upstreamPath } = await setup('/v1?key=secret&v=2', { paths: ['/api/*'], stripPath: true })
    expect(await upstreamPath('/api/x?page=3')).toBe('/v1/x?key=secret&v=2&page=3')
    expect(await upstreamPath('/api/x')).toBe('/v1/x?key=secret&v=2')
  })

  it("drops the client's query with disableQueryParams, keeping the service URL's", async () => {
    const { upstreamPath, gw, up } = await setup('/v1', { paths: ['/api/*'] }, { disableQueryParams: true })
    expect(await upstreamPath('/api/x?page=3&debug=1')).toBe('/v1/api/x')
    await gw.services.put({ name: 'svc', urls: [`${up.url}/v1?key=k`], disableQueryParams: true })
    expect(await upstreamPath('/api/x?page=3')).toBe('/v1/api/x?key=k')
  })
})

describe('preserveHost', () => {
  it("sends the upstream's host by default and the client's Host with preserveHost", async () => {
    const { url, gw, up } = await setup('', { paths: ['/*'] })
    const plain = await echoed(`${url}/x`, { headers: { host: 'public.example:8443' } })
    expect(plain.headers.host).toBe(`127.0.0.1:${up.port}`)
    await gw.routes.put({ name: 'r', methods: ['GET'], service: 'svc', paths: ['/*'], preserveHost: true })
    const preserved = await echoed(`${url}/x`, { headers: { host: 'public.example:8443' } })
    expect(preserved.headers.host).toBe('public.example:8443')
    expect(preserved.headers['x-forwarded-host']).toBe('public.example:8443')
  })

  it('still connects to the service URL (only the Host header changes)', async () => {
    const { port, gw, up } = await setup('', { paths: ['/*'] })
    await gw.routes.put({ name: 'r', methods: ['GET'], service: 'svc', paths: ['/*'], preserveHost: true })
    const res = await rawRequest(port, 'GET /x HTTP/1.1\r\nHost: elsewhere.test\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(200)
    expect(up.seen.map((s) => s.headers.host)).toEqual(['elsewhere.test'])
  })
})

describe('load balancing', () => {
  it("spreads requests round robin over a service's urls, each keeping its own path", async () => {
    const [a, b, c] = await Promise.all([echo('a'), echo('b'), echo('c')])
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [`${a!.url}/a`, `${b!.url}/b`, c!.url] })
    await gw.routes.put({ name: 'r', methods: ['GET'], service: 'svc', paths: ['/x'] })
    const order: string[] = []
    for (let i = 0; i < 7; i++) {
      const seen = await echoed(`${url}/x`)
      order.push(`${seen.upstream}:${seen.url}`)
    }
    expect(order).toEqual(['a:/a/x', 'b:/b/x', 'c:/x', 'a:/a/x', 'b:/b/x', 'c:/x', 'a:/a/x'])
  })
})
