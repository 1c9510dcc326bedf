import { STATUS_CODES } from 'node:http'
import { createGateway, type Gateway } from '../gateway.js'
import type { CollectionSpec } from '../resources/collection.js'
import type { Document, DocumentSpec, JsonValue } from '../resources/document.js'
import { KINDS } from '../resources/kinds.js'
import type { ServiceSpec } from '../resources/service.js'
import { checkModule } from '../modules/check.js'
import { createProgram, loadCompiler, type ModuleSourceInput } from '../modules/compile.js'
import type { DefinedModule } from '../modules/context-types.js'
import { ModuleCache } from '../modules/host/storage.js'
import { applyRequest, assignedPath, builtAnswer, decodePath, namespaceData, runPipeline, type PipelineAnswer, type PipelineProgram, type SendResult } from '../modules/pipeline.js'
import { createNativeRuntime } from '../modules/runtimes/native.js'
import { createRealmRuntime } from '../modules/runtimes/realm.js'
import { createWorkerRuntime } from '../modules/runtimes/worker.js'
import type { Exchange, HeaderList, HookErrorCode, HookName, HookOutcome, HostCalls, HostFetchInit, HostFetchResponse, JsonObject, ModuleLogLevel, ModuleProgram, ModuleRuntime } from '../modules/types.js'

/**
 * Headers as a test writes them: an object (a list value is repeated lines) or `[name, value]` lines in order.
 * @public
 */
export type HarnessHeaders = Record<string, string | number | readonly string[]> | readonly (readonly [string, string])[]

/**
 * A body as a test writes it: text (UTF-8), bytes, or any other JSON value (serialized, with
 * `content-type: application/json` unless the headers say otherwise).
 * @public
 */
export type HarnessBody = string | Uint8Array | number | boolean | null | object

/**
 * The client request of a harness run.
 * @public
 */
export interface HarnessRequest {
  /** Default `GET`. */
  method?: string
  /** Path and query (`/users/7?full=1`), or an absolute URL whose host becomes the `Host`. Default `/`. */
  url?: string
  /** Request headers; `host` defaults to the URL's host or `localhost`, `content-length` to the body's length. */
  headers?: HarnessHeaders
  /** The request body (default none). */
  body?: HarnessBody
  /** The client's IP address (`ctx.request().remoteAddress`), default `127.0.0.1`. */
  remoteAddress?: string
}

/**
 * A fake upstream response (or `dgate/http` fetch response).
 * @public
 */
export interface HarnessUpstreamResponse {
  /** Default 200. */
  status?: number
  /** Response headers; `content-length` is added for the body unless given. */
  headers?: HarnessHeaders
  /** The body (default empty). */
  body?: HarnessBody
}

/**
 * An upstream that cannot be reached: `'unavailable'` (the gateway answers 502) or `'timeout'` (504).
 * @public
 */
export type HarnessUpstreamFailure = 'unavailable' | 'timeout'

/**
 * A fake upstream as a function of the request the gateway sends it. Throwing counts as `'unavailable'`.
 * @public
 */
export type HarnessUpstreamHandler = (request: HarnessUpstreamRequest) => HarnessUpstreamResponse | HarnessUpstreamFailure | Promise<HarnessUpstreamResponse | HarnessUpstreamFailure>

/**
 * A fake for `dgate/http`'s `fetch`: gets the request the module makes, returns the response. Throwing makes the
 * module's fetch reject with the message.
 * @public
 */
export type HarnessFetchHandler = (request: HarnessUpstreamRequest) => HarnessUpstreamResponse | Promise<HarnessUpstreamResponse>

/**
 * Header lines with lookups: `get` is case-insensitive.
 * @public
 */
export interface HarnessHeaderView {
  /** The lines in order, as `[name, value]`. */
  readonly list: HeaderList
  /** The value of `name` (repeated lines joined with `", "`), or undefined. */
  get(name: string): string | undefined
  /** Every value of `name`, in order. */
  values(name: string): string[]
  /** Whether `name` is present. */
  has(name: string): boolean
  /** `{ name: value }` with lower-case names and repeated lines joined with `", "`, for `toEqual`/`toMatchObject`. */
  toJSON(): Record<string, string>
}

