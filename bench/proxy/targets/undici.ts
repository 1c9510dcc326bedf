// The hand-rolled undici pass-through: the CPU baseline the gateway must stay within 1.15x of. It does only what
// any correct reverse proxy must: one keep-alive Pool per upstream origin, request and response bodies streamed
// with backpressure, hop-by-hop headers dropped both ways (and those the Connection header names), the upstream's
// Host set by undici, the upstream request aborted when the client goes away, 502 when the upstream fails.
// It uses undici's raw dispatch handler (onConnect/onHeaders/onData/onComplete/onError): that is the interface the
// undici core calls natively, with response headers as raw Buffers; the controller-style handler is wrapped by
// undici in an adapter that also parses every header into an object, which a pass-through does not need.
import http from 'node:http'
import { Pool, type Dispatcher } from 'undici'
import { listen } from '../upstream.js'

// RFC 9110 7.6.1 hop-by-hop headers, plus `host` (undici sets the upstream's) and `expect` (undici refuses it).
const DROP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect'])
// Node's server writes its own connection/keep-alive/transfer-encoding for the client leg.
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/** Extra header names listed in a Connection header value (other than keep-alive/close), lowercased. */
function connectionNamed(value: string): string[] {
  return value
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token && token !== 'keep-alive' && token !== 'close')
}

/** Request headers to send upstream, as a flat [name, value, ...] list (undici accepts it as is). */
export function requestHeaders(raw: string[]): string[] {
  const out: string[] = []
  let named: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    const lower = name.toLowerCase()
    if (DROP_REQUEST.has(lower)) {
      if (lower === 'connection') named = connectionNamed(value)
      continue
    }
    out.push(name, value)
  }
  return named?.length ? dropNamed(out, named) : out
}

function dropNamed(flat: string[], names: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < flat.length; i += 2) if (!names.includes((flat[i] as string).toLowerCase())) out.push(flat[i] as string, flat[i + 1] as string)
  return out
}

/** Response headers for the client from undici's raw header Buffers, as a flat list for res.writeHead. */
export function responseHeaders(raw: Buffer[]): string[] {
  const out: string[] = []
  let named: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const value = (raw[i + 1] as Buffer).toString('latin1')
    const lower = name.toLowerCase()
    if (DROP_RESPONSE.has(lower)) {
      if (lower === 'connection') named = connectionNamed(value)
      continue
    }
    out.push(name, value)
  }
  return named?.length ? dropNamed(out, named) : out
}

/** One proxied exchange: streams the upstream response into `res`, pausing undici while `res` is full. */
class PassThrough implements Dispatcher.DispatchHandler {
  private abort: ((err?: Error) => void) | undefined
  private resume: (() => void) | undefined
  private done = false
  private readonly onDrain = () => this.resume?.()

  constructor(private readonly res: http.ServerResponse) {
    res.once('close', () => {
      // The client went away before the response finished: cancel the upstream request.
      if (!this.done) this.abort?.(new Error('client closed'))
    })
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true // 1xx informational: not forwarded by this minimal proxy
    this.resume = resume
    // Node writes the standard reason phrase, as the other proxies here do.
    this.res.writeHead(statusCode, responseHeaders(headers))
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true
    // Backpressure: returning false pauses undici's parser (and so the upstream socket) until 'drain'.
    this.res.once('drain', this.onDrain)
    return false
  }

  onComplete(): void {
    this.done = true
    this.res.end()
  }

  onError(err: Error): void {
    this.done = true
    if (this.res.headersSent) this.res.destroy(err)
    else this.res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 11 }).end('Bad Gateway')
  }
}

/** Whether the client request carries a body (RFC 9112 6.3: Transfer-Encoding or a non-zero Content-Length). */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * The same exchange written against undici 7's controller-style handler (onRequestStart/onResponseStart/...).
 * Only for comparison (target `undici-ctl`): undici wraps such a handler in an adapter and parses the raw response
 * headers into an object for it, so this variant shows what that interface costs per request.
 */
class ControllerPassThrough implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined
  private done = false
  private readonly onDrain = () => this.controller?.resume()

  constructor(private readonly res: http.ServerResponse) {
    res.once('close', () => {
      if (!this.done) this.controller?.abort(new Error('client closed'))
    })
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: http.IncomingHttpHeaders): void {
    if (statusCode < 200) return
    const out: http.OutgoingHttpHeaders = {}
    const named = typeof headers.connection === 'string' ? connectionNamed(headers.connection) : []
    for (const name in headers) if (!DROP_RESPONSE.has(name) && !named.includes(name)) out[name] = headers[name]
    this.res.writeHead(statusCode, out)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return
    controller.pause()
    this.res.once('drain', this.onDrain)
  }

  onResponseEnd(): void {
    this.done = true
    this.res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.done = true
    if (this.res.headersSent) this.res.destroy(err)
    else this.res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 11 }).end('Bad Gateway')
  }
}

export async function startUndiciPassThrough(upstream: string, handler: 'raw' | 'controller' = 'raw'): Promise<number> {
  const origin = new URL(upstream).origin
  const Handler = handler === 'raw' ? PassThrough : ControllerPassThrough
  // One pool per upstream origin; keep-alive, no pipelining (the same as wrk's client leg).
  const pool = new Pool(origin, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })
  const server = http.createServer((req, res) => {
    pool.dispatch(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(req.rawHeaders),
        // The IncomingMessage itself: undici reads it as a stream, with backpressure on the client socket.
        body: hasBody(req) ? req : null,
      },
      new Handler(res),
    )
  })
  return listen(server)
}
