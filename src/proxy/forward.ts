import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { errors, type Dispatcher } from 'undici'
import type { Route } from '../resources/route.js'
import type { Service } from '../resources/service.js'
import { clientResponseHeaders, flatHeaders, upstreamRequestHeaders, type ForwardInfo } from './headers.js'
import { sendError } from './respond.js'
import type { Upstreams } from './upstreams.js'

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

/**
 * One proxied exchange: dispatches the request to the upstream pool and streams the response back, with
 * backpressure both ways, retries on connection errors, and cancellation when the client goes away.
 * It is its own undici dispatch handler, so a request costs one object here. It implements undici's raw handler
 * interface (onConnect/onHeaders/onData/onComplete/onError), the one the client core calls: the controller-style
 * interface goes through an adapter that parses every response header into an object, which costs measurable CPU
 * per request (bench/proxy's undici-ctl target) for headers we only pass on.
 */
export class Forward {
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly #plan: ForwardPlan
  #pool: Dispatcher
  readonly #upstreams: Upstreams
  readonly #headers: string[]
  #abort: ((error?: Error) => void) | undefined
  #resumeUpstream: (() => void) | undefined
  #attemptsLeft: number
  #retryOn503 = false
  #done = false
  /** The attempt's `requestTimeout` timer, while waiting for response headers. */
  #timer: NodeJS.Timeout | undefined

  constructor(req: IncomingMessage, res: ServerResponse, plan: ForwardPlan, upstreams: Upstreams) {
    this.#req = req
    this.#res = res
    this.#plan = plan
    this.#upstreams = upstreams
    this.#pool = upstreams.pool(plan.upstream, plan.service)
    this.#headers = upstreamRequestHeaders(req.rawHeaders, plan.info)
    // A streamed body can be read once, so only body-less idempotent requests are retried.
    this.#attemptsLeft = IDEMPOTENT.has(req.method!) && !plan.hasBody ? plan.service.retries : 0
    res.once('close', this.#onClientClose)
  }

  start(): void {
    const { service, target, hasBody } = this.#plan
    this.#pool.dispatch(
      {
        path: target,
        method: this.#req.method!,
        headers: this.#headers,
        body: !hasBody ? null : this.#plan.bodyLimit === undefined ? this.#req : (limited(this.#req, this.#plan.bodyLimit) as unknown as Readable), // undici streams async iterables; its types only list Readable
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
    this.#resumeUpstream = resume
    const { via, globalHeaders } = this.#plan
    const list = clientResponseHeaders(headers, via, globalHeaders)
    if (statusText) this.#res.writeHead(statusCode, statusText, list)
    else this.#res.writeHead(statusCode, list)
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.#res.write(chunk)) return true
    this.#res.once('drain', this.#resume)
    return false
  }

  onComplete(trailers: Buffer[] | string[] | Record<string, string | string[]> | null): void {
    this.#done = true
    // HTTP/1 passes trailers as a raw list; undici's HTTP/2 client passes an object (gRPC's status lives there).
    if (trailers && (Array.isArray(trailers) ? trailers.length > 0 : Object.keys(trailers).length > 0)) {
      const list = Array.isArray(trailers) ? latin1(trailers) : flatHeaders(trailers)
      const object: Record<string, string> = {}
      for (let i = 0; i < list.length; i += 2) object[list[i]!] = list[i + 1]!
      this.#res.addTrailers(object)
    }
    this.#res.end()
  }

  onError(error: Error & { code?: string }): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#done) return
    const res = this.#res
    if (this.#retryOn503 || (!res.headersSent && this.#attemptsLeft > 0 && CONNECTION_ERRORS.has(error.code ?? ''))) {
      this.#retryOn503 = false
      this.#attemptsLeft--
      this.#abort = undefined
      const delay = this.#plan.service.retryTimeout ?? 0
      if (delay > 0) setTimeout(() => this.#retry(), delay)
      else this.#retry()
      return
    }
    this.#done = true
    if (res.headersSent) {
      // Mid-body failure: the client must see a broken response, not a short one that looks complete.
      res.destroy(error)
      return
    }
    if (error.code === BODY_TOO_LARGE) {
      sendError(res, 413, error.message, ['connection', 'close'])
      this.#req.destroy()
    } else if (error.code === 'EDGATE_BLOCKED_ADDRESS') sendError(res, 502, 'upstream address not allowed')
    else if (TIMEOUTS.has(error.code ?? '')) sendError(res, 504, 'upstream timed out')
    else sendError(res, 502, 'upstream unavailable')
  }

  #retry(): void {
    if (this.#done) return
    // Ask again: a state change during the pause may have closed the pool this request started on.
    try {
      this.#pool = this.#upstreams.pool(this.#plan.upstream, this.#plan.service)
    } catch {
      this.#done = true
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
  }
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
