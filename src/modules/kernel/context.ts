import type { ExchangeFields, OutcomeFields, TextTools } from './env.js'
import type { MapTools } from './maps.js'
import type { WebTools } from './web.js'

/**
 * The exchange as the kernel reads it: the host's `Exchange` in object mode, decoded from its {@link ExchangeFields}
 * in primitive mode, where params and locals stay JSON text until a hook reads them. Bodies arrive separately, and so
 * do the route, service and namespace snapshots ({@link CallState.snapshots}): they are the same for many calls, so
 * the host serializes them once and the kernel parses them only when a hook asks (`ctx.route()`…).
 */
interface ExchangeData {
  id: string
  request: { method: string; path: string; host: string; proto: string; remoteAddress: string; contentLength: number; headers: [string, string][]; query: string }
  params: Record<string, string> | string
  locals?: Record<string, unknown> | string
  response: { status?: number; headers: [string, string][]; ended: boolean }
  upstream?: { statusCode: number; headers: [string, string][] }
  error?: { message: string; status?: number }
}

/** One hook call's state inside the kernel. */
export interface CallState {
  readonly id: number
  readonly hook: string
  readonly ex: ExchangeData
  /** Whether `ex` is the kernel's own (primitive mode) or the host's object (native mode, copied on access). */
  readonly owned: boolean
  /**
   * Route, service and namespace: JSON text (`''` for none) in primitive mode, the host's objects in native mode.
   * Parsed or copied per call on first use, so no call can see another call's changes to them.
   */
  readonly snapshots: readonly [unknown, unknown, unknown]
  /** Host call for this call: resolves to the JSON value and the bytes. */
  readonly rpc: (op: string, args: string, bytes?: Uint8Array) => Promise<{ value: unknown; bytes: Uint8Array | undefined }>
  done: boolean
  ctx?: unknown
  /** The per-request scratch, made on first use (in native mode a copy of the host's). */
  locals: Record<string, unknown> | undefined
  /** Whether the hook may have changed the locals: only then do they go back to the host. */
  localsTouched: boolean
  reqBody: Uint8Array | undefined
  reqBodyRead: Promise<Uint8Array> | undefined
  reqBodyWritten: boolean
  reqHeaders: unknown
  reqQuery: unknown
  method: string | undefined
  path: string | undefined
  resTouched: boolean
  resStatus: number | undefined
  resHeaders: unknown
  resChunks: Uint8Array[]
  resEnded: boolean
  upBody: Uint8Array | undefined
  upBodyRead: Promise<Uint8Array> | undefined
  upTouched: boolean
  upWritten: boolean
  upStatus: number
  upHeaders: unknown
}

/** What `makeContext` provides to the boot code. */
export interface ContextTools {
  /**
   * Creates the state of a call. `owned` (primitive mode): `exchange` is its {@link ExchangeFields}; otherwise the
   * host's exchange object alone.
   */
  begin(
    id: number,
    hook: string,
    exchange: ExchangeFields | [object],
    owned: boolean,
    snapshots: CallState['snapshots'],
    rpc: CallState['rpc'],
    bodies: [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined],
  ): CallState
  /** The `ctx` object handed to hooks. */
  ctxOf(call: CallState): unknown
  /** The `err` argument of `errorHandler`. */
  errorOf(call: CallState): unknown
  /** The outcome of a call that returned `result` or failed with `failure`. */
  outcomeOf(call: CallState, result: unknown, failure: string | undefined): OutcomeFields
  /** The outcome of a call that failed before or outside its hook. */
  failed(message: string, code: string): OutcomeFields
  /** Classes whose instances modules see, to harden once. */
  classes: unknown[]
}

/**
 * Kernel part: `ctx` over plain exchange data (DESIGN.md 5.2; DGate's names with its bugs fixed). Self-contained:
 * serialized into the sandbox, and called directly in the host realm by the native runtime.
 */
