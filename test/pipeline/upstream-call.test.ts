import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, defineModule, type Gateway, type Listener } from '../../src/index.js'
import { listen, type Running } from '../helpers/servers.js'

// The upstream call of module routes. With a responseModifier or an errorHandler it is a held Forward: the response
// head goes to the pipeline, the body is relayed, read by a hook or dropped. Without (the `pass` route), the hooks'
// request goes through a plain Forward. Native modules keep these tests about the transport, not a sandbox.
const MAX_BODY = 256 * 1024
let gw: Gateway
let front: Listener
let upstream: Running
let attempts = 0
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** A deterministic body of `size` bytes. */
function bytes(size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff
  return out
}

// The upstream: `/big?size=N` N bytes in 16 KiB chunks; `/reset` half a body, then a reset; `/busy` 503 with
// Retry-After once; `/hang` no answer; anything else `ok`.
beforeAll(async () => {
  upstream = await listen((req, res) => {
    const url = new URL(req.url!, 'http://x')
    if (url.pathname === '/big') {
      const body = bytes(Number(url.searchParams.get('size')))
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      let at = 0
      const next = () => {
        if (at >= body.length) return void res.end()
        const chunk = body.subarray(at, at + 16 * 1024)
        at += chunk.length
        if (res.write(chunk)) setImmediate(next)
        else res.once('drain', next)
      }
      next()
    } else if (url.pathname === '/reset') {
      res.writeHead(200, { 'content-length': 100_000 })
      res.write(Buffer.alloc(50_000))
      setTimeout(() => res.socket?.destroy(), 50)
    } else if (url.pathname === '/busy') {
      attempts++
      if (attempts === 1) {
        res.writeHead(503, { 'retry-after': '0', 'content-length': 4 })
        res.end('busy')
      } else res.end('second try')
    } else if (url.pathname === '/hang') {
      req.resume()
    } else {
      req.resume()
      req.on('end', () => res.end('ok'))
    }
  })
  gw = await createGateway({ proxy: { maxBodySize: MAX_BODY }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.services.put({ name: 'up', urls: [upstream.url], retries: 1 })
  await gw.modules.register('pass', defineModule({ requestModifier: (ctx) => void ctx.request().headers.set('x-pass', '1') }))
  await gw.modules.register(
    'count',
    defineModule({
      async responseModifier(ctx) {
        const upstream = ctx.upstream()!
        const body = new Uint8Array(await upstream.readBody())
        upstream.writeJson({ length: body.byteLength, sha: sha(body) })
      },
      errorHandler(ctx, err) {
        ctx.response().status(599).json({ caught: err.message })
      },
    }),
  )
  await gw.routes.put({ name: 'pass', paths: ['/pass/*'], methods: ['*'], service: 'up', stripPath: true, modules: ['pass'] })
  await gw.services.put({ name: 'hanging', urls: [upstream.url], requestTimeout: 100, retries: 0 })
  await gw.routes.put({ name: 'timeout', paths: ['/timeout/*'], methods: ['GET'], service: 'hanging', stripPath: true, modules: ['count'] })
  await gw.routes.put({ name: 'count', paths: ['/count/*'], methods: ['GET'], service: 'up', stripPath: true, modules: ['count'] })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})


describe('a module route relaying the upstream body', () => {
  it('streams a body far past the held buffer whole, in order', async () => {
    const res = await request(`${front.url}/pass/big?size=${4 * 1024 * 1024}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-length']).toBe(String(4 * 1024 * 1024))
    const body = new Uint8Array(await res.body.arrayBuffer())
    expect(sha(body)).toBe(sha(bytes(4 * 1024 * 1024)))
  })

  it('breaks the client response off when the upstream fails mid-body, rather than ending it short', async () => {
    const res = await request(`${front.url}/pass/reset`)
    expect(res.statusCode).toBe(200)
    await expect(res.body.arrayBuffer()).rejects.toThrow()
  })

  it('retries a 503 with Retry-After like a plain route does', async () => {
    attempts = 0
    const res = await request(`${front.url}/pass/busy`)
    expect(res.statusCode).toBe(200)
    expect(await res.body.text()).toBe('second try')
    expect(attempts).toBe(2)
  })
})

describe('a responseModifier reading the upstream body', () => {
  it('gets all of a body larger than the held buffer', async () => {
    const size = 200 * 1024
    const res = await request(`${front.url}/count/big?size=${size}`)
    expect(res.statusCode).toBe(200)
    expect(await res.body.json()).toEqual({ length: size, sha: sha(bytes(size)) })
  })

  it('fails the read past proxy.maxBodySize: the errorHandler answers', async () => {
    const res = await request(`${front.url}/count/big?size=${MAX_BODY + 64 * 1024}`)
    expect(res.statusCode).toBe(599)
    expect(await res.body.json()).toEqual({ caught: expect.stringContaining(`larger than ${MAX_BODY} bytes`) })
  })
})

describe('an upstream call that fails before its response', () => {
  it('reaches the errorHandler as a 504 when the service requestTimeout passes', async () => {
    const res = await request(`${front.url}/timeout/hang`)
    expect(res.statusCode).toBe(599)
    expect(await res.body.json()).toEqual({ caught: 'upstream timed out' })
  })
})

describe('a module route with a request body of unknown length', () => {
  it('answers 413 past proxy.maxBodySize and closes the connection', async () => {
    const socket = connect(front.address.port, '127.0.0.1')
    const chunk = Buffer.alloc(32 * 1024, 0x61)
    let answer = ''
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')))
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.on('error', () => {})
    socket.write(`POST /pass/sink HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`)
    for (let sent = 0; sent <= MAX_BODY + chunk.length && !socket.destroyed; sent += chunk.length) {
      socket.write(`${chunk.length.toString(16)}\r\n`)
      socket.write(chunk)
      socket.write('\r\n')
      await new Promise((r) => setImmediate(r))
    }
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(answer.toLowerCase()).toContain('connection: close')
    expect(answer).toContain(`larger than ${MAX_BODY} bytes`)
  })
})
