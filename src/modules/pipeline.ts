/**
 * The hook pipeline of DESIGN.md 5.1, independent of any transport: which hook runs when, what a failure becomes
 * and when the request ends. The gateway's module stage runs it over `IncomingMessage`/`ServerResponse` and undici;
 * the `dgate/testing` harness runs it over plain data. Both get the same answers because this is the only place
 * that decides them.
 */
import type { DocumentApi } from '../state/resource-api.js'
import type { ModuleCache } from './host/storage.js'
import type { Exchange, HeaderList, HookName, HookOutcome, HostCalls, HostFetchInit, HostFetchResponse, JsonValue, ModuleLogLevel, ModuleRuntime } from './types.js'

/** A program loaded into a runtime, with the hooks its entry module exports. */
export interface PipelineProgram {
  /** The program id the runtime knows it by. */
  readonly id: string
  /** The hooks the entry module exports as functions. */
  readonly hooks: ReadonlySet<HookName>
  /** The runtime it is loaded in. */
  readonly runtime: ModuleRuntime
}

/** An upstream response body that has not been read: the pipeline buffers it only when a hook reads it. */
export interface UpstreamBody {
  /** The declared length (`content-length`), when there is one. */
  readonly length?: number | undefined
  /** Reads the whole body; called at most once. */
  read(): Promise<Uint8Array>
  /** Drops the body: the answer will not use it. */
  discard(): void
}

/** What {@link PipelineIo.send} got back from the upstream. */
export type SendResult =
  | {
      /** The upstream answered. */
      kind: 'response'
      /** Its status. */
      statusCode: number
      /** Its headers. */
      headers: HeaderList
      /** Its body, whole or still to be read. */
      body: Uint8Array | UpstreamBody
    }
  | {
      /**
       * The request could not be sent: 502 when the upstream could not be reached (after retries), 504 when it timed
       * out, 413 when the client's body was too large, 500 when the hooks left it unsendable (e.g. a bad path).
       */
      kind: 'failed'
      /** 502, 504, 413 or 500. */
      status: number
      /** What failed, for the errorHandler and the client (e.g. `upstream timed out`). */
      message: string
    }
  | {
      /** The client went away while the upstream call was pending: nothing is answered. */
      kind: 'aborted'
    }
  | {
      /** The transport answered the client with the upstream response itself, as `send` allowed it to. */
      kind: 'relayed'
    }

/** What {@link PipelineIo.send} may answer by itself when no responseModifier will run. */
export interface Relay {
  /** The headers hooks set on `ctx.response()`, to send before the upstream's. */
  readonly headers: HeaderList
  /**
   * Whether failures may be answered by the transport too, with the gateway's default error answers (those of
   * {@link errorAnswer}): true when no errorHandler would see them. Then `send` may resolve `relayed` before the
   * upstream has answered.
   */
  readonly failures: boolean
}

/** What the pipeline needs from the transport it runs over. */
export interface PipelineIo {
  /**
   * The host calls of the exchange, except `readUpstreamBody`, which the pipeline serves from {@link send}'s
   * answer. `readRequestBody` is called at most once; the pipeline keeps what it returned.
   */
  readonly calls: Omit<HostCalls, 'readUpstreamBody'>
  /** Whether the route has a service: fetchUpstream → requestModifier → upstream → responseModifier; else requestModifier → requestHandler. */
  readonly proxied: boolean
  /**
   * Sends the request upstream as the hooks left it in `exchange.request` (the body is there when a hook read or
   * rewrote it; otherwise it is still the client's). `target` is the URL `fetchUpstream` returned, if it ran.
   * With `relay` (no responseModifier will run, so the answer is the upstream's response as it is), the transport
   * may answer the client itself, straight from the upstream, with `relay.headers` before the upstream's, and
   * resolve `relayed`; it may also resolve `response` as without.
   */
  send(exchange: Exchange, target: URL | undefined, relay?: Relay): Maybe<SendResult>
  /** Called after every hook call, failed or not (the gateway logs failures; the harness records the calls). */
  observe?(hook: HookName, outcome: HookOutcome): void
}