export function makeContext(text: TextTools, web: WebTools, maps: MapTools, SafeError: ErrorConstructor, describe: (error: unknown) => string): ContextTools {
  const { JSON, Object, String, Number, TypeError, RangeError, Date, Math, Promise, Uint8Array } = globalThis

  const STATUS_TEXT: Record<number, string> = {
    100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information',
    204: 'No Content', 205: 'Reset Content', 206: 'Partial Content', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
    401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
    408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
    414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot",
    421: 'Misdirected Request', 422: 'Unprocessable Content', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
    429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error',
    501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
  }
  // Far above what HTTP messages carry (Node accepts 2000 lines, undici 16 KiB), and the same in every runtime: the
  // lines cross as arguments in primitive mode, and an engine takes only so many. The host's is in runtimes/wire.ts.
  const MAX_HEADER_LINES = 10_000
  const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
  // Control characters, quote, semicolon and backslash cannot appear in a cookie value (RFC 6265 cookie-octet).
  // eslint-disable-next-line no-control-regex
  const COOKIE_VALUE_BAD = /[\0-\x1f\x7f";\\]/

  function statusCode(code: unknown): number {
    const n = Number(code)
    if (!Number.isInteger(n) || n < 100 || n > 599) throw new RangeError(`invalid status code: ${String(code)}`)
    return n
  }
  function copy<T>(value: T): T {
    return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T)
  }
  /** Host data as this call's own: parsed from JSON text (primitive mode), or a copy of the host's object. */
  function own(value: unknown): unknown {
    if (typeof value === 'string') return value === '' ? undefined : JSON.parse(value)
    return value === undefined || value === null ? undefined : copy(value)
  }

  // Header lists across the boundary (WireHeaders in env.ts): names and values at the end of the fields.
  function pairsAt(fields: unknown[], from: number, count: number): [string, string][] {
    const out: [string, string][] = []
    for (let i = from, end = from + 2 * count; i < end; i += 2) out.push([fields[i] as string, fields[i + 1] as string])
    return out
  }
  function decodeExchange(w: ExchangeFields): ExchangeData {
    const reqAt = 18
    const resAt = reqAt + 2 * w[15]
    const upAt = resAt + 2 * w[16]
    return {
      id: w[0],
      request: { method: w[1], path: w[2], host: w[3], proto: w[4], remoteAddress: w[5], contentLength: w[6], query: w[7], headers: pairsAt(w, reqAt, w[15]) },
      params: w[8],
      locals: w[9],
      response: { status: w[10], headers: pairsAt(w, resAt, w[16]), ended: w[11] },
      upstream: w[12] === undefined ? undefined : { statusCode: w[12], headers: pairsAt(w, upAt, w[17]) },
      error: w[13] === undefined ? undefined : { message: w[13], status: w[14] },
    }
  }
  function live(call: CallState): void {
    if (call.done) throw new SafeError('this request has already finished; ctx can no longer be used')
  }
  /** The call's locals; `write` marks them as possibly changed (they then go back to the host). */
  function localsOf(call: CallState, write: boolean): Record<string, unknown> {
    if (write) call.localsTouched = true
    return (call.locals ??= (own(call.ex.locals) as Record<string, unknown> | undefined) ?? {})
  }
  function requestHeaders(call: CallState): ReturnType<MapTools['headers']> {
    return (call.reqHeaders ??= maps.headers(call.ex.request.headers))
  }
  function responseHeaders(call: CallState): ReturnType<MapTools['headers']> {
    return (call.resHeaders ??= maps.headers(call.ex.response.headers))
  }
  function upstreamHeaders(call: CallState): ReturnType<MapTools['headers']> {
    return (call.upHeaders ??= maps.headers(call.ex.upstream ? call.ex.upstream.headers : []))
  }
  function setLength(headers: unknown, length: number): void {
    const h = headers as { set(n: string, v: unknown): unknown; del(n: string): unknown }
    h.del('transfer-encoding')
    h.set('content-length', String(length))
  }
  function requestBytes(call: CallState): Promise<Uint8Array> {
    if (call.reqBody !== undefined) return Promise.resolve(call.reqBody)
    call.reqBodyRead ??= call.rpc('readRequestBody', '').then((r) => {
      if (call.reqBody === undefined) call.reqBody = r.bytes ?? new Uint8Array(0)
      return call.reqBody
    })
    return call.reqBodyRead
  }
  function upstreamBytes(call: CallState): Promise<Uint8Array> {
    if (call.upBody !== undefined) return Promise.resolve(call.upBody)
    call.upBodyRead ??= call.rpc('readUpstreamBody', '').then((r) => {
      if (call.upBody === undefined) call.upBody = r.bytes ?? new Uint8Array(0)
      return call.upBody
    })
    return call.upBodyRead
  }
  function jsonText(data: unknown): string {
    const out = JSON.stringify(data)
    return out === undefined ? 'null' : out
  }

  /** Where a message's body lives in the call: the request's, or the upstream response's. */
  interface BodySide {
    headers(call: CallState): ReturnType<MapTools['headers']>
    bytes(call: CallState): Promise<Uint8Array>
    /** Stores a rewritten body. */
    store(call: CallState, bytes: Uint8Array): void
  }
  const REQUEST_BODY: BodySide = {
    headers: requestHeaders,
    bytes: requestBytes,
    store(call, bytes) {
      call.reqBody = bytes
      call.reqBodyWritten = true
    },
  }
  const UPSTREAM_BODY: BodySide = {
    headers: upstreamHeaders,
    bytes: upstreamBytes,
    store(call, bytes) {
      call.upBody = bytes
      call.upWritten = true
      call.upTouched = true
    },
  }

  /** The body methods of the request and the upstream response: reads keep the body, rewrites keep its length right. */
  class Body {
    #call: CallState
    #side: BodySide
    constructor(call: CallState, side: BodySide) {
      this.#call = call
      this.#side = side
    }
    async readBody(): Promise<ArrayBuffer> {
      return text.toArrayBuffer(await this.#side.bytes(this.#call))
    }
    async readText(): Promise<string> {
      return text.decode(await this.#side.bytes(this.#call))
    }
    async readJson(): Promise<unknown> {
      return JSON.parse(text.decode(await this.#side.bytes(this.#call)))
    }
    writeBody(data: unknown): void {
      const c = this.#call
      live(c)
      const bytes = text.toBytes(data, 'writeBody')
      this.#side.store(c, bytes)
      setLength(this.#side.headers(c), bytes.byteLength)
    }
    writeJson(data: unknown): void {
      const body = jsonText(data)
      ;(this.#side.headers(this.#call) as { set(n: string, v: string): void }).set('content-type', 'application/json')
      this.writeBody(body)
    }
  }

  class Request extends Body {
    #call: CallState
    constructor(call: CallState) {
      super(call, REQUEST_BODY)
      this.#call = call
    }
    get method(): string {
      return this.#call.method ?? this.#call.ex.request.method
    }
    set method(value: string) {
      live(this.#call)
      const m = String(value).toUpperCase()
      if (!/^[A-Z]+$/.test(m)) throw new TypeError(`invalid method: ${String(value)}`)
      this.#call.method = m
    }
    get path(): string {
      return this.#call.path ?? this.#call.ex.request.path
    }
    set path(value: string) {
      live(this.#call)
      const p = String(value)
      if (!p.startsWith('/') || /[\0-\x20\x7f]/.test(p)) throw new TypeError(`invalid path: ${JSON.stringify(p)}`)
      this.#call.path = p
    }
    get host(): string {
      return this.#call.ex.request.host
    }
    get proto(): string {
      return this.#call.ex.request.proto
    }
    get remoteAddress(): string {
      return this.#call.ex.request.remoteAddress
    }
    get contentLength(): number {
      const c = this.#call
      return c.reqBodyWritten && c.reqBody ? c.reqBody.byteLength : c.ex.request.contentLength
    }
    get headers(): unknown {
      return requestHeaders(this.#call)
    }
    get query(): unknown {
      return (this.#call.reqQuery ??= maps.query(web.parseQuery(this.#call.ex.request.query)))
    }
  }

  function cookieLine(name: unknown, value: unknown, options: Record<string, unknown> | undefined): string {
    const n = String(name)
    if (!COOKIE_NAME.test(n)) throw new TypeError(`invalid cookie name: ${JSON.stringify(n)}`)
    let v = String(value ?? '')
    if (COOKIE_VALUE_BAD.test(v)) throw new TypeError(`invalid cookie value for ${n}`)
    if (v.includes(' ') || v.includes(',')) v = `"${v}"`
    let line = `${n}=${v}`
    const o = options ?? {}
    if (o.path !== undefined) line += `; Path=${String(o.path)}`
    if (o.domain !== undefined) line += `; Domain=${String(o.domain)}`
    if (o.expires !== undefined) {
      const when = o.expires instanceof Date ? o.expires : new Date(o.expires as string | number)
      if (Number.isNaN(when.getTime())) throw new TypeError('invalid cookie expires')
      line += `; Expires=${when.toUTCString()}`
    }
    if (o.maxAge !== undefined) {
      const age = Math.trunc(Number(o.maxAge))
      line += age > 0 ? `; Max-Age=${age}` : '; Max-Age=0'
    }
    if (o.httpOnly) line += '; HttpOnly'
    if (o.secure) line += '; Secure'
    const same = typeof o.sameSite === 'string' ? o.sameSite.toLowerCase() : o.sameSite === true ? 'strict' : ''
    if (same === 'lax') line += '; SameSite=Lax'
    else if (same === 'strict') line += '; SameSite=Strict'
    else if (same === 'none') line += '; SameSite=None'
    if (/[\r\n\0]/.test(line)) throw new TypeError('invalid cookie attribute')
    return line
  }
  function requestCookies(call: CallState): { name: string; value: string }[] {
    const out: { name: string; value: string }[] = []
    for (const [k, v] of call.ex.request.headers) {
      if (k.toLowerCase() !== 'cookie') continue
      for (const part of v.split(';')) {
        const eq = part.indexOf('=')
        if (eq < 0) continue
        const name = part.slice(0, eq).trim()
        let value = part.slice(eq + 1).trim()
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
        if (COOKIE_NAME.test(name)) out.push({ name, value })
      }
    }
    return out
  }
  function escapeHtml(s: string): string {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
  }

  class Response {
    #call: CallState
    constructor(call: CallState) {
      this.#call = call
    }
    #touch(): CallState {
      live(this.#call)
      this.#call.resTouched = true
      return this.#call
    }
    get headers(): unknown {
      // A header write marks the response changed through the map's dirty flag (see outcomeOf).
      return responseHeaders(this.#call)
    }
    get headersSent(): boolean {
      return this.#call.resEnded
    }
    get locals(): Record<string, unknown> {
      // The object is handed out and may be changed in place at any time while the hook runs.
      return localsOf(this.#call, true)
    }
    status(code: number): this {
      const n = statusCode(code)
      this.#touch().resStatus = n
      return this
    }
    location(url: string): this {
      this.#touch()
      ;(responseHeaders(this.#call) as { set(n: string, v: string): void }).set('location', String(url))
      return this
    }
    cookie(name: string, value: string, options?: Record<string, unknown>, ...rest: unknown[]): this {
      if (rest.length > 0) throw new TypeError('cookie: at most one options argument')
      const line = cookieLine(name, value, options)
      this.#touch()
      ;(responseHeaders(this.#call) as { add(n: string, v: string): void }).add('set-cookie', line)
      return this
    }
    end(data?: unknown): this {
      const bytes = data === undefined || data === null ? undefined : text.toBytes(data, 'end')
      const c = this.#touch()
      if (bytes) c.resChunks.push(bytes)
      c.resEnded = true
      c.resStatus ??= 200
      return this
    }
    send(data?: unknown): this {
      return this.end(data)
    }
    json(data: unknown): this {
      const body = jsonText(data)
      this.#touch()
      ;(responseHeaders(this.#call) as { set(n: string, v: string): void }).set('content-type', 'application/json')
      return this.end(body)
    }
    #redirect(url: unknown, code: number): this {
      const c = this.#touch()
      let target = String(url)
      if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target) && !target.startsWith('/')) {
        const base = c.ex.request.path
        target = base.slice(0, base.lastIndexOf('/') + 1) + target
      }
      const headers = responseHeaders(c) as { set(n: string, v: string): void; has(n: string): boolean }
      headers.set('location', target)
      c.resStatus = code
      if (c.ex.request.method === 'GET' && !headers.has('content-type')) {
        headers.set('content-type', 'text/html; charset=utf-8')
        c.resChunks.push(text.encode(`<a href="${escapeHtml(target)}">${STATUS_TEXT[code]}</a>.\n`))
      }
      c.resEnded = true
      return this
    }
    redirect(url: string): this {
      return this.#redirect(url, 307)
    }
    redirectPermanent(url: string): this {
      return this.#redirect(url, 301)
    }
    getCookies(): { name: string; value: string }[] {
      return requestCookies(this.#call)
    }
    getCookie(name: string): { name: string; value: string } | null {
      const key = String(name)
      return requestCookies(this.#call).find((c) => c.name === key) ?? null
    }
  }

  class Upstream extends Body {
    #call: CallState
    constructor(call: CallState) {
      super(call, UPSTREAM_BODY)
      this.#call = call
    }
    get statusCode(): number {
      return this.#call.upStatus
    }
    set statusCode(code: number) {
      const n = statusCode(code)
      live(this.#call)
      this.#call.upStatus = n
      this.#call.upTouched = true
    }
    get statusText(): string {
      const code = this.#call.upStatus
      return `${code} ${STATUS_TEXT[code] ?? ''}`.trim()
    }
    get headers(): unknown {
      return upstreamHeaders(this.#call)
    }
    status(code: number): this {
      this.statusCode = code
      return this
    }
    #redirect(url: unknown, code: number): this {
      this.statusCode = code
      ;(upstreamHeaders(this.#call) as { set(n: string, v: string): void }).set('location', String(url))
      this.writeBody('')
      return this
    }
    redirect(url: string): this {
      return this.#redirect(url, 307)
    }
    redirectPermanent(url: string): this {
      return this.#redirect(url, 301)
    }
  }

  class Context {
    #call: CallState
    #request: Request | undefined
    #response: Response | undefined
    #upstream: Upstream | undefined
    #snapshots: Record<string, unknown> = {}
    constructor(call: CallState) {
      this.#call = call
    }
    #snapshot(key: 'route' | 'service' | 'namespace' | 'params'): unknown {
      if (!(key in this.#snapshots)) {
        const c = this.#call
        const value = own(key === 'params' ? c.ex.params : c.snapshots[key === 'route' ? 0 : key === 'service' ? 1 : 2])
        this.#snapshots[key] = value === undefined ? null : value
      }
      return this.#snapshots[key]
    }
    get id(): string {
      return this.#call.ex.id
    }
    request(): Request {
      return (this.#request ??= new Request(this.#call))
    }
    response(): Response {
      return (this.#response ??= new Response(this.#call))
    }
    upstream(): Upstream | null {
      if (!this.#call.ex.upstream) return null
      return (this.#upstream ??= new Upstream(this.#call))
    }
    service(): unknown {
      return this.#snapshot('service')
    }
    route(): unknown {
      return this.#snapshot('route')
    }
    namespace(): unknown {
      return this.#snapshot('namespace')
    }
    pathParams(): unknown {
      return this.#snapshot('params') ?? {}
    }
    pathParam(name: string): string {
      const params = this.#snapshot('params') as Record<string, string> | null
      const key = String(name)
      return params && Object.hasOwn(params, key) ? String(params[key]) : ''
    }
    query(): unknown {
      return this.request().query
    }
    get(key: string): unknown {
      const k = String(key)
      const locals = localsOf(this.#call, false)
      const value = Object.hasOwn(locals, k) ? locals[k] : null
      // An object handed out may be changed in place.
      if (value !== null && typeof value === 'object') this.#call.localsTouched = true
      return value
    }
    set(key: string, value: unknown): void {
      live(this.#call)
      // Locals cross to the next hook as JSON: refuse what would not survive the trip now, where the author sees it.
      if (value !== undefined) JSON.stringify(value)
      localsOf(this.#call, true)[String(key)] = value
    }
  }

  const begin: ContextTools['begin'] = (id, hook, exchange, owned, snapshots, rpc, bodies) => {
    const [reqBody, resBody, upBody] = bodies
    const ex = owned ? decodeExchange(exchange as ExchangeFields) : (exchange[0] as ExchangeData)
    return {
      id, hook, ex, owned, snapshots, rpc, done: false, locals: undefined, localsTouched: false,
      reqBody, reqBodyRead: undefined, reqBodyWritten: false, reqHeaders: undefined, reqQuery: undefined, method: undefined, path: undefined,
      resTouched: false, resStatus: ex.response.status, resHeaders: undefined, resChunks: resBody ? [resBody] : [], resEnded: !!ex.response.ended,
      upBody, upBodyRead: undefined, upTouched: false, upWritten: false, upStatus: ex.upstream ? ex.upstream.statusCode : 0, upHeaders: undefined,
    }
  }

  function overLimit(list: [string, string][] | undefined, which: string): string | undefined {
    if (list === undefined || list.length <= MAX_HEADER_LINES) return undefined
    return `the hook left ${list.length} ${which} header lines; at most ${MAX_HEADER_LINES} are allowed`
  }

  function failed(message: string, code: string): OutcomeFields {
    return [undefined, message, code, undefined, undefined, undefined, false, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined]
  }

  function outcomeOf(call: CallState, result: unknown, failure: string | undefined): OutcomeFields {
    // Untouched locals stay out: the host keeps the ones it sent. They leave as JSON in every mode, so they come out
    // the same in each, and the module keeps no reference into the host's copy.
    let locals: string | undefined
    if (call.localsTouched) {
      try {
        locals = JSON.stringify(call.locals ?? {})
      } catch (e) {
        return failed(`the per-request locals are not JSON: ${describe(e)}`, 'thrown')
      }
    }
    if (failure !== undefined) {
      const out = failed(failure, 'thrown')
      out[0] = locals
      return out
    }
    const reqHeaders = call.reqHeaders && maps.stateOf(call.reqHeaders).dirty ? maps.release(call.reqHeaders) : undefined
    const query = call.reqQuery && maps.stateOf(call.reqQuery).dirty ? web.encodeQuery(maps.stateOf(call.reqQuery).pairs) : undefined
    const method = call.method !== undefined && call.method !== call.ex.request.method ? call.method : undefined
    const path = call.path !== undefined && call.path !== call.ex.request.path ? call.path : undefined
    const resDirty = call.resTouched || (call.resHeaders !== undefined && maps.stateOf(call.resHeaders).dirty)
    const resHeaders = resDirty ? (call.resHeaders ? maps.release(call.resHeaders) : call.ex.response.headers) : undefined
    const resBody = resDirty && call.resChunks.length > 0 ? (call.resChunks.length === 1 ? call.resChunks[0] : text.concat(call.resChunks)) : undefined
    const upstream = call.ex.upstream
    const upDirty = upstream !== undefined && (call.upTouched || (call.upHeaders !== undefined && maps.stateOf(call.upHeaders).dirty))
    const upHeaders = upDirty ? (call.upHeaders ? maps.release(call.upHeaders) : upstream.headers) : undefined
    const tooMany = overLimit(reqHeaders, 'request') ?? overLimit(resHeaders, 'response') ?? overLimit(upHeaders, 'upstream')
    if (tooMany !== undefined) return failed(tooMany, 'thrown')
    let json: string | undefined
    if (result !== undefined && typeof result !== 'function' && typeof result !== 'symbol') {
      try {
        json = JSON.stringify(result)
      } catch {
        // Not data (e.g. circular): the return value is ignored, as DGate ignores non-string results.
      }
    }
    const out: OutcomeFields = [
      locals, undefined, undefined, query, method, path, call.resEnded, resDirty ? call.resStatus : undefined, upDirty ? call.upStatus : undefined, json,
      call.reqBodyWritten ? call.reqBody : undefined, resBody, call.upWritten ? call.upBody : undefined,
      reqHeaders, resHeaders, upHeaders,
    ]
    if (call.owned) {
      // Primitive mode: each list becomes its length, its names and values go at the end.
      for (let i = 13; i < 16; i++) {
        const list = out[i] as [string, string][] | undefined
        if (list === undefined) continue
        out[i] = list.length
        for (let j = 0; j < list.length; j++) out.push(list[j]![0], list[j]![1])
      }
    }
    return out
  }

  function errorOf(call: CallState): unknown {
    const e = call.ex.error
    const err = new SafeError(e ? String(e.message) : 'unknown error') as Error & { status?: number }
    if (e && e.status !== undefined) err.status = e.status
    return err
  }

  return {
    begin,
    ctxOf: (call) => (call.ctx ??= new Context(call)),
    errorOf,
    outcomeOf,
    failed,
    classes: [Body, Request, Response, Upstream, Context],
  }
}
