import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Dispatcher } from 'undici'
import { compileModule, createProgram } from '../modules/compile.js'
import type { ModuleCache } from '../modules/host/storage.js'
import type { ModuleFetch } from '../modules/host/fetch.js'
import type { DefinedModule } from '../modules/context-types.js'
import type { Exchange, HeaderList, HookName, HookOutcome, HostCalls, JsonObject, JsonValue, ModuleLogLevel, ModuleProgram, ModuleRuntime } from '../modules/types.js'
import type { Module } from '../resources/module.js'
import type { Route } from '../resources/route.js'
import type { Service } from '../resources/service.js'
import type { DocumentApi } from '../state/resource-api.js'
import type { Snapshot } from '../state/snapshot.js'
import { CONNECTION_ERRORS, IDEMPOTENT, TIMEOUTS, type ForwardPlan } from './forward.js'
import { clientResponseHeaders, flatHeaders, upstreamRequestHeaders } from './headers.js'
import type { ModuleCall } from './module-call.js'
import { rewrite } from './proxy.js'
import { sendError } from './respond.js'

/** What the module stage needs from the gateway. */
export interface ModuleStageOptions {
  /** Creates the runtime on first use (a worker pool costs ~100 ms to start; routes without modules never pay it). */
  runtime: () => ModuleRuntime
  /** Creates the runtime of `defineModule` modules on first use. */
  nativeRuntime: () => ModuleRuntime
  /** A `defineModule` registered on this node under a namespace and name, if any. */
  native: (namespace: string, name: string) => DefinedModule | undefined
  snapshot: () => Snapshot
  documents: DocumentApi
  fetch: ModuleFetch
  cache: ModuleCache
  pool: (url: URL, service: Service) => Dispatcher
  maxBodySize: number
  log: (level: ModuleLogLevel, message: string, fields: { module: string; namespace: string; requestId?: string }) => void
}

interface Program {
  id: string
  hooks: ReadonlySet<HookName>
  runtime: ModuleRuntime
}

/** Upstream schemes a `fetchUpstream` may return (the same as service URLs). */
const SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'h2c:'])

let counter = 0

// A defineModule object is the program: each registered object gets its own id.
const nativeIds = new WeakMap<DefinedModule, string>()
function nativeId(definition: DefinedModule, namespace: string, entry: string): string {
  let id = nativeIds.get(definition)
  if (!id) nativeIds.set(definition, (id = `native:${namespace}/${entry}#${counter++}`))
  return id
}

/**
 * Runs a route's module hooks around the upstream call (DESIGN.md 5.1): fetchUpstream → requestModifier → upstream →
 * responseModifier, or requestModifier → requestHandler on routes without a service; errorHandler on failure. A
 * hook that ended the response ends the request. Bodies are buffered only when a hook reads or writes them.
 */
export class ModuleStage {
  readonly #options: ModuleStageOptions
  #runtime: ModuleRuntime | undefined
  #nativeRuntime: ModuleRuntime | undefined
  /** Programs by route object, valid while the namespace's module map is the one they were built from. */
  readonly #programs = new WeakMap<Route, { modules: ReadonlyMap<string, Module>; program: Promise<Program> }>()
  /** The program each route (namespace/name) uses now, so a replaced one can be released. */
  readonly #live = new Map<string, string>()

  constructor(options: ModuleStageOptions) {
    this.#options = options
  }

