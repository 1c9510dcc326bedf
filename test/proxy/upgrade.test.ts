import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createGateway, defineModule, type Gateway, type Listener } from '../../src/index.js'
import { listen, type Running } from '../helpers/servers.js'

let gw: Gateway
let upstream: Running
let front: Listener
let seenHeaders: Record<string, string | string[] | undefined>

beforeEach(async () => {
  const server = createServer((_req, res) => res.end('plain'))
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    seenHeaders = req.headers
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'bye') return ws.close(4001, 'done here')
      ws.send(data, { binary: isBinary })
    })
  })
  upstream = await listen(() => {}, server)
  gw = await createGateway({ logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.services.put({ name: 'ws', urls: [upstream.url.replace('http:', 'ws:')] })
  await gw.routes.put({ name: 'ws', paths: ['/socket/*'], methods: ['GET'], service: 'ws', stripPath: true })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterEach(async () => {
  await gw.close()
  await upstream.close()
})

function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${front.url.replace('http:', 'ws:')}${path}`, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

async function echoOnce(ws: WebSocket, text: string): Promise<string> {
  ws.send(text)
  const [data] = (await once(ws, 'message')) as [Buffer]
  ws.close()
  return data.toString()
}

describe('WebSocket through the gateway', () => {
  it('echoes text and binary frames and passes the close code', async () => {
    const ws = await connect('/socket/chat?room=1')
    ws.send('hello')
    const [text, textIsBinary] = (await once(ws, 'message')) as [Buffer, boolean]
    expect([text.toString(), textIsBinary]).toEqual(['hello', false])
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255])
    ws.send(bytes)
    const [binary, binaryIsBinary] = (await once(ws, 'message')) as [Buffer, boolean]
    expect([Buffer.compare(binary, bytes), binaryIsBinary]).toEqual([0, true])
    ws.send('bye')
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer]
    expect([code, reason.toString()]).toEqual([4001, 'done here'])
    expect(seenHeaders['x-forwarded-for']).toBe('127.0.0.1')
    expect(seenHeaders['x-dgate-route']).toBe('ws')
  })

  it('refuses an upgrade no route serves with 404, and keeps serving', async () => {
    await expect(connect('/elsewhere')).rejects.toThrow('Unexpected server response: 404')
    const ws = await connect('/socket/x')
    ws.close()
    await once(ws, 'close')
  })

  it('answers 502 when the upstream is down', async () => {
    await upstream.close()
    await expect(connect('/socket/x')).rejects.toThrow('Unexpected server response: 502')
  })

  it('leaves unrouted upgrades to the server\'s other upgrade listeners', async () => {
    const server = createServer()
    let claimedByOther = false
    server.on('upgrade', (req, socket, head) => gw.upgrade(req, socket, head))
    server.on('upgrade', (req, socket) => {
      if (req.url === '/mine') {
        claimedByOther = true
        socket.end('HTTP/1.1 418 Teapot\r\ncontent-length: 0\r\n\r\n')
      }
    })
    const own = await listen(() => {}, server)
    const ws = new WebSocket(`${own.url.replace('http:', 'ws:')}/mine`)
    await expect(new Promise((_, reject) => ws.once('error', reject))).rejects.toThrow('418')
    expect(claimedByOther).toBe(true)
    await own.close()
  })
})

describe('WebSocket upgrades on routes with modules', () => {
  const GUARD = `
export function requestModifier(ctx) {
  const auth = ctx.request().headers.get('authorization')
  if (auth !== 'Bearer let-me-in') return ctx.response().status(401).json({ error: 'who are you?' })
  ctx.request().headers.set('x-user', 'ada')
  ctx.response().headers.set('x-guarded', 'yes')
}`

  it('runs requestModifier first: it can refuse the upgrade, or change what goes upstream and what the client sees', async () => {
    await gw.modules.put({ name: 'guard', payload: GUARD, moduleType: 'javascript' })
    await gw.routes.put({ name: 'guarded', paths: ['/guarded'], methods: ['GET'], service: 'ws', modules: ['guard'] })
    seenHeaders = {}
    await expect(connect('/guarded')).rejects.toThrow('Unexpected server response: 401')
    expect(seenHeaders).toEqual({})
    const ws = new WebSocket(`${front.url.replace('http:', 'ws:')}/guarded`, { headers: { authorization: 'Bearer let-me-in' } })
    const upgraded = once(ws, 'upgrade') as Promise<[{ headers: Record<string, string> }]>
    const opened = once(ws, 'open')
    const [[upgrade]] = await Promise.all([upgraded, opened])
    expect(upgrade.headers['x-guarded']).toBe('yes')
    expect(await echoOnce(ws, 'through the guard')).toBe('through the guard')
    expect(seenHeaders['x-user']).toBe('ada')
  })

  it('lets fetchUpstream pick the upstream', async () => {
    await gw.services.put({ name: 'nowhere', urls: ['ws://127.0.0.1:9'] })
    await gw.modules.register('pick', defineModule({ fetchUpstream: () => upstream.url.replace('http:', 'ws:') }))
    await gw.routes.put({ name: 'picked', paths: ['/picked'], methods: ['GET'], service: 'nowhere', modules: ['pick'] })
    expect(await echoOnce(await connect('/picked'), 'picked')).toBe('picked')
  })

  it('answers 500 without detail when a hook fails, and nothing reaches the upstream', async () => {
    await gw.modules.register('broken', defineModule({ requestModifier: () => { throw new Error('secret detail') } }))
    await gw.routes.put({ name: 'broken', paths: ['/broken'], methods: ['GET'], service: 'ws', modules: ['broken'] })
    seenHeaders = {}
    const ws = new WebSocket(`${front.url.replace('http:', 'ws:')}/broken`)
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage]
    let body = ''
    for await (const chunk of response) body += String(chunk)
    expect([response.statusCode, JSON.parse(body)]).toEqual([500, { error: 'internal error', status: 500 }])
    expect(seenHeaders).toEqual({})
  })

  it('answers 500 when a hook leaves a path that cannot be sent, and nothing reaches the upstream', async () => {
    await gw.modules.register('escape', defineModule({ requestModifier: (ctx) => void (ctx.request().path = '/a/../admin') }))
    await gw.routes.put({ name: 'escape', paths: ['/escape'], methods: ['GET'], service: 'ws', modules: ['escape'] })
    seenHeaders = {}
    await expect(connect('/escape')).rejects.toThrow('Unexpected server response: 500')
    expect(seenHeaders).toEqual({})
  })

  it('answers 501 on a route without a service: there is nothing to upgrade to', async () => {
    await gw.modules.register('handler', defineModule({ requestHandler: (ctx) => void ctx.response().send('no sockets here') }))
    await gw.routes.put({ name: 'handled', paths: ['/handled'], methods: ['GET'], modules: ['handler'] })
    await expect(connect('/handled')).rejects.toThrow('Unexpected server response: 501')
  })
})
