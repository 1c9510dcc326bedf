import { once } from 'node:events'
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { selfSignedPair } from '../helpers/tls.js'
import { call, cleanup, startGateway } from './fixture.js'

const pair = selfSignedPair('localhost')

interface Seen {
  httpVersion: string
  method: string
  url: string
  authority: string | undefined
  via: string | undefined
}

/** Answers with what it saw, and a trailer. */
function handler(seen: Seen[]) {
  return (req: Http2ServerRequest, res: Http2ServerResponse) => {
    seen.push({ httpVersion: req.httpVersion, method: req.method, url: req.url, authority: req.authority, via: req.headers.via as string | undefined })
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write(`hello over ${req.httpVersion}`)
      res.addTrailers({ 'grpc-status': '0' })
      res.end()
    })
  }
}

async function start(server: Http2Server | Http2SecureServer): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const sessions = new Set<{ destroy(): void }>()
  server.on('session', (s) => sessions.add(s))
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}

async function gatewayTo(url: string, service: { http2Only?: boolean; tlsSkipVerify?: boolean } = {}) {
  const { gw, url: front } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [url], ...service })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return front
}

describe('HTTP/2 upstreams', () => {
  it('speaks HTTP/2 over TLS with http2Only, forwarding trailers to an HTTP/1.1 client', async () => {
    const seen: Seen[] = []
    const port = await start(createSecureServer({ cert: pair.cert, key: pair.key, allowHTTP1: true }, handler(seen)))
    const front = await gatewayTo(`https://localhost:${port}/base`, { http2Only: true, tlsSkipVerify: true })
    const res = await request(`${front}/x?q=1`, { method: 'POST', body: 'payload' })
    expect(res.statusCode).toBe(200)
    expect(await res.body.text()).toBe('hello over 2.0')
    expect(res.trailers).toEqual({ 'grpc-status': '0' })
    expect(seen).toEqual([{ httpVersion: '2.0', method: 'POST', url: '/base/x?q=1', authority: `localhost:${port}`, via: '1.1 dgate' }])
  })

  it('stays on HTTP/1.1 over TLS without http2Only', async () => {
    const seen: Seen[] = []
    const port = await start(createSecureServer({ cert: pair.cert, key: pair.key, allowHTTP1: true }, handler(seen)))
    const front = await gatewayTo(`https://localhost:${port}`, { tlsSkipVerify: true })
    expect((await call(`${front}/x`)).body).toBe('hello over 1.1')
    expect(seen.map((s) => s.httpVersion)).toEqual(['1.1'])
  })

  it('speaks HTTP/2 with prior knowledge to an h2c:// upstream', async () => {
    const seen: Seen[] = []
    const port = await start(createServer(handler(seen)))
    const front = await gatewayTo(`h2c://127.0.0.1:${port}`)
    const res = await request(`${front}/x`)
    expect(await res.body.text()).toBe('hello over 2.0')
    expect(res.trailers).toEqual({ 'grpc-status': '0' })
    const again = await call(`${front}/y`)
    expect(again.status).toBe(200)
    expect(seen.map((s) => `${s.httpVersion} ${s.method} ${s.url}`)).toEqual(['2.0 GET /x', '2.0 GET /y'])
  })
})