  async close(): Promise<void> {
    await Promise.all([this.#runtime?.close(), this.#nativeRuntime?.close()])
  }

  /** Serves one request through its route's modules. Never rejects: every failure becomes a response. */
  async run(req: IncomingMessage, res: ServerResponse, call: ModuleCall): Promise<void> {
    try {
      await this.#serve(req, res, call)
    } catch (error) {
      this.#options.log('error', `module pipeline failed: ${(error as Error).message}`, { module: call.route.modules[0]!, namespace: call.namespace })
      sendError(res, 500, 'internal error')
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse, call: ModuleCall): Promise<void> {
    let program: Program
    try {
      program = await this.#program(call.route, call.namespace)
    } catch (error) {
      this.#options.log('error', `module "${call.route.modules[0]}" failed to load: ${(error as Error).message}`, { module: call.route.modules[0]!, namespace: call.namespace })
      return sendError(res, 500, 'module failed to load')
    }
    const exchange = this.#exchange(req, call)
    const host = new ExchangeHost(req, call.namespace, this.#options, exchange)
    const runtime = program.runtime
    const run = async (hook: HookName): Promise<HookOutcome> => {
      const outcome = await runtime.run(program.id, hook, exchange, host)
      exchange.locals = outcome.locals
      if (outcome.response) exchange.response = { ...outcome.response }
      if (outcome.error) this.#options.log('warn', `${hook} failed: ${outcome.error.message}`, { module: call.route.modules[0]!, namespace: call.namespace, requestId: exchange.id })
      return outcome
    }
    /** A failure: the errorHandler answers if there is one, else our default answer. */
    const fail = async (status: number, message: string): Promise<void> => {
      if (program.hooks.has('errorHandler')) {
        exchange.error = { message, status }
        const handled = await run('errorHandler')
        if (!handled.error && exchange.response.ended) return respond(res, exchange)
        if (handled.error) return sendError(res, 500, 'internal error')
      }
      sendError(res, status, status >= 500 && status !== 502 && status !== 504 ? 'internal error' : message)
    }

    if (program.hooks.has('requestModifier') && !call.forward) {
      const outcome = await run('requestModifier')
      if (outcome.error) return fail(500, outcome.error.message)
      applyRequest(exchange, outcome)
      if (exchange.response.ended) return respond(res, exchange)
    }
    if (!call.forward) {
      if (!program.hooks.has('requestHandler')) return sendError(res, 501, 'route has no service and no request handler')
      const outcome = await run('requestHandler')
      if (outcome.error) return fail(500, outcome.error.message)
      return respond(res, exchange)
    }

    let forward = call.forward
    if (program.hooks.has('fetchUpstream')) {
      const outcome = await run('fetchUpstream')
      if (outcome.error) return fail(500, outcome.error.message)
      if (exchange.response.ended) return respond(res, exchange)
      const upstream = upstreamUrl(outcome.result)
      if (!upstream) return fail(500, 'fetchUpstream returned an invalid URL')
      forward = { ...forward, upstream, info: { ...forward.info, host: call.route.preserveHost ? forward.info.inboundHost : upstream.host } }
    }
    if (program.hooks.has('requestModifier')) {
      const outcome = await run('requestModifier')
      if (outcome.error) return fail(500, outcome.error.message)
      applyRequest(exchange, outcome)
      if (exchange.response.ended) return respond(res, exchange)
    }

    let upstream: Dispatcher.ResponseData
    try {
      upstream = await this.#send(req, res, exchange, forward, call)
    } catch (error) {
      if (res.destroyed) return
      const code = (error as { code?: string }).code ?? ''
      return fail(TIMEOUTS.has(code) ? 504 : 502, TIMEOUTS.has(code) ? 'upstream timed out' : 'upstream unavailable')
    }

    if (!program.hooks.has('responseModifier')) return this.#relay(res, forward, upstream.statusCode, flatHeaders(upstream.headers), undefined, upstream.body)
    exchange.upstream = { statusCode: upstream.statusCode, headers: pairsOf(upstream.headers) }
    host.upstreamBody = upstream.body
    const outcome = await run('responseModifier')
    if (outcome.error) {
      upstream.body.destroy()
      return fail(500, outcome.error.message)
    }
    if (exchange.response.ended) {
      upstream.body.destroy()
      return respond(res, exchange)
    }
    const final = outcome.upstream ?? exchange.upstream
    const body = outcome.upstream?.body ?? (await host.bufferedUpstream())
    return this.#relay(res, forward, final.statusCode, flatten(final.headers), body, upstream.body)
  }

  /** Answers from the upstream: a buffered body when a hook read or rewrote it, otherwise streamed. */
  async #relay(res: ServerResponse, forward: ForwardPlan, status: number, headers: string[], body: Uint8Array | undefined, stream: Readable): Promise<void> {
    const list = clientResponseHeaders(headers, forward.via, forward.globalHeaders)
    if (body !== undefined) {
      stream.destroy()
      res.writeHead(status, withLength(list, body.byteLength))
      res.end(body)
      return
    }
    res.writeHead(status, list)
    try {
      await pipeline(stream, res)
    } catch {
      // The client went away or the upstream broke mid-body: pipeline already destroyed both ends.
    }
  }

  /** The upstream request, with the hooks' changes, retried like ordinary requests when that is safe. */
  async #send(req: IncomingMessage, res: ServerResponse, exchange: Exchange, forward: ForwardPlan, call: ModuleCall): Promise<Dispatcher.ResponseData> {
    const { service } = forward
    const method = exchange.request.method
    const query = service.disableQueryParams ? '' : exchange.request.query
    const path = rewrite(forward.upstream, call.route, call.pattern, call.path, call.restStart, query)
    const headers = upstreamRequestHeaders(flatten(exchange.request.headers), forward.info)
    const buffered = exchange.request.body
    const streamed = buffered === undefined && forward.hasBody
    const abort = new AbortController()
    const onClose = () => {
      if (!res.writableFinished) abort.abort()
    }
    res.once('close', onClose)
    let attemptsLeft = IDEMPOTENT.has(method) && !streamed ? service.retries : 0
    for (;;) {
      try {
        const response = await this.#options.pool(forward.upstream, service).request({
          path,
          method: method as Dispatcher.HttpMethod,
          headers,
          body: buffered ?? (streamed ? req : null),
          headersTimeout: service.requestTimeout ?? 300_000,
          bodyTimeout: 0,
          signal: abort.signal,
        })
        // The body may be dropped unread (a hook answered instead); its abort must not surface as an unhandled error.
        response.body.on('error', () => {})
        return response
      } catch (error) {
        const code = (error as { code?: string }).code ?? ''
        if (attemptsLeft <= 0 || !CONNECTION_ERRORS.has(code) || abort.signal.aborted) throw error
        attemptsLeft--
        if (service.retryTimeout) await new Promise((r) => setTimeout(r, service.retryTimeout))
      }
    }
  }

