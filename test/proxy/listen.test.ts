import { once } from 'node:events'
import { connect as h2connect } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect, type PeerCertificate } from 'node:tls'
import express from 'express'
import { beforeEach, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import type { Gateway } from '../../src/index.js'
import { listen, type Echo, type Running } from '../helpers/servers.js'
import { selfSignedPair } from '../helpers/tls.js'
import { echoGateway } from './fixture.js'

let gw: Gateway
let upstream: Running
beforeEach(async () => {
  ;({ gw, upstream } = await echoGateway({ paths: ['/*'], methods: ['*'] }))
})

/** The certificate subject CN the listener presents for `servername`. */
async function presented(port: number, servername: string): Promise<string> {
  const socket = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false })
  await once(socket, 'secureConnect')
  const cert: PeerCertificate = socket.getPeerCertificate()
  socket.destroy()
  return String(cert.subject.CN)
}

describe('gw.listen with TLS', () => {
  it('chooses certificates by SNI from domains, with a fallback', async () => {
    const a = selfSignedPair('a.test')
    const b = selfSignedPair('b.test')
    const fallback = selfSignedPair('fallback.test')
    await gw.domains.put({ name: 'a', patterns: ['a.test', '*.a.test'], cert: a.cert, key: a.key })
    await gw.domains.put({ name: 'b', patterns: ['b.test'], cert: b.cert, key: b.key, priority: 5 })
    const listener = await gw.listen({ host: '127.0.0.1', tls: fallback })
    const port = listener.address.port
    expect(await presented(port, 'a.test')).toBe('a.test')
    expect(await presented(port, 'api.a.test')).toBe('a.test')
    expect(await presented(port, 'b.test')).toBe('b.test')
    expect(await presented(port, 'other.test')).toBe('fallback.test')

    // A replaced certificate is served from the next handshake on.
    const renewed = selfSignedPair('b.test')
    await gw.domains.put({ name: 'b', patterns: ['b.test'], cert: renewed.cert, key: renewed.key, priority: 5 })
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'b.test', rejectUnauthorized: false })
    await once(socket, 'secureConnect')
    expect(socket.getPeerCertificate().fingerprint256).not.toBe(new (await import('node:crypto')).X509Certificate(b.cert).fingerprint256)
    socket.destroy()

    // And it proxies over HTTPS, with X-Forwarded-Proto https.
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false, servername: 'a.test' } })
    const res = await request(`https://127.0.0.1:${port}/x`, { dispatcher, headers: { host: 'a.test' } })
    expect(((await res.body.json()) as Echo).headers['x-forwarded-proto']).toBe('https')
    await dispatcher.close()
  })

  it('fails the handshake for an unknown name when there is no fallback', async () => {
    const a = selfSignedPair('a.test')
    await gw.domains.put({ name: 'a', patterns: ['a.test'], cert: a.cert, key: a.key })
    const listener = await gw.listen({ host: '127.0.0.1', tls: true })
    await expect(presented(listener.address.port, 'unknown.test')).rejects.toThrow()
    expect(await presented(listener.address.port, 'a.test')).toBe('a.test')
  })

  it('serves HTTP/2 with http2: true', async () => {
    const fallback = selfSignedPair('h2.test')
    const listener = await gw.listen({ host: '127.0.0.1', tls: fallback, http2: true })
    const session = h2connect(`https://127.0.0.1:${listener.address.port}`, { rejectUnauthorized: false, servername: 'h2.test' })
    const stream = session.request({ ':path': '/over-h2?x=1', ':method': 'GET' })
    const [headers] = (await once(stream, 'response')) as [Record<string, string>]
    let body = ''
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()))
    await once(stream, 'end')
    session.close()
    expect(headers[':status']).toBe(200)
    const echo = JSON.parse(body) as Echo
    expect(echo.url).toBe('/over-h2?x=1')
    expect(echo.headers.host).toBe(`127.0.0.1:${upstream.port}`)
    expect(Object.keys(echo.headers).some((h) => h.startsWith(':'))).toBe(false)
  })

  it('refuses http2 without tls and mismatched timeouts, clearly', async () => {
    await expect(gw.listen({ http2: true })).rejects.toThrow('listen: http2 needs tls (cleartext HTTP/2 is not offered)')
    await expect(gw.listen({ headersTimeout: 10, requestTimeout: 5 })).rejects.toThrow('listen: headersTimeout (10) must not exceed requestTimeout (5)')
    const { cert } = selfSignedPair('half.test')
    await expect(gw.listen({ tls: { cert } })).rejects.toThrow('listen: tls.cert and tls.key go together')
  })
})

describe('listener limits', () => {
  it('answers 431 to oversized headers and keeps serving', async () => {
    const listener = await gw.listen({ host: '127.0.0.1', maxHeaderSize: 1024 })
    const big = await request(`${listener.url}/x`, { headers: { 'x-big': 'a'.repeat(4096) } })
    expect(big.statusCode).toBe(431)
    await big.body.dump()
    const ok = await request(`${listener.url}/x`)
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
  })

  it('answers 408 to a client that never finishes its headers', async () => {
    const listener = await gw.listen({ host: '127.0.0.1', headersTimeout: 300, requestTimeout: 300 })
    const socket = netConnect(listener.address.port, '127.0.0.1')
    socket.write('GET /x HTTP/1.1\r\nHost: a\r\n')
    let reply = ''
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()))
    await once(socket, 'close')
    expect(reply).toMatch(/^HTTP\/1\.1 408/)
  })

  it('lets in-flight requests finish when the gateway closes', async () => {
    const slow = await listen((_req, res) => setTimeout(() => res.end('finished'), 300))
    await gw.services.put({ name: 'slow', urls: [slow.url] })
    await gw.routes.put({ name: 'slow', paths: ['/slow'], methods: ['GET'], service: 'slow' })
    const listener = await gw.listen({ host: '127.0.0.1' })
    const pending = request(`${listener.url}/slow`).then(async (r) => [r.statusCode, await r.body.text()])
    await new Promise((r) => setTimeout(r, 100))
    await gw.close()
    expect(await pending).toEqual([200, 'finished'])
    await expect(request(`${listener.url}/slow`)).rejects.toThrow()
    await slow.close()
  })
})

describe('Express', () => {
  it('mounts under a path and falls through to the app for what no route serves', async () => {
    const app = express()
    app.get('/api/local', (_req, res) => {
      res.json({ from: 'app' })
    })
    app.use('/api', gw.handler)
    app.use((_req, res) => {
      res.status(404).json({ from: 'app 404' })
    })
    await gw.routes.put({ name: 'echo', paths: ['/users/*'], methods: ['GET'], service: 'echo' })
    const server = await listen(app)
    const proxied = await request(`${server.url}/api/users/7`)
    expect(((await proxied.body.json()) as Echo).url).toBe('/users/7')
    const local = await request(`${server.url}/api/local`)
    expect(await local.body.json()).toEqual({ from: 'app' })
    const unrouted = await request(`${server.url}/api/orders`)
    expect([unrouted.statusCode, await unrouted.body.json()]).toEqual([404, { from: 'app 404' }])
    const wrongMethod = await request(`${server.url}/api/users/7`, { method: 'POST' })
    expect(await wrongMethod.body.json()).toEqual({ from: 'app 404' })
    await server.close()
  })
})
