import { get } from 'node:http'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { ServiceSpec } from '../../src/index.js'
import { blackholePort, closedPort } from '../helpers/servers.js'
import { call, cleanup, serve, since, startGateway } from './fixture.js'

async function gatewayTo(url: string, service: Partial<ServiceSpec>) {
  const { gw, url: front } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [url], ...service })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return front
}

describe('requestTimeout', () => {
  it('answers 504 when the upstream sends no headers in time, without retrying', async () => {
    let seen = 0
    const up = await serve(() => {
      seen++
    })
    const front = await gatewayTo(up.url, { requestTimeout: 200, retries: 3 })
    const start = process.hrtime.bigint()
    const res = await call(`${front}/slow`)
    const elapsed = since(start)
    expect(res.status).toBe(504)
    expect(JSON.parse(res.body)).toEqual({ error: 'upstream timed out', status: 504 })
    // Precise, not on undici's coarse timer wheel (which fires a 200 ms timeout after 0.5 to 1 s).
    expect(elapsed).toBeGreaterThanOrEqual(195)
    expect(elapsed).toBeLessThan(450)
    expect(seen).toBe(1)
  })

  it('does not cut a body that takes longer than the timeout once headers have arrived', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      let n = 0
      const tick = setInterval(() => {
        res.write(`part ${n}\n`)
        if (++n === 5) {
          clearInterval(tick)
          res.end()
        }
      }, 100)
    })
    const front = await gatewayTo(up.url, { requestTimeout: 150 })
    const res = await call(`${front}/slow`)
    expect(res.status).toBe(200)
    expect(res.body).toBe('part 0\npart 1\npart 2\npart 3\npart 4\n')
  })
})

describe('connection failures', () => {
  it('answers 504 when connecting takes longer than connectTimeout', async () => {
    const hole = await blackholePort()
    cleanup(() => hole.close())
    const front = await gatewayTo(`http://127.0.0.1:${hole.port}`, { connectTimeout: 200, retries: 0 })
    const start = process.hrtime.bigint()
    const res = await call(`${front}/x`)
    const elapsed = since(start)
    expect(res.status).toBe(504)
    expect(elapsed).toBeGreaterThanOrEqual(190)
    expect(elapsed).toBeLessThan(450)
  })

  it('retries a connect timeout like any connection error', async () => {
    const hole = await blackholePort()
    cleanup(() => hole.close())
    const front = await gatewayTo(`http://127.0.0.1:${hole.port}`, { connectTimeout: 150, retries: 1 })
    const start = process.hrtime.bigint()
    expect((await call(`${front}/x`)).status).toBe(504)
    const elapsed = since(start)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(600)
  })

  it('answers 502 for a refused connection', async () => {
    const port = await closedPort()
    const front = await gatewayTo(`http://127.0.0.1:${port}`, { retries: 0 })
    const res = await call(`${front}/x`)
    expect(res.status).toBe(502)
    expect(JSON.parse(res.body)).toEqual({ error: 'upstream unavailable', status: 502 })
  })
})

describe('an upstream failing mid-body', () => {
  it('aborts the client response when a body with Content-Length is cut short', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      res.write('x'.repeat(100))
      setTimeout(() => res.socket!.destroy(), 50)
    })
    const front = await gatewayTo(up.url, {})
    const res = await request(`${front}/x`)
    expect(res.statusCode).toBe(200)
    await expect(res.body.text()).rejects.toThrow()
  })

  it('aborts a chunked client response instead of ending it cleanly', async () => {
    const up = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first part')
      setTimeout(() => res.socket!.destroy(), 50)
    })
    const front = await gatewayTo(up.url, {})
    // node:http tells a clean end (the terminating chunk arrived) from a cut connection: 'aborted' / res.complete.
    const outcome = await new Promise<{ complete: boolean; body: string; aborted: boolean }>((resolve, reject) => {
      get(`${front}/x`, (res) => {
        let body = ''
        let aborted = false
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('aborted', () => (aborted = true))
        res.on('error', () => {})
        res.on('close', () => resolve({ complete: res.complete, body, aborted }))
      }).on('error', reject)
    })
    expect(outcome).toEqual({ complete: false, body: 'first part', aborted: true })
  })
})
