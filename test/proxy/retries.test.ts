import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { ServiceSpec } from '../../src/index.js'
import { closedPort } from '../helpers/servers.js'
import { call, serve, since, startGateway } from './fixture.js'

/**
 * An upstream whose first `failures` requests lose their connection (the socket is destroyed once the request
 * has arrived), and which answers the others with 200 `ok`. It records each request's method and arrival time.
 */
async function flaky(failures: number, answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok')) {
  const requests: { method: string; at: number }[] = []
  const start = process.hrtime.bigint()
  const up = await serve((req, res) => {
    requests.push({ method: req.method!, at: since(start) })
    req.resume()
    req.on('end', () => (requests.length <= failures ? req.socket.destroy() : answer(req, res)))
  })
  return { up, requests }
}

async function gatewayTo(url: string, service: Partial<ServiceSpec>) {
  const { gw, url: front } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [url], ...service })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return front
}

describe('retries on connection errors', () => {
  it('retries a GET until it succeeds: two failures and retries 3 is three attempts and a 200', async () => {
    const { up, requests } = await flaky(2)
    const front = await gatewayTo(up.url, { retries: 3 })
    const res = await call(`${front}/x`)
    expect([res.status, res.body]).toEqual([200, 'ok'])
    expect(requests).toHaveLength(3)
  })

  it('gives up after retries + 1 attempts with 502', async () => {
    const { up, requests } = await flaky(100)
    const front = await gatewayTo(up.url, { retries: 3 })
    const res = await call(`${front}/x`)
    expect(res.status).toBe(502)
    expect(JSON.parse(res.body)).toEqual({ error: 'upstream unavailable', status: 502 })
    expect(requests).toHaveLength(4)
  })

  it('makes exactly one attempt with retries 0', async () => {
    const { up, requests } = await flaky(1)
    const front = await gatewayTo(up.url, { retries: 0 })
    expect((await call(`${front}/x`)).status).toBe(502)
    expect(requests).toHaveLength(1)
  })

  it('retries the other idempotent methods without a body (HEAD, DELETE, OPTIONS)', async () => {
    for (const method of ['HEAD', 'DELETE', 'OPTIONS']) {
      const { up, requests } = await flaky(1)
      const front = await gatewayTo(up.url, { retries: 2 })
      expect((await call(`${front}/x`, { method })).status).toBe(200)
      expect(requests.map((r) => r.method)).toEqual([method, method])
    }
  })

  it('never retries a POST, with or without a body', async () => {
    const { up, requests } = await flaky(1)
    const front = await gatewayTo(up.url, { retries: 3 })
    expect((await call(`${front}/x`, { method: 'POST', body: 'payload' })).status).toBe(502)
    expect(requests).toHaveLength(1)
    expect((await call(`${front}/x`, { method: 'POST' })).status).toBe(200)
    expect(requests).toHaveLength(2)
  })

  it('never retries a request with a streamed body, even with an idempotent method', async () => {
    const { up, requests } = await flaky(1)
    const front = await gatewayTo(up.url, { retries: 3 })
    expect((await call(`${front}/x`, { method: 'PUT', body: 'payload' })).status).toBe(502)
    expect(requests).toHaveLength(1)
  })

  it('waits retryTimeout between attempts, and not after the last one', async () => {
    const { up, requests } = await flaky(100)
    const front = await gatewayTo(up.url, { retries: 2, retryTimeout: 250 })
    const start = process.hrtime.bigint()
    expect((await call(`${front}/x`)).status).toBe(502)
    const elapsed = since(start)
    expect(requests).toHaveLength(3)
    const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at)
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(245)
      expect(gap).toBeLessThan(500)
    }
    // Outside the span of the attempts there is only overhead, no third pause of 250 ms.
    expect(elapsed - (requests[2]!.at - requests[0]!.at)).toBeLessThan(200)
  })

  it('retries a refused connection with the same spacing, then answers 502', async () => {
    const port = await closedPort()
    const front = await gatewayTo(`http://127.0.0.1:${port}`, { retries: 2, retryTimeout: 150 })
    const start = process.hrtime.bigint()
    const res = await call(`${front}/x`)
    const elapsed = since(start)
    expect(res.status).toBe(502)
    // Three attempts, two pauses: at least 300 ms, and well short of a third pause.
    expect(elapsed).toBeGreaterThanOrEqual(295)
    expect(elapsed).toBeLessThan(440)
  })
})

describe('retries on 503', () => {
  it('retries a 503 with Retry-After, and answers with the next attempt', async () => {
    let n = 0
    const up = await serve((_req, res) => {
      if (++n === 1) {
        res.writeHead(503, { 'retry-after': '1' })
        res.end('busy')
      } else res.end('ok')
    })
    const front = await gatewayTo(up.url, { retries: 3 })
    const res = await call(`${front}/x`)
    expect([res.status, res.body, n]).toEqual([200, 'ok', 2])
  })

  it('passes a 503 without Retry-After straight through', async () => {
    let n = 0
    const up = await serve((_req, res) => {
      n++
      res.writeHead(503)
      res.end('down')
    })
    const front = await gatewayTo(up.url, { retries: 3 })
    const res = await call(`${front}/x`)
    expect([res.status, res.body, n]).toEqual([503, 'down', 1])
  })

  it('passes the last 503 through once retries are used up', async () => {
    let n = 0
    const up = await serve((_req, res) => {
      n++
      res.writeHead(503, { 'retry-after': '0' })
      res.end(`busy ${n}`)
    })
    const front = await gatewayTo(up.url, { retries: 2 })
    const res = await call(`${front}/x`)
    expect([res.status, res.body, res.headers['retry-after'], n]).toEqual([503, 'busy 3', '0', 3])
  })

  it('does not retry a POST that got a 503 with Retry-After', async () => {
    let n = 0
    const up = await serve((req, res) => {
      n++
      req.resume()
      res.writeHead(503, { 'retry-after': '0' })
      res.end()
    })
    const front = await gatewayTo(up.url, { retries: 2 })
    expect((await call(`${front}/x`, { method: 'POST', body: 'x' })).status).toBe(503)
    expect(n).toBe(1)
  })
})
