import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { errors, type Dispatcher } from 'undici'
import type { Route } from '../resources/route.js'
import type { Service } from '../resources/service.js'
import { clientResponseHeaders, flatHeaders, upstreamRequestHeaders, type ForwardInfo } from './headers.js'
import { sendError } from './respond.js'

/** Methods that may be sent twice (RFC 9110 section 9.2.2); the others are never retried. */
export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Failures that happened before the upstream saw the request: safe to try again. */
export const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])
export const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'])

const BODY_TOO_LARGE = 'EDGATE_BODY_TOO_LARGE'

/** Streams a body of unknown length, failing the upstream request once it passes `max` bytes. */
async function* limited(body: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  let seen = 0
  for await (const chunk of body) {
    seen += chunk.length
    if (seen > max) throw Object.assign(new Error(`request body is larger than ${max} bytes`), { code: BODY_TOO_LARGE })
    yield chunk
  }
}

/** What one forwarded request needs besides the inbound request and response. */
export interface ForwardPlan {
  route: Route
  namespace: string
  service: Service
  upstream: URL
  /** Path and query to send upstream, already rewritten. */
  target: string
  info: ForwardInfo
  via: boolean
  globalHeaders: readonly (readonly [string, string])[]
  hasBody: boolean
  /** For a body of unknown length: the most bytes to pass before answering 413. */
  bodyLimit: number | undefined
}

/** Where upstream connections come from (the data plane's pools, per origin and service settings). */
export interface UpstreamPools {
  pool(url: URL, service: Service): Dispatcher
}

/** The upstream request as a route's modules left it, sent instead of the client's. */
export interface UpstreamRequest {
  method: string
  /** Path and query. */
  target: string
  /** Flat `[name, value, …]` list, forwarding headers included. */
  headers: string[]
  /** The body a hook read or rewrote; undefined: stream the client's (when it has one). */
  body: Uint8Array | undefined
  /**
   * Flat list of headers hooks set on `ctx.response()`, sent to the client before the upstream's when the upstream
   * response goes out as it came (a plain forward, or {@link Forward.relayUpstream}).
   */
  clientHeaders?: readonly string[] | undefined
}

/** How the upstream answered a held forward. */
export type UpstreamHead =
  | { kind: 'response'; status: number; statusText: string | undefined; headers: string[] }
  /** Not reached, timed out, refused, or the request body was too large: the status and message to fail with. */
  | { kind: 'failed'; status: number; message: string }
  /** The client went away first. */
  | { kind: 'aborted' }

// What happens to the upstream response. `client`: straight to the client (a plain route). A held forward (a route
// with modules) reports the head to its owner and keeps the body (`holding`) until the owner relays it to the
// client, reads it for a hook, or discards it.
const CLIENT = 0
const HOLDING = 1
const RELAY = 2
const READ = 3
const DISCARD = 4
type Sink = typeof CLIENT | typeof HOLDING | typeof RELAY | typeof READ | typeof DISCARD

/** Bytes a held body may buffer before the upstream is paused (the owner decides within a few microtasks). */
const HOLD_HIGH_WATER = 64 * 1024

/**
 * One proxied exchange: dispatches the request to the upstream pool and streams the response back, with
 * backpressure both ways, retries on connection errors, and cancellation when the client goes away.
 * It is its own undici dispatch handler, so a request costs one object here. It implements undici's raw handler
 * interface (onConnect/onHeaders/onData/onComplete/onError), the one the client core calls: the controller-style
 * interface goes through an adapter that parses every response header into an object, which costs measurable CPU
 * per request (bench/proxy's undici-ctl target) for headers we only pass on.
 *
 * Routes with modules use a held forward ({@link Forward.held}): the same retries, timeouts and cancellation, but
 * the response head goes to the module stage and the body waits for {@link Forward.relay}, {@link Forward.read} or
 * {@link Forward.discard}.
 */