/**
 * A body with decoding helpers.
 * @public
 */
export interface HarnessBodyView {
  /** The raw bytes (empty when there is no body). */
  readonly body: Uint8Array
  /** The body as UTF-8 text. */
  text(): string
  /** The body parsed as JSON. */
  json<T = unknown>(): T
}

/**
 * A request that reached the (fake) upstream, or that a module sent with `dgate/http`'s fetch.
 * @public
 */
export interface HarnessUpstreamRequest extends HarnessBodyView {
  /** The method. */
  readonly method: string
  /**
   * The absolute URL: the upstream (fetchUpstream's choice, else the service's first URL) joined with the request
   * path (after `stripPath`) and query, as the gateway builds it.
   */
  readonly url: string
  /** Path and query of {@link HarnessUpstreamRequest.url}. */
  readonly path: string
  /** The headers as the modules left them (the gateway then adds its forwarding headers and drops hop-by-hop ones). */
  readonly headers: HarnessHeaderView
}

/**
 * The response the client would get.
 * @public
 */
export interface HarnessResponse extends HarnessBodyView {
  /** HTTP status. */
  readonly status: number
  /** Response headers (before the gateway's `Via` and global headers on relayed answers). */
  readonly headers: HarnessHeaderView
  /** Who answered: the hook that wrote the response, `upstream` (relayed, maybe modified), or `gateway` (an error or 501). */
  readonly from: HookName | 'upstream' | 'gateway'
}

/**
 * A line of module console output.
 * @public
 */
export interface HarnessLog {
  /** `console.debug` → debug, `log`/`info` → info, `warn`, `error`. */
  level: ModuleLogLevel
  /** The formatted message. */
  message: string
  /** The module that wrote it. */
  module: string
}

/**
 * A hook that failed: it threw, or the runtime stopped it.
 * @public
 */
export interface HarnessHookFailure {
  /** The hook. */
  hook: HookName
  /** The error message (never a stack). */
  message: string
  /** `thrown`, or why the runtime stopped it (`deadline`, `crashed`, …). */
  code: HookErrorCode
}

/**
 * What one run of the whole pipeline did.
 * @public
 */
export interface HarnessRunResult {
  /** The hooks that ran, in order. */
  readonly hooks: HookName[]
  /** Hooks that failed, in order (each then went to `errorHandler` or a default answer). */
  readonly failures: HarnessHookFailure[]
  /** The request sent upstream, or undefined when nothing was (a hook answered, or the route has no service). */
  readonly upstreamRequest: HarnessUpstreamRequest | undefined
  /** The response the client would get. */
  readonly response: HarnessResponse
  /** The per-request scratch (`ctx.set`) after the last hook. */
  readonly locals: { [key: string]: JsonValue }
  /** Module console output during this run. */
  readonly logs: HarnessLog[]
  /** Requests modules made with `dgate/http`'s fetch during this run. */
  readonly fetches: HarnessUpstreamRequest[]
  /** The namespace's documents after the run: `documents[collection][id]` is the data. */
  readonly documents: Record<string, Record<string, JsonValue>>
}

/**
 * What one hook call did, on its own.
 * @public
 */
export interface HarnessCallResult {
  /** The hook called. */
  readonly hook: HookName
  /** The failure, when the hook threw or was stopped. */
  readonly error: { message: string; code: HookErrorCode } | undefined
  /** The hook's return value when it is data (e.g. the URL `fetchUpstream` returns). */
  readonly result: JsonValue | undefined
  /** The request after the hook's changes, as it would go upstream (from the service's first URL). */
  readonly request: HarnessUpstreamRequest
  /** The response the hook wrote, if it ended it (a `requestHandler`'s response is always its answer). */
  readonly response: HarnessResponse | undefined
  /** The upstream response after a `responseModifier`'s changes (`from` is `upstream`). */
  readonly upstream: HarnessResponse | undefined
  /** The per-request scratch after the hook. */
  readonly locals: { [key: string]: JsonValue }
  /** Module console output during the call. */
  readonly logs: HarnessLog[]
  /** Requests the hook made with `dgate/http`'s fetch. */
  readonly fetches: HarnessUpstreamRequest[]
}

