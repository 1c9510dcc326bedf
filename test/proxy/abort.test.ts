import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { ServiceSpec } from '../../src/index.js'
import { serve, startGateway } from './fixture.js'

async function gatewayTo(url: string, service: Partial<ServiceSpec> = {}) {
  const { gw, url: front } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [url], ...service })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return front
}

/** What the upstream saw of one request: resolves when its response closes, telling whether it had finished. */
function upstreamClose(): { arrived: Promise<void>; closed: Promise<{ finished: boolean; requestComplete: boolean }>; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  let arrived: () => void = () => {}
  let closed: (v: { finished: boolean; requestComplete: boolean }) => void = () => {}
  return {
    arrived: new Promise((resolve) => (arrived = resolve)),
    closed: new Promise((resolve) => (closed = resolve)),
    handler: (req, res) => {
      res.on('close', () => closed({ finished: res.writableFinished, requestComplete: req.complete }))
      arrived()
    },
  }
}

describe('a client that goes away', () => {
  it('cancels the upstream request while waiting for its headers', async () => {
    const seen = upstreamClose()
    const up = await serve(seen.handler)
    const front = await gatewayTo(up.url)
    const controller = new AbortController()
    const pending = request(`${front}/wait`, { signal: controller.signal })
    await seen.arrived
    controller.abort()
    await expect(pending).rejects.toThrow()
    expect(await seen.closed).toEqual({ finished: false, requestComplete: true })
  })

  it('cancels the upstream response while it streams', async () => {
    let writes = 0
    const seen = upstreamClose()
    const up = await serve((req, res) => {
      seen.handler(req, res)
      res.writeHead(200, { 'content-type': 'text/plain' })
      const tick = setInterval(() => {
        writes++
        res.write('tick\n')
      }, 10)
      res.on('close', () => clearInterval(tick))
    })
    const front = await gatewayTo(up.url)
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(`${front}/stream`, resolve).on('error', reject).end())
    await once(res, 'data')
    res.destroy()
    expect(await seen.closed).toEqual({ finished: false, requestComplete: true })
    const after = writes
    await sleep(100)
    expect(writes).toBe(after)
  })

  it('cancels an upload in progress: the upstream sees its request cut short', async () => {
    const seen = upstreamClose()
    const up = await serve((req, res) => {
      seen.handler(req, res)
      req.resume()
    })
    const front = await gatewayTo(up.url)
    const req = httpRequest(`${front}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } })
    req.on('error', () => {})
    req.write('first part of the body')
    await seen.arrived
    req.destroy()
    expect(await seen.closed).toEqual({ finished: false, requestComplete: false })
  })

  it('makes no further attempts once the client is gone during a retry pause', async () => {
    let attempts = 0
    const up = await serve((req) => {
      attempts++
      req.socket.destroy()
    })
    const front = await gatewayTo(up.url, { retries: 3, retryTimeout: 150 })
    const controller = new AbortController()
    const pending = request(`${front}/x`, { signal: controller.signal })
    while (attempts === 0) await sleep(5)
    controller.abort()
    await expect(pending).rejects.toThrow()
    await sleep(500)
    expect(attempts).toBe(1)
  })
})