  #exchange(req: IncomingMessage, call: ModuleCall): Exchange {
    const snapshot = this.#options.snapshot()
    const length = req.headers['content-length']
    return {
      id: `${Date.now().toString(36)}-${(counter++).toString(36)}`,
      request: {
        method: req.method!,
        path: safeDecode(call.path),
        host: req.headers.host ?? '',
        proto: `HTTP/${req.httpVersion}`,
        remoteAddress: call.forward?.info.remoteAddress ?? plain(req.socket.remoteAddress),
        contentLength: length === undefined ? (req.headers['transfer-encoding'] ? -1 : 0) : Number(length),
        headers: pairsOf(req.rawHeaders),
        query: call.query,
      },
      params: { ...call.params },
      route: call.route as unknown as JsonObject,
      service: (call.forward?.service as unknown as JsonObject | undefined) ?? null,
      namespace: (snapshot.namespace(call.namespace) ?? { name: call.namespace }) as unknown as JsonObject,
      locals: {},
      response: { headers: [], ended: false },
    }
  }

  /** Compiles the namespace's modules and prepares the route's program, once per module version. */
  #program(route: Route, namespace: string): Promise<Program> {
    const modules = this.#options.snapshot().namespaces.get(namespace)?.module
    if (!modules) return Promise.reject(new Error(`namespace "${namespace}" is gone`))
    const cached = this.#programs.get(route)
    if (cached && cached.modules === modules) return cached.program
    const entry = route.modules[0]!
    const native = this.#options.native(namespace, entry)
    const runtime = native ? (this.#nativeRuntime ??= this.#options.nativeRuntime()) : (this.#runtime ??= this.#options.runtime())
    const program = (async () => {
      let built: ModuleProgram
      if (native) built = { id: nativeId(native, namespace, entry), entry, native }
      else {
        const names = [...modules.keys()]
        const compiled = [...modules.values()].map((m) => compileModule({ name: m.name, namespace, payload: m.payload, moduleType: m.moduleType }, names))
        built = createProgram(namespace, entry, compiled)
      }
      const { hooks } = await runtime.prepare(built)
      const key = `${namespace}/${route.name}`
      const previous = this.#live.get(key)
      this.#live.set(key, built.id)
      // Requests already running on the old program keep it until they finish (a deadline at most).
      if (previous !== undefined && previous !== built.id && ![...this.#live.values()].includes(previous)) {
        setTimeout(() => runtime.release(previous), 30_000).unref()
      }
      return { id: built.id, hooks: new Set(hooks), runtime }
    })()
    program.catch(() => this.#programs.delete(route))
    this.#programs.set(route, { modules, program })
    return program
  }
}

/** The host side of one exchange: bodies buffered on demand, documents, cache, fetch and logs of the namespace. */
class ExchangeHost implements HostCalls {
  upstreamBody: Readable | undefined
  #requestBody: Promise<Uint8Array> | undefined
  #upstreamBuffered: Promise<Uint8Array> | undefined
  readonly #req: IncomingMessage
  readonly #namespace: string
  readonly #options: ModuleStageOptions
  readonly #exchange: Exchange
  readonly documents: HostCalls['documents']
  readonly storage: HostCalls['storage']

  constructor(req: IncomingMessage, namespace: string, options: ModuleStageOptions, exchange: Exchange) {
    this.#req = req
    this.#namespace = namespace
    this.#options = options
    this.#exchange = exchange
    const { documents, cache } = options
    this.documents = {
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
    }
    this.storage = {
      get: async (key) => cache.get(namespace, key),
      set: async (key, value: JsonValue, ttl) => cache.set(namespace, key, value, ttl),
      delete: async (key) => cache.delete(namespace, key),
    }
  }

  readRequestBody(): Promise<Uint8Array> {
    this.#requestBody ??= collect(this.#req, this.#options.maxBodySize, 'request')
    return this.#requestBody
  }

  readUpstreamBody(): Promise<Uint8Array> {
    if (!this.upstreamBody) return Promise.reject(new Error('there is no upstream response here'))
    this.#upstreamBuffered ??= collect(this.upstreamBody, this.#options.maxBodySize, 'upstream')
    return this.#upstreamBuffered
  }

  /** The upstream body if a hook read it, so it is relayed as read. */
  bufferedUpstream(): Promise<Uint8Array> | undefined {
    return this.#upstreamBuffered
  }

  log(level: ModuleLogLevel, message: string, module: string): void {
    this.#options.log(level, message, { module, namespace: this.#namespace, requestId: this.#exchange.id })
  }

  fetch: HostCalls['fetch'] = (url, init) => this.#options.fetch.fetch(url, init)
}

async function collect(stream: AsyncIterable<Buffer>, max: number, what: string): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > max) throw new Error(`the ${what} body is larger than ${max} bytes`)
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** Applies a hook's request changes to the exchange, for the next hook and the upstream call. */
function applyRequest(exchange: Exchange, outcome: HookOutcome): void {
  const change = outcome.request
  if (!change) return
  if (change.headers) exchange.request.headers = change.headers
  if (change.query !== undefined) exchange.request.query = change.query
  if (change.body !== undefined) exchange.request.body = change.body
  if (change.method !== undefined) exchange.request.method = change.method
}