/**
 * Inputs of one {@link ModuleHarness.call} besides the request.
 * @public
 */
export interface HarnessCallOptions {
  /** The per-request scratch the hook starts with (as left by earlier hooks). */
  locals?: { [key: string]: JsonValue }
  /** For `errorHandler`: the failure it handles (its `err`); default `{ message: 'test failure', status: 500 }`. */
  error?: { message: string; status?: number }
  /** For `responseModifier`: the upstream response it sees (default: the harness's `upstream`). */
  upstream?: HarnessUpstreamResponse
}

/**
 * The documents of the harness's namespace (the store modules see through `dgate/state`).
 * @public
 */
export interface HarnessDocuments {
  /** One document, or undefined. */
  get(collection: string, id: string): Promise<Document | undefined>
  /** A collection's documents sorted by id (up to 1000). */
  list(collection: string): Promise<Document[]>
  /** Creates or replaces a document; rejects when the collection's schema refuses it. */
  put(collection: string, id: string, data: JsonValue): Promise<Document>
}

/**
 * The route a harness serves, as `ctx.route()` shows it (the entry module and the service are filled in).
 * @public
 */
export interface HarnessRoute {
  /** Default `route`. */
  name?: string
  /** Path patterns (default `['/*']`); `ctx.pathParams()` comes from the `params` option, not from matching. */
  paths?: string[]
  /** Methods (default `['*']`). */
  methods?: string[]
  /** Whether the matched prefix is removed before proxying: the upstream path is then the `*` path parameter. */
  stripPath?: boolean
  /** Whether the client's `Host` is sent upstream. */
  preserveHost?: boolean
  /** Free-form labels. */
  tags?: string[]
}

/**
 * Options of {@link createModuleHarness}.
 * @public
 */
export interface ModuleHarnessOptions {
  /** The module under test: source text (TypeScript or JavaScript, ESM or DGate's CommonJS style) or a `defineModule()` result. */
  module: string | DefinedModule
  /** The module's name (default `main`), as in logs and `ctx.route().modules`. */
  name?: string
  /** How to read a source `module`: `typescript` (default; plain JavaScript is valid TypeScript too) or `javascript`. */
  moduleType?: 'typescript' | 'javascript'
  /** Other modules of the namespace the module may import by name: name → source (TypeScript). */
  modules?: Record<string, string | { payload: string; moduleType?: 'typescript' | 'javascript' }>
  /**
   * Where the module runs: `realm` (default for source: SES on this thread, fast), `worker` (SES in a worker thread,
   * with the deadline enforced on synchronous code) or `native` (the default and only choice for `defineModule`).
   */
  runtime?: 'realm' | 'worker' | 'native'
  /** Per-hook-call deadline in ms (default 5000). */
  deadlineMs?: number
  /** The default request of {@link ModuleHarness.run} and {@link ModuleHarness.call}. */
  request?: HarnessRequest
  /**
   * The fake upstream: a response, a function of the request, or a failure. Setting it (or `service`) makes the
   * route a service route (fetchUpstream → requestModifier → upstream → responseModifier); without either, the
   * route has no service (requestModifier → requestHandler). Default response: 200 with an empty body.
   */
  upstream?: HarnessUpstreamResponse | HarnessUpstreamHandler | HarnessUpstreamFailure
  /** The route's service (`ctx.service()`); `urls` default to `['http://upstream.test']`, the name to `upstream`. */
  service?: Partial<ServiceSpec>
  /** The route (`ctx.route()`); name defaults to `route`, paths to `['/*']`, methods to `['*']`. */
  route?: HarnessRoute
  /** The namespace's name (default `default`); documents and the cache are scoped to it. */
  namespace?: string
  /** Route path parameters (`ctx.pathParams()`); the catch-all is `"*"`. */
  params?: Record<string, string>
  /** Collections of the namespace (their JSON Schemas are enforced on every write). */
  collections?: CollectionSpec[]
  /** Documents to start with (validated like any write). */
  documents?: DocumentSpec[]
  /** A fake for `dgate/http`'s fetch (default: every fetch rejects, the harness opens no sockets). */
  fetch?: HarnessFetchHandler
}

