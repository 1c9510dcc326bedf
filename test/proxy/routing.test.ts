import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway } from '../../src/index.js'
import { listen } from '../helpers/servers.js'
import { call, cleanup, echo, echoed, startGateway } from './fixture.js'

/** Which namespace and route served a request, as the upstream saw it in the X-DGate-* headers. */
async function servedBy(url: string, host?: string): Promise<string> {
  const seen = await echoed(url, host === undefined ? {} : { headers: { host } })
  return `${String(seen.headers['x-dgate-namespace'])}/${String(seen.headers['x-dgate-route'])}`
}

describe('host and domain to namespace', () => {
  async function setup() {
    const up = await echo()
    const { gw, url } = await startGateway()
    for (const ns of ['alpha', 'beta', 'gamma']) {
      await gw.namespaces.put({ name: ns })
      await gw.services.put({ name: 'svc', namespace: ns, urls: [up.url] })
      await gw.routes.put({ name: `r-${ns}`, namespace: ns, paths: ['/*'], methods: ['GET'], service: 'svc' })
    }
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r-default', paths: ['/*'], methods: ['GET'], service: 'svc' })
    return { gw, url }
  }

  it('matches exact, suffix, prefix, contains and regex patterns, case-insensitively and without the port', async () => {
    const { gw, url } = await setup()
    await gw.domains.put({ name: 'exact', namespace: 'alpha', patterns: ['api.example.com'] })
    await gw.domains.put({ name: 'suffix', namespace: 'beta', patterns: ['*.beta.test'] })
    await gw.domains.put({ name: 'prefix', namespace: 'gamma', patterns: ['gamma.*'] })
    await gw.domains.put({ name: 'contains', namespace: 'alpha', patterns: ['*middle*'] })
    await gw.domains.put({ name: 'regex', namespace: 'beta', patterns: ['/v[0-9]+\\.re\\.test/'] })

    expect(await servedBy(`${url}/x`, 'api.example.com')).toBe('alpha/r-alpha')
    expect(await servedBy(`${url}/x`, 'API.Example.COM:8443')).toBe('alpha/r-alpha')
    expect(await servedBy(`${url}/x`, 'www.beta.test')).toBe('beta/r-beta')
    expect(await servedBy(`${url}/x`, 'gamma.anything.org')).toBe('gamma/r-gamma')
    expect(await servedBy(`${url}/x`, 'in-the-middle-of.org')).toBe('alpha/r-alpha')
    expect(await servedBy(`${url}/x`, 'v12.re.test')).toBe('beta/r-beta')
    // The regex is anchored: a host that merely contains a match is not claimed by it.
    expect(await servedBy(`${url}/x`, 'xv12.re.test.evil')).toBe('default/r-default')
    // No domain matches and none claims `default`: the default namespace serves.
    expect(await servedBy(`${url}/x`, 'unknown.org')).toBe('default/r-default')
  })

  it('tries domains by priority, high first, then by name', async () => {
    const { gw, url } = await setup()
    await gw.domains.put({ name: 'a-low', namespace: 'alpha', patterns: ['*.shared.test'], priority: 1 })
    await gw.domains.put({ name: 'b-high', namespace: 'beta', patterns: ['api.*'], priority: 5 })
    expect(await servedBy(`${url}/x`, 'api.shared.test')).toBe('beta/r-beta')
    await gw.domains.put({ name: 'b-high', namespace: 'beta', patterns: ['api.*'], priority: 1 })
    // Equal priority: the domain whose name sorts first decides.
    expect(await servedBy(`${url}/x`, 'api.shared.test')).toBe('alpha/r-alpha')
    await gw.domains.put({ name: 'a-low', namespace: 'alpha', patterns: ['*.shared.test'], priority: 0 })
    expect(await servedBy(`${url}/x`, 'api.shared.test')).toBe('beta/r-beta')
  })

  it('answers 404 for an unmatched host once a domain claims the default namespace', async () => {
    const { gw, url } = await setup()
    await gw.domains.put({ name: 'main', patterns: ['main.test'] })
    expect(await servedBy(`${url}/x`, 'main.test')).toBe('default/r-default')
    const res = await call(`${url}/x`, { headers: { host: 'other.test' } })
    expect(res.status).toBe(404)
    expect(JSON.parse(res.body)).toEqual({ error: 'not found', status: 404 })
  })

  it('sends every host to the only namespace when there are no domains', async () => {
    const up = await echo()
    const { gw, url } = await startGateway({ disableDefaultNamespace: true })
    await gw.namespaces.put({ name: 'solo' })
    await gw.services.put({ name: 'svc', namespace: 'solo', urls: [up.url] })
    await gw.routes.put({ name: 'r', namespace: 'solo', paths: ['/*'], methods: ['GET'], service: 'svc' })
    expect(await servedBy(`${url}/x`, 'anything.test')).toBe('solo/r')
    await gw.namespaces.put({ name: 'second' })
    // Two namespaces, no domains and no default namespace: nothing claims the host.
    expect((await call(`${url}/x`, { headers: { host: 'anything.test' } })).status).toBe(404)
  })
})

describe('path precedence', () => {
  async function setup() {
    const up = await echo()
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'static', paths: ['/p/static'], methods: ['GET'], service: 'svc' })
    await gw.routes.put({ name: 'regex', paths: ['/p/{id:[0-9]+}'], methods: ['GET'], service: 'svc' })
    await gw.routes.put({ name: 'param', paths: ['/p/{name}'], methods: ['GET'], service: 'svc' })
    await gw.routes.put({ name: 'catchall', paths: ['/p/*'], methods: ['GET'], service: 'svc' })
    return { gw, url, up }
  }

  it('prefers static over regex over param over catch-all', async () => {
    const { url } = await setup()
    expect(await servedBy(`${url}/p/static`)).toBe('default/static')
    expect(await servedBy(`${url}/p/42`)).toBe('default/regex')
    expect(await servedBy(`${url}/p/abc`)).toBe('default/param')
    expect(await servedBy(`${url}/p/static/deeper`)).toBe('default/catchall')
    expect(await servedBy(`${url}/p/`)).toBe('default/catchall')
  })

  it('treats a trailing slash as significant', async () => {
    const { gw, url } = await setup()
    await gw.routes.put({ name: 'bare', paths: ['/t'], methods: ['GET'], service: 'svc' })
    expect(await servedBy(`${url}/t`)).toBe('default/bare')
    expect((await call(`${url}/t/`)).status).toBe(404)
    await gw.routes.put({ name: 'slashed', paths: ['/t/'], methods: ['GET'], service: 'svc' })
    expect(await servedBy(`${url}/t/`)).toBe('default/slashed')
    expect(await servedBy(`${url}/t`)).toBe('default/bare')
  })

  it('answers 404 for an unknown path and 405 with Allow for a known path and another method, without calling the upstream', async () => {
    const { gw, url, up } = await setup()
    await gw.routes.put({ name: 'writes', paths: ['/w'], methods: ['POST', 'PUT'], service: 'svc' })
    const missing = await call(`${url}/nothing/here`)
    expect(missing.status).toBe(404)
    expect(missing.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(missing.body)).toEqual({ error: 'not found', status: 404 })
    const wrong = await call(`${url}/w`, { method: 'GET' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.allow).toBe('POST, PUT')
    expect(JSON.parse(wrong.body)).toEqual({ error: 'method not allowed', status: 405 })
    expect(up.seen).toEqual([])
  })

  it('serves HEAD with a GET route: the upstream sees HEAD and the client gets the headers without a body', async () => {
    const { url, up } = await setup()
    const res = await request(`${url}/p/abc`, { method: 'HEAD' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-upstream']).toBe('echo')
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0)
    expect(await res.body.text()).toBe('')
    expect(up.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['HEAD /p/abc'])
  })

  it('serves any method on a route with methods ["*"]', async () => {
    const up = await echo()
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'any', paths: ['/any'], methods: ['*'], service: 'svc' })
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH', 'OPTIONS']) expect((await echoed(`${url}/any`, { method })).method).toBe(method)
  })

  it('answers 501 for a route without a service (nothing can handle it yet)', async () => {
    const { gw, url } = await setup()
    await gw.routes.put({ name: 'bare', paths: ['/no-service'], methods: ['GET'] })
    const res = await call(`${url}/no-service`)
    expect(res.status).toBe(501)
  })
})

describe('Connect/Express fallthrough', () => {
  it('calls next() for unrouted hosts, paths and methods, and serves routed requests itself', async () => {
    const up = await echo()
    const gw = await createGateway()
    cleanup(() => gw.close())
    await gw.services.put({ name: 'svc', urls: [up.url] })
    await gw.routes.put({ name: 'r', paths: ['/api/*'], methods: ['GET'], service: 'svc' })
    await gw.domains.put({ name: 'main', patterns: ['main.test'] })
    const front = await listen(
      () => {},
      createServer((req, res) =>
        gw.handler(req, res, () => {
          res.writeHead(299, { 'content-type': 'text/plain' })
          res.end('app')
        }),
      ),
    )
    cleanup(() => front.close())
    expect((await call(`${front.url}/api/x`, { headers: { host: 'main.test' } })).status).toBe(200)
    for (const [path, method, host] of [
      ['/other', 'GET', 'main.test'],
      ['/api/x', 'POST', 'main.test'],
      ['/api/x', 'GET', 'elsewhere.test'],
    ] as const) {
      const res = await call(`${front.url}${path}`, { method, headers: { host } })
      expect([res.status, res.body]).toEqual([299, 'app'])
    }
    expect(up.seen).toHaveLength(1)
  })
})