/**
 * What to answer the client.
 * - `respond`: a response built by a hook or by the gateway (an error): write it as it is. Its headers already
 *   carry the right `content-length` (none for 204 and 304).
 * - `relay`: the upstream response with the hooks' changes (and the headers hooks set on `ctx.response()`). With
 *   `body`, the hooks read or rewrote it: send that (its `content-length` is in `headers`); without, stream the
 *   upstream body unchanged.
 * - `aborted`: the client went away; answer nothing.
 */
export type PipelineAnswer =
  | {
      /** A built response. */
      kind: 'respond'
      /** HTTP status. */
      status: number
      /** Headers, with `content-length` set (absent for 204/304). */
      headers: HeaderList
      /** The body (absent for 204/304). */
      body: Uint8Array | undefined
      /** Who built it: the hook that answered, or `gateway` for the default answers (errors, 501). */
      by: HookName | 'gateway'
    }
  | {
      /** The upstream response, changed by responseModifier if any. */
      kind: 'relay'
      /** HTTP status. */
      status: number
      /** Headers hooks set on `ctx.response()`, then the upstream's as the hooks left them (`content-length` matching `body` when there is one). */
      headers: HeaderList
      /** The body when a hook read or rewrote it; undefined: relay the upstream body as it comes. */
      body: Uint8Array | undefined
    }
  | {
      /** The client went away. */
      kind: 'aborted'
    }
  | {
      /** The transport has already answered with the upstream response. */
      kind: 'relayed'
    }

/**
 * A value, or a promise of it. The pipeline's steps return the value itself when nothing they waited for was
 * pending (in-thread hooks that do not await, a transport that answers at once), so such a request goes through
 * without a promise or a suspended async frame: those were most of what a module route allocated.
 */
export type Maybe<T> = T | Promise<T>

/** `fn(value)`, at once when `value` is not a promise. */
function after<T, U>(value: Maybe<T>, fn: (value: T) => Maybe<U>): Maybe<U> {
  return value instanceof Promise ? value.then(fn) : fn(value)
}

/** Upstream bodies up to this declared length are read before responseModifier runs and passed with the exchange. */
const INLINE_UPSTREAM_BODY = 64 * 1024

/** Upstream schemes a `fetchUpstream` may return (the same as service URLs). */
const SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'h2c:'])

/**
 * Runs a request through a program's hooks (DESIGN.md 5.1) and says what to answer. Never throws for module
 * failures: they become `errorHandler` calls and error answers. It rejects only if the transport does (e.g. a
 * body read past the size limit that a hook caught and ignored). `exchange` is updated in place as hooks run.
 */
export function runPipeline(program: PipelineProgram, exchange: Exchange, io: PipelineIo): Maybe<PipelineAnswer> {
  return new PipelineRun(program, exchange, io).run()
}

/** What the hooks before the upstream call decided: forward (to `target` when fetchUpstream picked one), or answer. */
export type RequestPhase = { kind: 'forward'; target: URL | undefined } | (PipelineAnswer & { kind: 'respond' })

/**
 * Runs only the hooks before the upstream call of a route with a service (fetchUpstream, requestModifier, and
 * errorHandler on their failures), for requests whose upstream exchange is not an HTTP response the hooks could
 * see: protocol upgrades. `exchange` is updated in place; a `forward` answer means send it as the hooks left it.
 */
export function runRequestHooks(program: PipelineProgram, exchange: Exchange, io: Pick<PipelineIo, 'calls' | 'observe'>): Maybe<RequestPhase> {
  const send = (): Promise<SendResult> => Promise.reject(new Error('the request phase does not send'))
  return new PipelineRun(program, exchange, { calls: io.calls, observe: io.observe?.bind(io), proxied: true, send }).requestPhase()
}

/**
 * One request through the pipeline. It is also the exchange's {@link HostCalls}, so hooks' host calls cost no object
 * of their own. Each step returns its result as a value when nothing it waited for was pending ({@link Maybe}).
 */
class PipelineRun implements HostCalls {
  readonly #program: PipelineProgram
  readonly #exchange: Exchange
  readonly #io: PipelineIo
  #requestBody: Promise<Uint8Array> | undefined
  /** The upstream body for responseModifier (and an errorHandler after it), buffered when a hook reads it. */
  #upstreamBody: UpstreamBody | undefined
  #upstreamBuffered: Promise<Uint8Array> | undefined

