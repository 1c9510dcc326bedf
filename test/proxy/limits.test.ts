import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { rawRequest } from '../helpers/servers.js'
import { call, echo, startGateway } from './fixture.js'

async function setup() {
  const up = await echo()
  const { gw, url, port } = await startGateway({ proxy: { maxBodySize: 1024 } })
  await gw.services.put({ name: 'svc', urls: [up.url] })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return { url, port, up }
}

describe('proxy.maxBodySize', () => {
  it('accepts a body of exactly the limit', async () => {
    const { url, up } = await setup()
    const res = await call(`${url}/x`, { method: 'POST', body: 'a'.repeat(1024) })
    expect(res.status).toBe(200)
    expect(up.seen[0]!.body).toHaveLength(1024)
  })

  it('answers 413 to a declared Content-Length over the limit without calling the upstream, then keeps serving', async () => {
    const { url, up } = await setup()
    const res = await call(`${url}/x`, { method: 'POST', body: 'a'.repeat(1025) })
    expect(res.status).toBe(413)
    expect(res.headers.connection).toBe('close')
    expect(JSON.parse(res.body)).toEqual({ error: 'request body is larger than 1024 bytes', status: 413 })
    expect(up.seen).toEqual([])
    expect((await call(`${url}/x`)).status).toBe(200)
  })

  it('answers 413 when a chunked body grows over the limit, then keeps serving', async () => {
    const { url, up } = await setup()
    async function* growing() {
      for (let i = 0; i < 8; i++) yield Buffer.alloc(300, 'b')
    }
    const res = await request(`${url}/x`, { method: 'POST', body: Readable.from(growing()) })
    expect(res.statusCode).toBe(413)
    expect(await res.body.json()).toEqual({ error: 'request body is larger than 1024 bytes', status: 413 })
    // The upstream never receives a complete request with the oversized body.
    expect(up.seen).toEqual([])
    expect((await call(`${url}/x`, { method: 'POST', body: 'small' })).status).toBe(200)
  })

  it('answers 413 to a large chunked body still being sent, instead of resetting the connection', async () => {
    const { url } = await setup()
    async function* large() {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, 'd')
    }
    const res = await request(`${url}/x`, { method: 'PUT', body: Readable.from(large()) })
    expect(res.statusCode).toBe(413)
    await res.body.dump()
    expect((await call(`${url}/x`)).status).toBe(200)
  })

  it('answers 413 through a raw socket for a chunked body over the limit', async () => {
    const { port } = await setup()
    const chunk = `${(700).toString(16)}\r\n${'c'.repeat(700)}\r\n`
    const res = await rawRequest(port, `POST /x HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`)
    expect(res.status).toBe(413)
  })
})