/**
 * A module loaded for tests: run the whole pipeline or call one hook, then inspect what happened. Module-level
 * variables, the `dgate/storage` cache and documents persist across runs, as in a gateway. Close it when done.
 * @public
 */
export interface ModuleHarness {
  /** The hooks the module exports. */
  readonly hooks: readonly HookName[]
  /** The namespace's documents, to seed or inspect. */
  readonly documents: HarnessDocuments
  /** Every line of module console output so far. */
  readonly logs: readonly HarnessLog[]
  /**
   * Runs a request through the hooks as the gateway does (DESIGN.md 5.1): the same order, failure answers and
   * early ends. Fields of `request` replace those of the harness's default request.
   */
  run(request?: HarnessRequest, options?: { upstream?: ModuleHarnessOptions['upstream'] }): Promise<HarnessRunResult>
  /** Calls one hook on its own; rejects if the module does not export it. */
  call(hook: HookName, request?: HarnessRequest, options?: HarnessCallOptions): Promise<HarnessCallResult>
  /** Releases the runtime (and its worker, if any) and the document store. */
  close(): Promise<void>
}

const DEFAULT_SERVICE_URL = 'http://upstream.test'
const SILENT = { debug() {}, info() {}, warn() {}, error() {} }

let programCounter = 0

/**
 * Loads a module for tests, with no sockets: compiles a source module (refusing it as the gateway would, with the
 * line and the reason) or takes a `defineModule()` result, and prepares it in a runtime.
 *
 * @example
 * ```ts
 * const harness = await createModuleHarness({
 *   module: `export function requestModifier(ctx) { ctx.request().headers.set('x-user', 'ada') }`,
 *   upstream: { status: 200, body: { ok: true } },
 * })
 * const result = await harness.run({ url: '/users/1' })
 * result.upstreamRequest?.headers.get('x-user') // 'ada'
 * await harness.close()
 * ```
 * @public
 */
export async function createModuleHarness(options: ModuleHarnessOptions): Promise<ModuleHarness> {
  const native = typeof options.module !== 'string'
  const kind = options.runtime ?? (native ? 'native' : 'realm')
  if (native && kind !== 'native') throw new TypeError(`createModuleHarness: a defineModule() module runs in the native runtime, not "${kind}"`)
  if (!native && kind === 'native') throw new TypeError('createModuleHarness: the native runtime runs defineModule() modules; use "realm" or "worker" for source text')
  const namespace = options.namespace ?? 'default'
  const entry = options.name ?? 'main'
  if (!native) await loadCompiler()
  const program = buildProgram(options, namespace, entry)
  const proxied = options.upstream !== undefined || options.service !== undefined
  const service = proxied ? KINDS.service.parse({ name: 'upstream', urls: [DEFAULT_SERVICE_URL], ...options.service, namespace }, { defaultNamespace: namespace }) : null
  const route = KINDS.route.parse({ name: 'route', paths: ['/*'], methods: ['*'], ...options.route, namespace, modules: [entry], ...(service ? { service: service.name } : {}) }, { defaultNamespace: namespace })

  const deadlineMs = options.deadlineMs ?? 5000
  const runtime: ModuleRuntime = kind === 'native' ? createNativeRuntime({ deadlineMs }) : kind === 'worker' ? createWorkerRuntime({ size: 1, deadlineMs }) : createRealmRuntime({ deadlineMs })
  let store: Gateway | undefined
  try {
    const { hooks } = await runtime.prepare(program)
    store = await createGateway({
      storage: 'memory',
      logger: SILENT,
      resources: {
        ...(namespace === 'default' ? {} : { namespaces: [{ name: namespace }] }),
        collections: (options.collections ?? []).map((c) => ({ ...c, namespace: c.namespace ?? namespace })),
        documents: (options.documents ?? []).map((d) => ({ ...d, namespace: d.namespace ?? namespace })),
      },
    })
    return new Harness(options, runtime, { id: program.id, hooks: new Set(hooks), runtime }, store, namespace, route as unknown as JsonObject, service as unknown as JsonObject | null)
  } catch (error) {
    await Promise.all([runtime.close(), store?.close()])
    throw error
  }
}

