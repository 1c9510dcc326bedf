import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { errors, type Dispatcher } from 'undici'
import type { Route } from '../resources/route.js'
import type { Service } from '../resources/service.js'
import { clientResponseHeaders, upstreamRequestHeaders, type ForwardInfo } from './headers.js'
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
 * It is its own undici dispatch handler, so a request costs one object here.
 */
export class Forward implements Dispatcher.DispatchHandler {
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  readonly #plan: ForwardPlan
  #pool: Dispatcher
  readonly #upstreams: Upstreams
  readonly #headers: string[]
  #controller: Dispatcher.DispatchController | undefined
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
        // timer instead (armed in onRequestStart); otherwise undici's 5-minute backstop applies.
        headersTimeout: service.requestTimeout === undefined ? 300_000 : 0,
        bodyTimeout: 0,
      },
      this,
    )
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#done) return controller.abort(new Error('client went away'))
    const timeout = this.#plan.service.requestTimeout
    if (timeout !== undefined && timeout > 0) {
      clearTimeout(this.#timer)
      this.#timer = setTimeout(Forward.#onTimeout, timeout, this)
    }
  }

  /** The attempt got no response headers within `requestTimeout`: fail it as undici's own timeout would. */
  static #onTimeout(self: Forward): void {
    self.#timer = undefined
    self.#controller?.abort(new errors.HeadersTimeoutError(`no response headers within ${self.#plan.service.requestTimeout} ms`))
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void {
    if (statusCode < 200) return
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (statusCode === 503 && this.#attemptsLeft > 0 && headers['retry-after'] !== undefined) {
      this.#retryOn503 = true
      controller.abort(new Error('503 with Retry-After: retrying'))
      return
    }
    const { via, globalHeaders } = this.#plan
    const list = clientResponseHeaders(headers, via, globalHeaders)
    if (statusMessage) this.#res.writeHead(statusCode, statusMessage, list)
    else this.#res.writeHead(statusCode, list)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) {
      controller.pause()
      this.#res.once('drain', this.#resume)
    }
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[]>): void {
    this.#done = true
    // undici's HTTP/2 client passes trailers on as an object where HTTP/1 passes a raw list, and its adapter for
    // handlers like this one only parses lists: HTTP/2 trailers (gRPC's status) arrive empty but sit in rawTrailers.
    const raw = controller.rawTrailers
    const all = raw && !Array.isArray(raw) ? raw : trailers
    for (const _ in all) {
      this.#res.addTrailers(all as Record<string, string>)
      break
    }
    this.#res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error & { code?: string }): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#done) return
    const res = this.#res
    if (this.#retryOn503 || (!res.headersSent && this.#attemptsLeft > 0 && CONNECTION_ERRORS.has(error.code ?? ''))) {
      this.#retryOn503 = false
      this.#attemptsLeft--
      this.#controller = undefined
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
    this.#controller?.resume()
  }

  readonly #onClientClose = (): void => {
    if (this.#done) return
    // The client went away before the response finished: cancel the upstream request.
    this.#done = true
    this.#controller?.abort(new Error('client went away'))
  }
}