export class Forward {
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly #plan: ForwardPlan
  #pool: Dispatcher
  readonly #pools: UpstreamPools
  readonly #method: string
  readonly #target: string
  readonly #headers: string[]
  readonly #body: Uint8Array | undefined
  readonly #clientHeaders: readonly string[] | undefined
  #abort: ((error?: Error) => void) | undefined
  #resumeUpstream: (() => void) | undefined
  #attemptsLeft: number
  #retryOn503 = false
  #done = false
  /** The attempt's `requestTimeout` timer, while waiting for response headers. */
  #timer: NodeJS.Timeout | undefined
  #sink: Sink = CLIENT
  // Held forwards only.
  #onHead: ((head: UpstreamHead) => void) | undefined
  #headSeen = false
  #chunks: Buffer[] | undefined
  #buffered = 0
  #paused = false
  #complete = false
  #trailers: Buffer[] | string[] | Record<string, string | string[]> | null = null
  #error: Error | undefined
  #reading: { resolve: (body: Uint8Array) => void; reject: (error: Error) => void; max: number } | undefined

  constructor(req: IncomingMessage, res: ServerResponse, plan: ForwardPlan, pools: UpstreamPools, request?: UpstreamRequest) {
    this.#req = req
    this.#res = res
    this.#plan = plan
    this.#pools = pools
    this.#pool = pools.pool(plan.upstream, plan.service)
    this.#method = request ? request.method : req.method!
    this.#target = request ? request.target : plan.target
    this.#headers = request ? request.headers : upstreamRequestHeaders(req.rawHeaders, plan.info)
    this.#body = request?.body
    this.#clientHeaders = request?.clientHeaders
    // A streamed body can be read once, so only idempotent requests without one (or with a buffered one) are retried.
    this.#attemptsLeft = IDEMPOTENT.has(this.#method) && (!plan.hasBody || this.#body !== undefined) ? plan.service.retries : 0
    res.once('close', this.#onClientClose)
  }

  /**
   * Starts a held forward of `request` (a route with modules): `onHead` gets the upstream's status and headers, or
   * why there are none, exactly once; the body waits for the owner.
   */
  static held(req: IncomingMessage, res: ServerResponse, plan: ForwardPlan, pools: UpstreamPools, request: UpstreamRequest, onHead: (head: UpstreamHead) => void): Forward {
    const forward = new Forward(req, res, plan, pools, request)
    forward.#sink = HOLDING
    forward.#onHead = onHead
    forward.start()
    return forward
  }

  start(): void {
    const { service, hasBody, bodyLimit } = this.#plan
    this.#pool.dispatch(
      {
        path: this.#target,
        method: this.#method,
        headers: this.#headers,
        body: this.#body ?? (!hasBody ? null : bodyLimit === undefined ? this.#req : (limited(this.#req, bodyLimit) as unknown as Readable)), // undici streams async iterables; its types only list Readable
        // undici times headers on its coarse timer wheel (about 0.5 s ticks), so a set requestTimeout gets a native
        // timer instead (armed in onConnect); otherwise undici's 5-minute backstop applies.
        headersTimeout: service.requestTimeout === undefined ? 300_000 : 0,
        bodyTimeout: 0,
      },
      this as unknown as Dispatcher.DispatchHandler,
    )
  }