function buildProgram(options: ModuleHarnessOptions, namespace: string, entry: string): ModuleProgram {
  if (typeof options.module !== 'string') {
    if (options.module?.kind !== 'dgate.module') throw new TypeError('createModuleHarness: module must be source text or a defineModule() result')
    return { id: `harness:${namespace}/${entry}#${programCounter++}`, entry, native: options.module }
  }
  const siblings = Object.entries(options.modules ?? {}).map(([name, source]) => (typeof source === 'string' ? { name, payload: source } : { name, ...source }))
  const all: ModuleSourceInput[] = [{ name: entry, payload: options.module, moduleType: options.moduleType }, ...siblings].map((m) => ({ name: m.name, namespace, payload: m.payload, moduleType: m.moduleType ?? 'typescript' }))
  // As the gateway does when modules are written: compiled, imports checked, top-level code run once.
  return createProgram(namespace, entry, all.map((m) => checkModule(m, all)))
}

class Harness implements ModuleHarness {
  readonly hooks: readonly HookName[]
  readonly documents: HarnessDocuments
  readonly logs: HarnessLog[] = []
  readonly #options: ModuleHarnessOptions
  readonly #runtime: ModuleRuntime
  readonly #program: PipelineProgram
  readonly #store: Gateway
  readonly #namespace: string
  readonly #route: JsonObject
  readonly #service: JsonObject | null
  readonly #cache = new ModuleCache()
  /** Each exchange's path as the hooks first saw it: a different one later was assigned by a hook. */
  readonly #paths = new WeakMap<Exchange, string>()
  #requests = 0
  #closed: Promise<void> | undefined

  constructor(options: ModuleHarnessOptions, runtime: ModuleRuntime, program: PipelineProgram, store: Gateway, namespace: string, route: JsonObject, service: JsonObject | null) {
    this.#options = options
    this.#runtime = runtime
    this.#program = program
    this.#store = store
    this.#namespace = namespace
    this.#route = route
    this.#service = service
    this.hooks = [...program.hooks]
    const documents = store.documents
    this.documents = {
      get: (collection, id) => documents.get(collection, id, { namespace }),
      list: (collection) => documents.list(collection, { namespace, limit: 1000 }),
      put: (collection, id, data) => documents.put({ namespace, collection, id, data }),
    }
  }

