import { describe, expect, it } from 'vitest'
import { rawRequest } from '../helpers/servers.js'
import { echo, startGateway } from './fixture.js'

/** A gateway with GET /api/* routed to an echo upstream, and a check that it still serves a good request. */
async function setup() {
  const up = await echo()
  const { gw, port } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [up.url] })
  await gw.routes.put({ name: 'r', paths: ['/api/*'], methods: ['GET'], service: 'svc' })
  const stillServing = async () => {
    const res = await rawRequest(port, 'GET /api/ok HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(200)
  }
  return { port, up, stillServing }
}

const get = (target: string, headers = 'Host: gw.test\r\n') => `GET ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`

describe('bad input on a real socket', () => {
  it('answers 400 to a malformed Host header', async () => {
    const { port, up, stillServing } = await setup()
    for (const host of ['bad host', 'a/b', ':80', '[::1', 'example.com:99999', 'exa_mple.com:8o', 'user@example.com', '']) {
      const res = await rawRequest(port, get('/api/x', `Host: ${host}\r\n`))
      expect([host, res.status]).toEqual([host, 400])
      if (res.body.length > 0) expect(JSON.parse(res.body.toString())).toEqual({ error: 'malformed Host header', status: 400 })
    }
    expect(up.seen).toEqual([])
    await stillServing()
  })

  it('answers 400 to an HTTP/1.1 request without Host (Node refuses it)', async () => {
    const { port, stillServing } = await setup()
    expect((await rawRequest(port, 'GET /api/x HTTP/1.1\r\nConnection: close\r\n\r\n')).status).toBe(400)
    await stillServing()
  })

  it('answers 400 to a request target that is not a path', async () => {
    const { port, up, stillServing } = await setup()
    // Absolute-form and asterisk-form pass Node's parser and are refused by the gateway.
    for (const [method, target] of [['GET', 'http://gw.test/api/x'], ['OPTIONS', '*']]) {
      const res = await rawRequest(port, get(target!).replace('GET', method!))
      expect([target, res.status]).toEqual([target, 400])
      expect(JSON.parse(res.body.toString())).toEqual({ error: 'request target must be a path starting with "/"', status: 400 })
    }
    // Anything else Node's parser refuses itself.
    expect((await rawRequest(port, get('api/x'))).status).toBe(400)
    expect(up.seen).toEqual([])
    await stillServing()
  })

  it('answers 400 to a path with dot segments, which the upstream could resolve outside the route', async () => {
    const { port, up, stillServing } = await setup()
    for (const target of ['/api/../admin', '/api/./x', '/api/..', '/api/%2e%2e/admin', '/api/%2E./admin', '/api/.%2e']) {
      const res = await rawRequest(port, get(target))
      expect([target, res.status]).toEqual([target, 400])
      expect(JSON.parse(res.body.toString())).toEqual({ error: 'path must not contain "." or ".." segments', status: 400 })
    }
    // Dots inside a segment are ordinary characters.
    for (const target of ['/api/.well-known/x', '/api/a..b', '/api/file.json', '/api/...']) expect((await rawRequest(port, get(target))).status).toBe(200)
    expect(up.seen.map((s) => s.url)).toEqual(['/api/.well-known/x', '/api/a..b', '/api/file.json', '/api/...'])
    await stillServing()
  })

  it('answers 400 to a path the HTTP parser cannot read', async () => {
    const { port, stillServing } = await setup()
    expect((await rawRequest(port, get('/api/a b'))).status).toBe(400)
    expect((await rawRequest(port, get('/api/\x01'))).status).toBe(400)
    await stillServing()
  })

  it('answers 400 to a request with both Content-Length and Transfer-Encoding (request smuggling)', async () => {
    const { port, up, stillServing } = await setup()
    const res = await rawRequest(port, 'POST /api/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n')
    expect(res.status).toBe(400)
    expect(up.seen).toEqual([])
    await stillServing()
  })

  it('answers 400 to an unknown method, and 405 with Allow to a known one the route does not serve', async () => {
    const { port, up, stillServing } = await setup()
    expect((await rawRequest(port, get('/api/x').replace('GET', 'FROB'))).status).toBe(400)
    const purge = await rawRequest(port, get('/api/x').replace('GET', 'PURGE'))
    expect(purge.status).toBe(405)
    expect(purge.headers).toContainEqual(['allow', 'GET, HEAD'])
    expect(up.seen).toEqual([])
    await stillServing()
  })

  it('answers 400 to malformed header lines', async () => {
    const { port, stillServing } = await setup()
    expect((await rawRequest(port, get('/api/x', 'Host: gw.test\r\nBad Header: x\r\n'))).status).toBe(400)
    expect((await rawRequest(port, get('/api/x', 'Host: gw.test\r\nX-Ctl: a\x00b\r\n'))).status).toBe(400)
    await stillServing()
  })
})