  onConnect(abort: (error?: Error) => void): void {
    this.#abort = abort
    if (this.#done) return abort(new Error('client went away'))
    const timeout = this.#plan.service.requestTimeout
    if (timeout !== undefined && timeout > 0) {
      clearTimeout(this.#timer)
      this.#timer = setTimeout(Forward.#onTimeout, timeout, this)
    }
  }

  /** The attempt got no response headers within `requestTimeout`: fail it as undici's own timeout would. */
  static #onTimeout(self: Forward): void {
    self.#timer = undefined
    self.#abort?.(new errors.HeadersTimeoutError(`no response headers within ${self.#plan.service.requestTimeout} ms`))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[], resume: () => void, statusText?: string): boolean {
    if (statusCode < 200) return true
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    const headers = latin1(rawHeaders)
    if (statusCode === 503 && this.#attemptsLeft > 0 && hasHeader(headers, 'retry-after')) {
      this.#retryOn503 = true
      this.#abort?.(new Error('503 with Retry-After: retrying'))
      return false
    }
    this.#headSeen = true
    this.#resumeUpstream = resume
    if (this.#sink === HOLDING) {
      this.#onHead!({ kind: 'response', status: statusCode, statusText, headers })
      return true
    }
    const list = this.#clientList(headers)
    if (statusText) this.#res.writeHead(statusCode, statusText, list)
    else this.#res.writeHead(statusCode, list)
    return true
  }

  onData(chunk: Buffer): boolean {
    switch (this.#sink) {
      case CLIENT:
      case RELAY:
        if (this.#res.write(chunk)) return true
        this.#res.once('drain', this.#resume)
        return false
      case HOLDING:
        ;(this.#chunks ??= []).push(chunk)
        this.#buffered += chunk.length
        if (this.#buffered < HOLD_HIGH_WATER) return true
        this.#paused = true
        return false
      case READ: {
        this.#chunks!.push(chunk)
        this.#buffered += chunk.length
        const reading = this.#reading!
        if (this.#buffered <= reading.max) return true
        this.#fail(new Error(`the upstream body is larger than ${reading.max} bytes`))
        this.#abort?.(new Error('upstream body too large'))
        return false
      }
      default:
        return true
    }
  }

  onComplete(trailers: Buffer[] | string[] | Record<string, string | string[]> | null): void {
    this.#done = true
    switch (this.#sink) {
      case HOLDING:
        this.#complete = true
        this.#trailers = trailers
        return
      case READ: {
        const body = this.#take()
        const reading = this.#reading!
        this.#reading = undefined
        reading.resolve(body)
        return
      }
      case DISCARD:
        return
      default:
        this.#end(trailers)
    }
  }

  onError(error: Error & { code?: string }): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#done) return
    const res = this.#res
    if (this.#retryOn503 || (!this.#headSeen && this.#attemptsLeft > 0 && CONNECTION_ERRORS.has(error.code ?? ''))) {
      this.#retryOn503 = false
      this.#attemptsLeft--
      this.#abort = undefined
      const delay = this.#plan.service.retryTimeout ?? 0
      if (delay > 0) setTimeout(() => this.#retry(), delay)
      else this.#retry()
      return
    }
    this.#done = true
    if (this.#sink !== CLIENT) return this.#heldError(error)
    if (res.headersSent) {
      // Mid-body failure: the client must see a broken response, not a short one that looks complete.
      res.destroy(error)
      return
    }
    const failure = failureOf(error)
    if (error.code === BODY_TOO_LARGE) {
      sendError(res, failure.status, failure.message, ['connection', 'close'])
      this.#req.destroy()
    } else sendError(res, failure.status, failure.message)
  }

  /** A held forward's failure: before the head it is the head; after, the body's reader or relay sees it. */
  #heldError(error: Error & { code?: string }): void {
    if (!this.#headSeen) {
      const onHead = this.#onHead!
      this.#onHead = undefined
      onHead({ kind: 'failed', ...failureOf(error) })
      // The client's body was cut off unread: this connection cannot carry another request.
      if (error.code === BODY_TOO_LARGE) {
        this.#res.setHeader('connection', 'close')
        this.#res.once('finish', () => this.#req.destroy())
      }
      return
    }
    this.#fail(error)
  }

  /** The body failed after the head: a relay is broken off, a read rejects, a held body remembers it. */
  #fail(error: Error): void {
    this.#chunks = undefined
    if (this.#sink === RELAY) this.#res.destroy(error)
    else if (this.#sink === READ) {
      const reading = this.#reading
      this.#reading = undefined
      reading?.reject(error)
      this.#sink = DISCARD
    } else if (this.#sink === HOLDING) this.#error = error
  }

  /** Sends the held response to the client: `status` and `headers` (client-ready), then the upstream body as it comes. */
  relay(status: number, statusText: string | undefined, headers: string[]): void {
    this.#sink = RELAY
    const res = this.#res
    if (res.destroyed) return
    if (statusText) res.writeHead(status, statusText, headers)
    else res.writeHead(status, headers)
    if (this.#error) return void res.destroy(this.#error)
    const chunks = this.#chunks
    this.#chunks = undefined
    let flowing = true
    if (chunks) for (const chunk of chunks) flowing = res.write(chunk)
    if (this.#complete) return this.#end(this.#trailers)
    if (!this.#paused) return
    this.#paused = false
    if (flowing) this.#resume()
    else res.once('drain', this.#resume)
  }

  /** Sends the held response to the client as the upstream sent it, with the headers a plain forward would send. */
  relayUpstream(status: number, statusText: string | undefined, headers: readonly string[]): void {
    this.relay(status, statusText, this.#clientList(headers))
  }

  /** The client response's headers for upstream `headers`: the hooks' headers first, then the proxy's rules. */
  #clientList(headers: readonly string[]): string[] {
    const own = this.#clientHeaders
    return clientResponseHeaders(own === undefined || own.length === 0 ? headers : [...own, ...headers], this.#plan.via, this.#plan.globalHeaders)
  }

  /** Reads the whole held body (at most `max` bytes), for a hook. */
  read(max: number): Promise<Uint8Array> {
    if (this.#error) return Promise.reject(this.#error)
    if (this.#sink !== HOLDING) return Promise.reject(new Error('the upstream body is no longer available'))
    if (this.#buffered > max) {
      this.discard()
      return Promise.reject(new Error(`the upstream body is larger than ${max} bytes`))
    }
    if (this.#complete) {
      this.#sink = DISCARD
      return Promise.resolve(this.#take())
    }
    this.#sink = READ
    this.#chunks ??= []
    const promise = new Promise<Uint8Array>((resolve, reject) => (this.#reading = { resolve, reject, max }))
    if (this.#paused) {
      this.#paused = false
      this.#resume()
    }
    return promise
  }

  /** Drops the held body: the answer does not use it. */
  discard(): void {
    if (this.#sink === READ || this.#sink === RELAY) return
    this.#sink = DISCARD
    this.#chunks = undefined
    if (this.#done) return
    this.#done = true
    this.#abort?.(new Error('the upstream body is not used'))
  }

  #take(): Uint8Array {
    const chunks = this.#chunks
    this.#chunks = undefined
    if (!chunks || chunks.length === 0) return new Uint8Array(0)
    const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#buffered)
    return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
  }

  #end(trailers: Buffer[] | string[] | Record<string, string | string[]> | null): void {
    // HTTP/1 passes trailers as a raw list; undici's HTTP/2 client passes an object (gRPC's status lives there).
    if (trailers && (Array.isArray(trailers) ? trailers.length > 0 : Object.keys(trailers).length > 0)) {
      const list = Array.isArray(trailers) ? latin1(trailers) : flatHeaders(trailers)
      const object: Record<string, string> = {}
      for (let i = 0; i < list.length; i += 2) object[list[i]!] = list[i + 1]!
      this.#res.addTrailers(object)
    }
    this.#res.end()
  }

  #retry(): void {
    if (this.#done) return
    // Ask again: a state change during the pause may have closed the pool this request started on.
    try {
      this.#pool = this.#pools.pool(this.#plan.upstream, this.#plan.service)
    } catch {
      this.#done = true
      if (this.#sink !== CLIENT) return this.#heldError(new Error('upstream unavailable'))
      return sendError(this.#res, 502, 'upstream unavailable')
    }
    this.start()
  }

  readonly #resume = (): void => {
    this.#resumeUpstream?.()
  }

  readonly #onClientClose = (): void => {
    if (this.#done) return
    // The client went away before the response finished: cancel the upstream request.
    this.#done = true
    this.#abort?.(new Error('client went away'))
    if (this.#sink === CLIENT) return
    if (!this.#headSeen) {
      const onHead = this.#onHead
      this.#onHead = undefined
      onHead?.({ kind: 'aborted' })
    } else this.#fail(new Error('the client went away'))
  }
}

/** The answer for an upstream request that failed before its response: status and message. */
function failureOf(error: Error & { code?: string }): { status: number; message: string } {
  if (error.code === BODY_TOO_LARGE) return { status: 413, message: error.message }
  if (error.code === 'EDGATE_BLOCKED_ADDRESS') return { status: 502, message: 'upstream address not allowed' }
  if (TIMEOUTS.has(error.code ?? '')) return { status: 504, message: 'upstream timed out' }
  return { status: 502, message: 'upstream unavailable' }
}

/** Raw header buffers as strings; header bytes are latin1 by definition (RFC 9110 5.5). */
function latin1(raw: readonly (Buffer | string)[]): string[] {
  const out = new Array<string>(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const item = raw[i]!
    out[i] = typeof item === 'string' ? item : item.toString('latin1')
  }
  return out
}

function hasHeader(list: readonly string[], lower: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i]!.length === lower.length && list[i]!.toLowerCase() === lower) return true
  return false
}
