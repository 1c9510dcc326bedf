import { beforeEach, describe, expect, it } from 'vitest'
import type { Gateway } from '../../src/index.js'
import { listen, type Echo } from '../helpers/servers.js'
import { echoGateway } from './fixture.js'

let gw: Gateway
beforeEach(async () => {
  ;({ gw } = await echoGateway({ paths: ['/echo/*'], methods: ['GET', 'POST', 'HEAD'] }))
})

describe('gw.fetch', () => {
  it('proxies a web Request and resolves with a streaming Response', async () => {
    const res = await gw.fetch(new Request('http://api.local/echo/a?b=1', { headers: { 'x-test': 'yes' } }))
    expect(res.status).toBe(200)
    expect(res.headers.get('x-upstream')).toBe('echo')
    const echo = (await res.json()) as Echo
    expect(echo.url).toBe('/echo/a?b=1')
    expect(echo.headers['x-test']).toBe('yes')
    expect(echo.headers['x-forwarded-host']).toBe('api.local')
  })

  it('streams a request body upstream', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('part one, '))
        controller.enqueue(new TextEncoder().encode('part two'))
        controller.close()
      },
    })
    const res = await gw.fetch(new Request('http://api.local/echo/upload', { method: 'POST', body, duplex: 'half' } as RequestInit))
    expect(((await res.json()) as Echo).body).toBe('part one, part two')
  })

  it('answers 404, 405 and HEAD like the handler', async () => {
    const missing = await gw.fetch(new Request('http://api.local/nope'))
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'not found', status: 404 }])
    const wrong = await gw.fetch(new Request('http://api.local/echo/x', { method: 'DELETE' }))
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST'])
    const head = await gw.fetch(new Request('http://api.local/echo/x', { method: 'HEAD' }))
    expect([head.status, head.body]).toEqual([200, null])
  })

  it('rejects when the upstream fails mid-body, and maps a dead upstream to 502', async () => {
    const broken = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('only part')
      setTimeout(() => res.destroy(), 20)
    })
    await gw.services.put({ name: 'broken', urls: [broken.url] })
    await gw.routes.put({ name: 'broken', paths: ['/broken'], methods: ['GET'], service: 'broken' })
    const res = await gw.fetch(new Request('http://api.local/broken'))
    await expect(res.text()).rejects.toThrow()
    await broken.close()
    const dead = await gw.fetch(new Request('http://api.local/broken'))
    expect(dead.status).toBe(502)
  })
})