  constructor(program: PipelineProgram, exchange: Exchange, io: PipelineIo) {
    this.#program = program
    this.#exchange = exchange
    this.#io = io
  }

  get documents(): HostCalls['documents'] {
    return this.#io.calls.documents
  }

  get storage(): HostCalls['storage'] {
    return this.#io.calls.storage
  }

  readRequestBody(): Promise<Uint8Array> {
    return (this.#requestBody ??= this.#io.calls.readRequestBody())
  }

  readUpstreamBody(): Promise<Uint8Array> {
    if (!this.#upstreamBody) return Promise.reject(new Error('there is no upstream response here'))
    return (this.#upstreamBuffered ??= this.#upstreamBody.read())
  }

  log(level: ModuleLogLevel, message: string, module: string): void {
    this.#io.calls.log(level, message, module)
  }

  fetch(url: string, init: HostFetchInit): Promise<HostFetchResponse> {
    return this.#io.calls.fetch(url, init)
  }

  #run(hook: HookName): Maybe<HookOutcome> {
    return after(this.#program.runtime.run(this.#program.id, hook, this.#exchange, this), (outcome) => {
      const exchange = this.#exchange
      exchange.locals = outcome.locals
      if (outcome.response) exchange.response = { ...outcome.response }
      this.#io.observe?.(hook, outcome)
      return outcome
    })
  }

  /** A failure: the errorHandler answers if it ends the response; else the default answer (no detail for 500s). */
  async #fail(status: number, message: string): Promise<PipelineAnswer & { kind: 'respond' }> {
    const exchange = this.#exchange
    if (this.#program.hooks.has('errorHandler')) {
      exchange.error = { message, status }
      const handled = await this.#run('errorHandler')
      if (handled.error) return errorAnswer(500, 'internal error')
      if (exchange.response.ended) return builtAnswer(exchange, 'errorHandler')
    }
    return errorAnswer(status, status >= 500 && status !== 502 && status !== 504 ? 'internal error' : message)
  }

