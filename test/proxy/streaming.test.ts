import { fork } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { bundleForNode } from '../helpers/bundle.js'
import { cleanup, serve, startGateway } from './fixture.js'

const MiB = 1024 * 1024
const TOTAL = 16 * MiB
const CHUNK = 64 * 1024

/** Chunk `i` of a 16 MiB stream, made on demand (no buffer holds the whole stream). */
function chunk(i: number): Buffer {
  return Buffer.allocUnsafe(CHUNK).fill(`chunk ${i} of the stream; `)
}

const expectedDigest = (() => {
  const hash = createHash('sha256')
  for (let i = 0; i < TOTAL / CHUNK; i++) hash.update(chunk(i))
  return hash.digest('hex')
})()

async function gatewayTo(url: string) {
  const { gw, url: front } = await startGateway()
  await gw.services.put({ name: 'svc', urls: [url] })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
  return front
}

interface Memory {
  rss: number
  arrayBuffers: number
}

let script: Promise<string> | undefined

/** A gateway in a child process (see gateway-process.ts), routing everything to `upstream`, whose memory can be read after a GC. */
async function gatewayProcess(upstream: string): Promise<{ url: string; memory(): Promise<Memory> }> {
  script ??= bundleForNode(fileURLToPath(new URL('./gateway-process.ts', import.meta.url)))
  const child = fork(await script, [], { execArgv: ['--expose-gc', '--max-semi-space-size=1'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  cleanup(async () => {
    if (child.exitCode !== null) return
    child.kill()
    await once(child, 'exit')
  })
  const [{ port }] = (await once(child, 'message')) as [{ port: number }]
  let last = 0
  const ask = <T>(message: object) =>
    new Promise<T>((resolve) => {
      const id = ++last
      const onMessage = (reply: { id?: number }) => {
        if (reply.id !== id) return
        child.off('message', onMessage)
        resolve(reply as T)
      }
      child.on('message', onMessage)
      child.send({ ...message, id })
    })
  await ask({ route: upstream })
  return { url: `http://127.0.0.1:${port}`, memory: () => ask<Memory>({ memory: true }) }
}

/**
 * The gateway holds no more than a few socket buffers' worth of the stream. Buffers are counted in `arrayBuffers`
 * (after a GC): a few hundred KiB here, about 12 MiB when the proxy ignores backpressure. `rss` moves by several
 * MiB either way for a correct gateway too (allocator and heap retention), so it gets a looser bound.
 */
function expectFlat(growth: Memory): void {
  expect(growth.arrayBuffers).toBeLessThan(4 * MiB)
  expect(growth.rss).toBeLessThan(12 * MiB)
}

/** Reads `body` into a hash, stopping for `pauseMs` whenever the next of `stallAt` bytes have been read, and awaiting `onStall` then. */
async function slowRead(body: AsyncIterable<Buffer>, stallAt: number[], pauseMs: number, onStall: () => Promise<void>): Promise<{ bytes: number; digest: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  const stalls = [...stallAt]
  for await (const data of body) {
    hash.update(data)
    bytes += data.length
    if (stalls.length > 0 && bytes >= stalls[0]!) {
      stalls.shift()
      await sleep(pauseMs)
      await onStall()
    }
  }
  return { bytes, digest: hash.digest('hex') }
}

describe('streaming with backpressure (gateway in its own process)', () => {
  it('streams a 16 MiB download to a slow client with flat memory', async () => {
    let written = 0
    const up = await serve(async (req, res) => {
      if (req.url === '/warm') return res.end('warm')
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) })
      for (let i = 0; i < TOTAL / CHUNK; i++) {
        written += CHUNK
        if (!res.write(chunk(i))) await once(res, 'drain')
      }
      res.end()
    })
    const gateway = await gatewayProcess(up.url)
    expect(await (await request(`${gateway.url}/warm`)).body.text()).toBe('warm')
    const before = await gateway.memory()
    const stalls: { written: number; rss: number; arrayBuffers: number }[] = []
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(`${gateway.url}/download`, resolve).on('error', reject).end())
    expect(res.statusCode).toBe(200)
    const result = await slowRead(res, [1, 8 * MiB], 300, async () => {
      const now = await gateway.memory()
      stalls.push({ written, rss: now.rss - before.rss, arrayBuffers: now.arrayBuffers - before.arrayBuffers })
    })
    expect(result).toEqual({ bytes: TOTAL, digest: expectedDigest })
    expect(stalls).toHaveLength(2)
    // While the client read nothing for 300 ms, the upstream could not write the whole stream: it was held back.
    expect(stalls[0]!.written).toBeLessThan(TOTAL)
    for (const stall of stalls) expectFlat(stall)
  })

  it('streams a 16 MiB chunked upload to a slow upstream with flat memory', async () => {
    let sent = 0
    const stalls: { sent: number; rss: number; arrayBuffers: number }[] = []
    let before: Memory = { rss: 0, arrayBuffers: 0 }
    const late: { gateway?: Awaited<ReturnType<typeof gatewayProcess>> } = {}
    const up = await serve(async (req, res) => {
      if (req.url === '/warm') return res.end('warm')
      const result = await slowRead(req, [1, 8 * MiB], 300, async () => {
        const now = await late.gateway!.memory()
        stalls.push({ sent, rss: now.rss - before.rss, arrayBuffers: now.arrayBuffers - before.arrayBuffers })
      })
      res.end(JSON.stringify(result))
    })
    const gateway = (late.gateway = await gatewayProcess(up.url))
    expect(await (await request(`${gateway.url}/warm`)).body.text()).toBe('warm')
    async function* body() {
      for (let i = 0; i < TOTAL / CHUNK; i++) {
        sent += CHUNK
        yield chunk(i)
      }
    }
    before = await gateway.memory()
    const res = await request(`${gateway.url}/upload`, { method: 'POST', body: Readable.from(body()) })
    expect(res.statusCode).toBe(200)
    expect(await res.body.json()).toEqual({ bytes: TOTAL, digest: expectedDigest })
    expect(stalls).toHaveLength(2)
    expect(stalls[0]!.sent).toBeLessThan(TOTAL)
    for (const stall of stalls) expectFlat(stall)
  })

  it('streams an upload with Content-Length the same way', async () => {
    const up = await serve(async (req, res) => {
      const hash = createHash('sha256')
      let bytes = 0
      for await (const d of req as AsyncIterable<Buffer>) {
        hash.update(d)
        bytes += d.length
      }
      res.end(JSON.stringify({ bytes, digest: hash.digest('hex'), length: req.headers['content-length'], chunked: req.headers['transfer-encoding'] ?? null }))
    })
    const front = await gatewayTo(up.url)
    async function* body() {
      for (let i = 0; i < TOTAL / CHUNK; i++) yield chunk(i)
    }
    const res = await request(`${front}/upload`, { method: 'PUT', body: Readable.from(body()), headers: { 'content-length': String(TOTAL) } })
    expect(await res.body.json()).toEqual({ bytes: TOTAL, digest: expectedDigest, length: String(TOTAL), chunked: null })
  })
})

describe('server-sent events', () => {
  it('delivers each event as the upstream writes it, before the next one exists', async () => {
    const log: string[] = []
    let clientGotFirst: () => void = () => {}
    const firstArrived = new Promise<void>((resolve) => (clientGotFirst = resolve))
    const up = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('data: one\n\n')
      log.push('upstream sent one')
      // The second event is written only once the client has the first (or after 2 s, so a buffering proxy fails
      // the assertions below instead of hanging).
      await Promise.race([firstArrived, sleep(2000)])
      log.push('upstream sends two')
      res.end('data: two\n\n')
    })
    const front = await gatewayTo(up.url)
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(`${front}/events`, resolve).on('error', reject).end())
    expect(res.headers['content-type']).toBe('text/event-stream')
    const events: string[] = []
    res.setEncoding('utf8')
    for await (const data of res as AsyncIterable<string>) {
      events.push(data)
      log.push(`client got ${JSON.stringify(data)}`)
      clientGotFirst()
    }
    expect(events).toEqual(['data: one\n\n', 'data: two\n\n'])
    expect(log).toEqual(['upstream sent one', 'client got "data: one\\n\\n"', 'upstream sends two', 'client got "data: two\\n\\n"'])
  })
})