  async run(request?: HarnessRequest, options: { upstream?: ModuleHarnessOptions['upstream'] } = {}): Promise<HarnessRunResult> {
    this.#live()
    const { exchange, body } = this.#exchange(request)
    const session = this.#session(body)
    const ran: HookName[] = []
    const failures: HarnessHookFailure[] = []
    const upstream = options.upstream ?? this.#options.upstream
    let upstreamRequest: HarnessUpstreamRequest | undefined
    let upstreamResponse: { headers: HeaderList; body: Uint8Array } | undefined
    const answer = await runPipeline(this.#program, exchange, {
      proxied: this.#service !== null,
      calls: session.calls,
      observe(hook, outcome) {
        ran.push(hook)
        if (outcome.error) failures.push({ hook, ...outcome.error })
      },
      send: async (ex, target): Promise<SendResult> => {
        const assigned = this.#assignedPath(ex)
        if (assigned && 'refused' in assigned) return { kind: 'failed', status: 500, message: assigned.refused }
        upstreamRequest = this.#upstreamRequest(ex, target, ex.request.body ?? body)
        const answered = await fakeUpstream(upstream, upstreamRequest)
        if (typeof answered === 'string') return answered === 'timeout' ? { kind: 'failed', status: 504, message: 'upstream timed out' } : { kind: 'failed', status: 502, message: 'upstream unavailable' }
        upstreamResponse = answered
        return { kind: 'response', statusCode: answered.status, headers: answered.headers, body: answered.body }
      },
    })
    return {
      hooks: ran,
      failures,
      upstreamRequest,
      response: responseOf(answer, upstreamResponse?.body),
      locals: exchange.locals,
      logs: session.logs,
      fetches: session.fetches,
      documents: this.#documents(),
    }
  }

  async call(hook: HookName, request?: HarnessRequest, options: HarnessCallOptions = {}): Promise<HarnessCallResult> {
    this.#live()
    if (!this.#program.hooks.has(hook)) throw new Error(`the module does not export ${hook} (it exports: ${this.hooks.join(', ') || 'no hooks'})`)
    const { exchange, body } = this.#exchange(request)
    if (options.locals) exchange.locals = JSON.parse(JSON.stringify(options.locals)) as JsonObject
    const session = this.#session(body)
    let upstreamBody: Uint8Array | undefined
    if (hook === 'errorHandler') exchange.error = options.error ?? { message: 'test failure', status: 500 }
    if (hook === 'responseModifier') {
      const answered = await fakeUpstream(options.upstream ?? this.#options.upstream, this.#upstreamRequest(exchange, undefined, body))
      if (typeof answered === 'string') throw new Error(`responseModifier needs an upstream response, not "${answered}"`)
      exchange.upstream = { statusCode: answered.status, headers: answered.headers }
      upstreamBody = answered.body
    }
    const calls: HostCalls = {
      ...session.calls,
      readUpstreamBody: () => (upstreamBody ? Promise.resolve(upstreamBody) : Promise.reject(new Error('there is no upstream response here'))),
    }
    const outcome: HookOutcome = await this.#runtime.run(this.#program.id, hook, exchange, calls)
    applyRequest(exchange, outcome)
    if (outcome.response) exchange.response = { ...outcome.response }
    const answered = outcome.error === undefined && (exchange.response.ended || hook === 'requestHandler')
    let upstream: HarnessResponse | undefined
    if (exchange.upstream) {
      const final = outcome.upstream ?? exchange.upstream
      upstream = response(final.statusCode, final.headers, outcome.upstream?.body ?? upstreamBody ?? new Uint8Array(), 'upstream')
    }
    return {
      hook,
      error: outcome.error,
      result: outcome.result,
      request: this.#upstreamRequest(exchange, undefined, exchange.request.body ?? body),
      response: answered ? responseOf(builtAnswer(exchange, hook), undefined) : undefined,
      upstream,
      locals: outcome.locals,
      logs: session.logs,
      fetches: session.fetches,
    }
  }

  close(): Promise<void> {
    return (this.#closed ??= Promise.all([this.#runtime.close(), this.#store.close()]).then(() => {}))
  }

  #live(): void {
    if (this.#closed) throw new Error('the module harness is closed')
  }

  /** The exchange of a client request, as the gateway builds it from an inbound request. */
  #exchange(input: HarnessRequest | undefined): { exchange: Exchange; body: Uint8Array } {
    const request = { ...this.#options.request, ...input }
    const url = new URL(request.url ?? '/', 'http://localhost')
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(request.url ?? '')
    const { bytes, type } = encodeBody(request.body)
    const headers = headerList(request.headers)
    if (!hasHeader(headers, 'host')) headers.unshift(['host', absolute ? url.host : 'localhost'])
    if (bytes !== undefined && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) headers.push(['content-length', String(bytes.byteLength)])
    if (type !== undefined && !hasHeader(headers, 'content-type')) headers.push(['content-type', type])
    const length = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1]
    const snapshot = this.#store.snapshot
    const exchange: Exchange = {
      id: `harness-${(this.#requests++).toString(36)}`,
      request: {
        method: (request.method ?? 'GET').toUpperCase(),
        path: decodePath(url.pathname),
        host: headers.find(([name]) => name.toLowerCase() === 'host')?.[1] ?? '',
        proto: 'HTTP/1.1',
        remoteAddress: request.remoteAddress ?? '127.0.0.1',
        contentLength: length === undefined ? (hasHeader(headers, 'transfer-encoding') ? -1 : 0) : Number(length),
        headers,
        query: url.search.slice(1),
      },
      params: { ...this.#options.params },
      route: this.#route,
      service: this.#service,
      namespace: (snapshot.namespace(this.#namespace) ?? { name: this.#namespace }) as unknown as JsonObject,
      locals: {},
      response: { headers: [], ended: false },
    }
    this.#paths.set(exchange, exchange.request.path)
    return { exchange, body: bytes ?? new Uint8Array() }
  }

  /** Host calls of one exchange: the gateway's namespace calls over this harness's store, cache and fakes. */
  #session(body: Uint8Array): { calls: Omit<HostCalls, 'readUpstreamBody'>; logs: HarnessLog[]; fetches: HarnessUpstreamRequest[] } {
    const logs: HarnessLog[] = []
    const fetches: HarnessUpstreamRequest[] = []
    const fake = this.#options.fetch
    const calls: Omit<HostCalls, 'readUpstreamBody'> = {
      ...namespaceData(this.#namespace, this.#store.documents, this.#cache),
      log: (level, message, module) => {
        const line = { level, message, module }
        logs.push(line)
        this.logs.push(line)
      },
      fetch: async (url: string, init: HostFetchInit): Promise<HostFetchResponse> => {
        const request = upstreamRequestView(init.method, url, init.headers, init.body ?? new Uint8Array())
        fetches.push(request)
        if (!fake) throw new Error(`fetch is not available in the module harness (no sockets): pass a fetch option to answer ${init.method} ${url}`)
        const answered = normalizeResponse(await fake(request))
        return { status: answered.status, statusText: STATUS_CODES[answered.status] ?? '', url, redirected: false, headers: answered.headers, body: answered.body }
      },
      readRequestBody: () => Promise.resolve(body),
    }
    return { calls, logs, fetches }
  }

  /** The request the gateway would send upstream: the path and query joined to the upstream URL as it does. */
  #upstreamRequest(exchange: Exchange, target: URL | undefined, body: Uint8Array): HarnessUpstreamRequest {
    const service = this.#service as { urls?: string[]; disableQueryParams?: boolean } | null
    const upstream = target ?? new URL(service?.urls?.[0] ?? DEFAULT_SERVICE_URL)
    const base = upstream.pathname.endsWith('/') ? upstream.pathname.slice(0, -1) : upstream.pathname
    const rest = this.#options.params?.['*']
    const assigned = this.#assignedPath(exchange)
    let path = (assigned && 'path' in assigned ? assigned.path : undefined) ?? ((this.#route as { stripPath?: boolean }).stripPath ? (rest === undefined ? '' : `/${rest}`) : exchange.request.path)
    path = base + path || '/'
    const clientQuery = service?.disableQueryParams ? '' : exchange.request.query
    const serviceQuery = upstream.search.slice(1)
    const query = serviceQuery && clientQuery ? `${serviceQuery}&${clientQuery}` : serviceQuery || clientQuery
    const url = `${upstream.protocol}//${upstream.host}${path}${query ? `?${query}` : ''}`
    return upstreamRequestView(exchange.request.method, url, exchange.request.headers, body)
  }

  /** The upstream path for a path a hook assigned, as the gateway builds it, or why it is refused; undefined if none was. */
  #assignedPath(exchange: Exchange): ReturnType<typeof assignedPath> | undefined {
    if (exchange.request.path === this.#paths.get(exchange)) return undefined
    const route = this.#route as { stripPath?: boolean; paths?: string[] }
    return assignedPath(exchange.request.path, route.paths?.[0], route.stripPath === true)
  }

  #documents(): Record<string, Record<string, JsonValue>> {
    const out: Record<string, Record<string, JsonValue>> = {}
    const collections = this.#store.snapshot.namespaces.get(this.#namespace)?.documents
    for (const [collection, docs] of collections ?? []) {
      const data: Record<string, JsonValue> = {}
      for (const [id, doc] of docs) data[id] = doc.data
      out[collection] = data
    }
    return out
  }
}

async function fakeUpstream(upstream: ModuleHarnessOptions['upstream'], request: HarnessUpstreamRequest): Promise<{ status: number; headers: HeaderList; body: Uint8Array } | HarnessUpstreamFailure> {
  let answered: HarnessUpstreamResponse | HarnessUpstreamFailure
  try {
    answered = typeof upstream === 'function' ? await upstream(request) : (upstream ?? {})
  } catch {
    return 'unavailable'
  }
  return typeof answered === 'string' ? answered : normalizeResponse(answered)
}

function normalizeResponse(response: HarnessUpstreamResponse): { status: number; headers: HeaderList; body: Uint8Array } {
  const { bytes, type } = encodeBody(response.body)
  const headers = headerList(response.headers)
  const body = bytes ?? new Uint8Array()
  if (type !== undefined && !hasHeader(headers, 'content-type')) headers.push(['content-type', type])
  if (!hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) headers.push(['content-length', String(body.byteLength)])
  return { status: response.status ?? 200, headers, body }
}

function responseOf(answer: PipelineAnswer, upstreamBody: Uint8Array | undefined): HarnessResponse {
  if (answer.kind === 'aborted') throw new Error('the harness has no client that could go away')
  if (answer.kind === 'relayed') throw new Error('the harness transport never relays by itself')
  if (answer.kind === 'respond') return response(answer.status, answer.headers, answer.body ?? new Uint8Array(), answer.by)
  return response(answer.status, answer.headers, answer.body ?? upstreamBody ?? new Uint8Array(), 'upstream')
}

function response(status: number, headers: HeaderList, body: Uint8Array, from: HarnessResponse['from']): HarnessResponse {
  return { status, headers: headerView(headers), from, ...bodyView(body) }
}

function upstreamRequestView(method: string, url: string, headers: HeaderList, body: Uint8Array): HarnessUpstreamRequest {
  const parsed = new URL(url)
  return { method, url, path: parsed.pathname + parsed.search, headers: headerView(headers), ...bodyView(body) }
}

function bodyView(body: Uint8Array): HarnessBodyView {
  return {
    body,
    text: () => new TextDecoder().decode(body),
    json: <T>() => JSON.parse(new TextDecoder().decode(body)) as T,
  }
}

function headerView(list: HeaderList): HarnessHeaderView {
  const values = (name: string) => list.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v)
  return {
    list,
    values,
    get(name) {
      const found = values(name)
      return found.length === 0 ? undefined : found.join(', ')
    },
    has: (name) => values(name).length > 0,
    toJSON() {
      const out: Record<string, string> = {}
      for (const [name, value] of list) {
        const lower = name.toLowerCase()
        out[lower] = out[lower] === undefined ? value : `${out[lower]}, ${value}`
      }
      return out
    },
  }
}

function headerList(headers: HarnessHeaders | undefined): HeaderList {
  if (headers === undefined) return []
  if (Array.isArray(headers)) return (headers as readonly (readonly [string, string])[]).map(([name, value]) => [name, String(value)])
  const out: HeaderList = []
  for (const [name, value] of Object.entries(headers as Record<string, string | number | readonly string[]>)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)])
    else out.push([name, String(value)])
  }
  return out
}

function hasHeader(headers: HeaderList, name: string): boolean {
  return headers.some(([n]) => n.toLowerCase() === name)
}

function encodeBody(body: HarnessBody | undefined): { bytes: Uint8Array | undefined; type: string | undefined } {
  if (body === undefined) return { bytes: undefined, type: undefined }
  if (body instanceof Uint8Array) return { bytes: body, type: undefined }
  if (typeof body === 'string') return { bytes: new TextEncoder().encode(body), type: 'text/plain; charset=utf-8' }
  return { bytes: new TextEncoder().encode(JSON.stringify(body)), type: 'application/json' }
}