  /** The hooks before the upstream call of a route with a service: fetchUpstream, then requestModifier. */
  requestPhase(): Maybe<RequestPhase> {
    if (!this.#program.hooks.has('fetchUpstream')) return this.#modifyRequest(undefined)
    return after(this.#run('fetchUpstream'), (outcome) => {
      if (outcome.error) return this.#fail(500, outcome.error.message)
      if (this.#exchange.response.ended) return builtAnswer(this.#exchange, 'fetchUpstream')
      const target = upstreamUrl(outcome.result)
      if (!target) return this.#fail(500, 'fetchUpstream returned an invalid URL')
      return this.#modifyRequest(target)
    })
  }

  /** requestModifier, if the program has one, then forward (to `target`) unless it answered or failed. */
  #modifyRequest(target: URL | undefined): Maybe<RequestPhase> {
    if (!this.#program.hooks.has('requestModifier')) return { kind: 'forward', target }
    return after(this.#run('requestModifier'), (outcome) => {
      if (outcome.error) return this.#fail(500, outcome.error.message)
      applyRequest(this.#exchange, outcome)
      if (this.#exchange.response.ended) return builtAnswer(this.#exchange, 'requestModifier')
      return { kind: 'forward', target }
    })
  }

  /** The whole pipeline: the request phase, the upstream call and the response phase, or a handler's answer. */
  run(): Maybe<PipelineAnswer> {
    if (!this.#io.proxied) return this.#handle()
    return after(this.requestPhase(), (phase) => {
      if (phase.kind === 'respond') return phase
      // A body a hook read (without rewriting it) is consumed from the client: send what was read.
      const read = this.#exchange.request.body === undefined ? this.#requestBody : undefined
      if (read === undefined) return this.#send(phase.target)
      return read.then((body) => {
        this.#exchange.request.body = body
        return this.#send(phase.target)
      })
    })
  }

  /** A route without a service: requestModifier, then requestHandler answers. */
  async #handle(): Promise<PipelineAnswer> {
    const phase = await this.#modifyRequest(undefined)
    if (phase.kind === 'respond') return phase
    if (!this.#program.hooks.has('requestHandler')) return errorAnswer(501, 'route has no service and no request handler')
    const outcome = await this.#run('requestHandler')
    if (outcome.error) return this.#fail(500, outcome.error.message)
    return builtAnswer(this.#exchange, 'requestHandler')
  }

  /** The upstream call, then what answers: the upstream's response as it is, or as responseModifier left it. */
  #send(target: URL | undefined): Maybe<PipelineAnswer> {
    const { hooks } = this.#program
    const exchange = this.#exchange
    const relay = hooks.has('responseModifier') ? undefined : { headers: ownHeaders(exchange), failures: !hooks.has('errorHandler') }
    return after(this.#io.send(exchange, target, relay), (sent): Maybe<PipelineAnswer> => {
      if (sent.kind === 'aborted' || sent.kind === 'relayed') return sent
      if (sent.kind === 'failed') return this.#fail(sent.status, sent.message)
      if (!hooks.has('responseModifier')) return { kind: 'relay', status: sent.statusCode, headers: relayHeaders(exchange, sent.headers), body: undefined }
      return this.#modifyResponse(sent)
    })
  }

  /** responseModifier over the upstream's response: the answer is the response as it left it, or what it built. */
  async #modifyResponse(sent: SendResult & { kind: 'response' }): Promise<PipelineAnswer> {
    const exchange = this.#exchange
    const original = sent.body instanceof Uint8Array ? bytesBody(sent.body) : sent.body
    exchange.upstream = { statusCode: sent.statusCode, headers: sent.headers }
    this.#upstreamBody = original
    // A small body goes to the hook with the exchange: reading it then costs the hook no host call (a thread round
    // trip in the worker runtime). It is buffered whether the hook reads it or not, and relayed as buffered.
    if (original.length !== undefined && original.length <= INLINE_UPSTREAM_BODY) {
      try {
        exchange.upstream.body = await (this.#upstreamBuffered = original.read())
      } catch {
        return this.#fail(502, 'upstream unavailable')
      }
    }
    const outcome = await this.#run('responseModifier')
    if (outcome.error) {
      original.discard()
      return this.#fail(500, outcome.error.message)
    }
    if (exchange.response.ended) {
      original.discard()
      return builtAnswer(exchange, 'responseModifier')
    }
    const final = outcome.upstream ?? exchange.upstream
    const body = outcome.upstream?.body ?? (await this.#upstreamBuffered)
    if (body === undefined) return { kind: 'relay', status: final.statusCode, headers: relayHeaders(exchange, final.headers), body: undefined }
    original.discard()
    return { kind: 'relay', status: final.statusCode, headers: withLength(relayHeaders(exchange, final.headers), body.byteLength), body }
  }
}

/**
 * One of the gateway's own JSON error answers, `{ "error": message, "status": status }`, as the data plane writes
 * them.
 */
export function errorAnswer(status: number, message: string): PipelineAnswer & { kind: 'respond' } {
  const body = new TextEncoder().encode(JSON.stringify({ error: message, status }))
  const headers: HeaderList = [
    ['content-type', 'application/json; charset=utf-8'],
    ['content-length', String(body.byteLength)],
    ['x-content-type-options', 'nosniff'],
  ]
  return { kind: 'respond', status, headers, body, by: 'gateway' }
}

/**
 * The response a hook built: its status (200 with a body, else 204), its headers and its body, with a
 * `content-length` of the body (none for 204 and 304, which have no body).
 */
export function builtAnswer(exchange: Exchange, by: HookName): PipelineAnswer & { kind: 'respond' } {
  const { status, headers, body } = exchange.response
  const code = status ?? (body && body.byteLength > 0 ? 200 : 204)
  const bodiless = code === 204 || code === 304
  const list = headers.filter(([name]) => !isLengthHeader(name))
  return { kind: 'respond', status: code, headers: bodiless ? list : withLength(list, body?.byteLength ?? 0), body: bodiless ? undefined : body, by }
}

/**
 * The headers of a relayed response: those hooks set on `ctx.response()` without answering, then the upstream's
 * (as DGate's proxy adds the upstream's to the client's header map, so a name set in both is sent with both values).
 */
function relayHeaders(exchange: Exchange, upstream: HeaderList): HeaderList {
  const own = ownHeaders(exchange)
  return own.length === 0 ? upstream : [...own, ...upstream]
}

/** The headers hooks set on `ctx.response()` without answering, for a relayed response (lengths are the upstream's). */
export function ownHeaders(exchange: Exchange): HeaderList {
  const own = exchange.response.headers
  return own.length === 0 ? own : own.filter(([name]) => !isLengthHeader(name))
}

/** Applies a hook's request changes to the exchange, for the next hook and the upstream call. */
export function applyRequest(exchange: Exchange, outcome: HookOutcome): void {
  const change = outcome.request
  if (!change) return
  if (change.headers) exchange.request.headers = change.headers
  if (change.query !== undefined) exchange.request.query = change.query
  if (change.body !== undefined) exchange.request.body = change.body
  if (change.method !== undefined) exchange.request.method = change.method
  if (change.path !== undefined) exchange.request.path = change.path
}

/** The URL a `fetchUpstream` returned, or undefined if it is not one we can proxy to. */
function upstreamUrl(result: JsonValue | undefined): URL | undefined {
  if (typeof result !== 'string' || result === '') return undefined
  try {
    // DGate appended "http://" to a bare host:port; a scheme-less result means http.
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(result) ? result : `http://${result}`)
    return SCHEMES.has(url.protocol) && url.hostname ? url : undefined
  } catch {
    return undefined
  }
}

function bytesBody(bytes: Uint8Array): UpstreamBody {
  return { length: bytes.byteLength, read: () => Promise.resolve(bytes), discard() {} }
}

function isLengthHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return lower === 'content-length' || lower === 'transfer-encoding'
}

/** `headers` without `content-length`/`transfer-encoding`, then `content-length: length`. */
function withLength(headers: HeaderList, length: number): HeaderList {
  const out: HeaderList = headers.filter(([name]) => !isLengthHeader(name))
  out.push(['content-length', String(length)])
  return out
}

/**
 * The `dgate/state` and `dgate/storage` calls of a namespace's modules: documents and cache of that namespace only.
 * They depend on nothing per request, so a caller may build them once per namespace.
 */
export function namespaceData(namespace: string, documents: DocumentApi, cache: ModuleCache): Pick<HostCalls, 'documents' | 'storage'> {
  return {
    documents: {
      async get(collection, id) {
        return (await documents.get(collection, id, { namespace })) ?? null
      },
      list: (collection, page) => documents.list(collection, { namespace, ...page }),
      put: (collection, id, data) => documents.put({ namespace, collection, id, data: data as never }),
      async delete(collection, id) {
        if (!(await documents.get(collection, id, { namespace }))) return false
        await documents.delete(collection, id, { namespace })
        return true
      },
    },
    storage: {
      get: async (key) => cache.get(namespace, key),
      set: async (key, value, ttl) => cache.set(namespace, key, value, ttl),
      delete: async (key) => cache.delete(namespace, key),
    },
  }
}

/**
 * The upstream path for a request path a hook assigned (`ctx.request().path = …`, decoded, as hooks see paths):
 * DGate's rewrite applied to the new path. With `stripPath`, a `*` pattern loses its literal prefix when the new path
 * starts with it, and any other pattern leaves nothing (the service path alone); without, the whole path. Returned
 * percent-encoded for the request line, to be joined to the service URL; or, as `refused`, why it is not sent: `.`
 * or `..` segments (the upstream could resolve them out of the route; client paths with them are refused too), or
 * text that cannot be percent-encoded.
 */
export function assignedPath(path: string, pattern: string | undefined, stripPath: boolean): { path: string } | { refused: string } {
  const shown = JSON.stringify(path)
  if (/\/\.{1,2}(?:\/|$)/.test(path)) return { refused: `a hook set the path ${shown}, which has "." or ".." segments` }
  let encoded: string
  try {
    encoded = encodeURI(path).replaceAll('?', '%3F').replaceAll('#', '%23')
  } catch {
    return { refused: `a hook set the path ${shown}, which is not valid Unicode (a lone surrogate)` }
  }
  if (!stripPath) return { path: encoded }
  if (pattern === undefined || !pattern.endsWith('*')) return { path: '' }
  const prefix = pattern.slice(0, -1)
  return { path: encoded.startsWith(prefix) ? `/${encoded.slice(prefix.length)}` : encoded }
}

/** The request path as hooks see it: percent-decoded, or as received when it is not valid percent-encoding. */
export function decodePath(path: string): string {
  if (!path.includes('%')) return path
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
