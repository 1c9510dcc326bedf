import { once } from 'node:events'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { selfSignedPair } from '../helpers/tls.js'
import { call, cleanup, startGateway } from './fixture.js'

const pair = selfSignedPair('localhost')

/** An HTTPS upstream with a self-signed certificate; records whether each request really came over TLS. */
async function httpsUpstream() {
  const seen: { encrypted: boolean; url: string }[] = []
  let connections = 0
  const server = createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
    seen.push({ encrypted: (req.socket as TLSSocket).encrypted === true, url: req.url! })
    res.end('secret')
  })
  server.on('connection', () => connections++)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { port: (server.address() as AddressInfo).port, seen, connections: () => connections }
}

describe('HTTPS upstreams', () => {
  it('refuses a self-signed certificate with 502 unless tlsSkipVerify is set, without retrying', async () => {
    const up = await httpsUpstream()
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [`https://localhost:${up.port}`], retries: 3 })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const res = await call(`${url}/x`)
    expect(res.status).toBe(502)
    expect(up.seen).toEqual([])
    // A certificate problem is not a connection error worth repeating.
    expect(up.connections()).toBe(1)
  })

  it('speaks TLS to the upstream and accepts its certificate with tlsSkipVerify', async () => {
    const up = await httpsUpstream()
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [`https://127.0.0.1:${up.port}/base`], tlsSkipVerify: true })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const res = await call(`${url}/x?y=1`)
    expect([res.status, res.body]).toEqual([200, 'secret'])
    expect(up.seen).toEqual([{ encrypted: true, url: '/base/x?y=1' }])
  })

  it('switching tlsSkipVerify off again refuses the next request (the pool is per setting)', async () => {
    const up = await httpsUpstream()
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [`https://localhost:${up.port}`], tlsSkipVerify: true })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    expect((await call(`${url}/x`)).status).toBe(200)
    await gw.services.put({ name: 'svc', urls: [`https://localhost:${up.port}`], tlsSkipVerify: false })
    expect((await call(`${url}/x`)).status).toBe(502)
  })
})