/** Writes the response a hook built: its status (200 with a body, else 204), headers and body. */
function respond(res: ServerResponse, exchange: Exchange): void {
  const { status, headers, body } = exchange.response
  if (res.headersSent) return void res.end()
  const list = flatten(headers.filter(([name]) => name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'transfer-encoding'))
  const code = status ?? (body && body.byteLength > 0 ? 200 : 204)
  res.writeHead(code, code === 204 || code === 304 ? list : withLength(list, body?.byteLength ?? 0))
  res.end(code === 204 || code === 304 ? undefined : body)
}

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

function pairsOf(headers: readonly string[] | Record<string, string | string[] | undefined>): HeaderList {
  const out: HeaderList = []
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) out.push([headers[i]!, headers[i + 1]!])
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) out.push([name, v])
      else if (value !== undefined) out.push([name, value])
    }
  }
  return out
}

function flatten(pairs: HeaderList): string[] {
  const out: string[] = []
  for (const [name, value] of pairs) out.push(name, value)
  return out
}

function withLength(list: string[], length: number): string[] {
  const out: string[] = []
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!.toLowerCase()
    if (name !== 'content-length' && name !== 'transfer-encoding') out.push(list[i]!, list[i + 1]!)
  }
  out.push('content-length', String(length))
  return out
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

function plain(address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
