import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { clientResponseHeaders, flatHeaders, upstreamRequestHeaders } from './headers.js'
import { ModuleCall } from './module-call.js'
import { Refusal, type DataPlane } from './proxy.js'
import type { ForwardPlan, UpstreamPools } from './forward.js'

/**
 * Proxies an HTTP/1.1 Upgrade (WebSocket or any other protocol): the request goes upstream like any other; once
 * the upstream answers 101 the two sockets are piped both ways. A non-101 answer is relayed as a plain response.
 * On a route with modules, fetchUpstream and requestModifier run first (see `ModuleStage.upgrade`). Returns false when no route takes the request, so other `upgrade` listeners can.
 */
export function upgradeThrough(plane: DataPlane, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const protocol = req.headers.upgrade
  const plan = plane.plan(req)
  if (plan instanceof Refusal) {
    if (plan.unrouted && otherUpgradeListeners(req)) return false
    writeStatus(socket, plan.status, plan.headers ?? [], JSON.stringify({ error: plan.message, status: plan.status }))
    return true
  }
  if (protocol === undefined) {
    writeStatus(socket, 400, [], JSON.stringify({ error: 'missing Upgrade header', status: 400 }))
    return true
  }
  if (plan instanceof ModuleCall) {
    plane.upgradeWithModules(req, socket, head, plan, protocol)
    return true
  }
  dispatchUpgrade(plane, plan, { method: req.method!, target: plan.target, headers: upstreamRequestHeaders(req.rawHeaders, plan.info) }, protocol, socket, head)
  return true
}

/** The request line and headers an upgrade sends upstream. */
export interface UpgradeRequest {
  method: string
  /** Path and query. */
  target: string
  /** Flat `[name, value, …]` list with the forwarding headers (undici adds Connection and Upgrade). */
  headers: string[]
}

/**
 * Sends an upgrade request upstream and answers on the client's socket: a 101 pipes the two sockets both ways;
 * any other answer is relayed as a plain response. `own` are headers to add to the client's answer (those module
 * hooks set on `ctx.response()`).
 */
export function dispatchUpgrade(pools: UpstreamPools, plan: ForwardPlan, request: UpgradeRequest, protocol: string, socket: Duplex, head: Buffer, own: readonly string[] = []): void {
  let pool: Dispatcher
  try {
    pool = pools.pool(plan.upstream, plan.service)
  } catch {
    writeStatus(socket, 502, [], JSON.stringify({ error: 'upstream unavailable', status: 502 }))
    return
  }
  let controller: Dispatcher.DispatchController | undefined
  let answered = false
  const abort = () => controller?.abort(new Error('client went away'))
  socket.once('close', abort)
  socket.on('error', () => socket.destroy())
  pool.dispatch(
    {
      path: request.target,
      method: request.method,
      // undici writes Connection and Upgrade itself from `upgrade`; the hop-by-hop rules drop the client's.
      headers: request.headers,
      upgrade: protocol,
      headersTimeout: plan.service.requestTimeout ?? 300_000,
    },
    {
      onRequestStart(c) {
        controller = c
      },
      onRequestUpgrade(_c, statusCode, headers, upstream) {
        answered = true
        socket.off('close', abort)
        const lines = [`HTTP/1.1 ${statusCode} Switching Protocols`]
        const list = [...own, ...clientResponseHeaders(flatHeaders(headers), plan.via, plan.globalHeaders, true)]
        for (let i = 0; i < list.length; i += 2) lines.push(`${list[i]}: ${list[i + 1]}`)
        socket.write(`${lines.join('\r\n')}\r\n\r\n`)
        if (head.length > 0) upstream.write(head)
        // Either side closing or failing ends the tunnel on both.
        const end = () => {
          upstream.destroy()
          socket.destroy()
        }
        upstream.on('error', end).on('close', end)
        socket.on('close', end)
        upstream.pipe(socket)
        socket.pipe(upstream)
      },
      onResponseStart(_c, statusCode, headers) {
        answered = true
        const list = [...own, ...clientResponseHeaders(flatHeaders(headers), plan.via, plan.globalHeaders)]
        writeHead(socket, statusCode, list)
      },
      onResponseData(_c, chunk) {
        socket.write(chunk)
      },
      onResponseEnd() {
        socket.end()
      },
      onResponseError(_c, error: Error & { code?: string }) {
        if (answered) return void socket.destroy()
        const status = error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT' ? 504 : 502
        writeStatus(socket, status, [], JSON.stringify({ error: status === 504 ? 'upstream timed out' : 'upstream unavailable', status }))
      },
    },
  )
}

function otherUpgradeListeners(req: IncomingMessage): boolean {
  const server = (req.socket as { server?: { listenerCount(event: string): number } }).server
  return server !== undefined && server.listenerCount('upgrade') > 1
}

function writeHead(socket: Duplex, status: number, headers: readonly string[]): void {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`]
  for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`)
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
}

/** Our own JSON answer on a raw socket, then close it: an upgrade connection can't be reused. */
function writeStatus(socket: Duplex, status: number, headers: readonly string[], body: string): void {
  writeAnswer(socket, status, [...headers, 'content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(body))], body)
}

/** An answer on a raw socket (`headers` carry its content-length), then close it. */
export function writeAnswer(socket: Duplex, status: number, headers: readonly string[], body: string | Uint8Array | undefined): void {
  if (!socket.writable) return void socket.destroy()
  writeHead(socket, status, [...headers, 'connection', 'close'])
  socket.end(body)
}
