import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { compileModule, createProgram } from '../modules/compile.js'
import type { ModuleCache } from '../modules/host/storage.js'
import type { ModuleFetch } from '../modules/host/fetch.js'
import type { DefinedModule } from '../modules/context-types.js'
import { assignedPath, decodePath, errorAnswer, namespaceData, ownHeaders, runPipeline, runRequestHooks, type Maybe, type PipelineAnswer, type PipelineIo, type PipelineProgram, type Relay, type SendResult } from '../modules/pipeline.js'
import type { Exchange, HeaderList, HookName, HookOutcome, HostCalls, HostFetchInit, HostFetchResponse, JsonObject, ModuleLogLevel, ModuleProgram, ModuleRuntime } from '../modules/types.js'
import type { Module } from '../resources/module.js'
import type { Route } from '../resources/route.js'
import type { DocumentApi } from '../state/resource-api.js'
import type { Snapshot } from '../state/snapshot.js'
import { Forward, type ForwardPlan, type UpstreamHead, type UpstreamPools, type UpstreamRequest } from './forward.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { ModuleCall } from './module-call.js'
import { plainAddress, rewrite, upstreamTarget } from './proxy.js'
import { sendError } from './respond.js'
import { dispatchUpgrade, writeAnswer } from './upgrade.js'

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
  /** The data plane's upstream pools (module routes share connections with ordinary ones). */
  upstreams: UpstreamPools
  maxBodySize: number
  log: (level: ModuleLogLevel, message: string, fields: { module: string; namespace: string; requestId?: string }) => void
}

let counter = 0
const RELAYED: SendResult = Object.freeze({ kind: 'relayed' })
/** Request ids: this process's start time, then a counter (unique per process, ordered, cheap). */
const REQUEST_ID_PREFIX = `${Date.now().toString(36)}-`

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
  readonly #programs = new WeakMap<Route, { modules: ReadonlyMap<string, Module>; program: Promise<PipelineProgram>; ready?: PipelineProgram }>()
  /** The program each route (namespace/name) uses now, so a replaced one can be released. */
  readonly #live = new Map<string, string>()
  readonly #namespaces = new Map<string, Pick<HostCalls, 'documents' | 'storage'>>()

  constructor(options: ModuleStageOptions) {
    this.#options = options
  }

  async close(): Promise<void> {
    await Promise.all([this.#runtime?.close(), this.#nativeRuntime?.close()])
  }

  /**
   * Serves one request through its route's modules. Never throws or rejects: every failure becomes a response. When
   * the program is ready and no hook awaits anything, the request is on its way upstream when this returns.
   */
  run(req: IncomingMessage, res: ServerResponse, call: ModuleCall): void {
    const program = this.#ready(call.route, call.namespace)
    if (program) return this.#serve(program, req, res, call)
    void this.#load(call).then((loaded) => (loaded ? this.#serve(loaded, req, res, call) : sendError(res, 500, 'module failed to load')))
  }

  #serve(program: PipelineProgram, req: IncomingMessage, res: ServerResponse, call: ModuleCall): void {
    try {
      const exchange = this.#exchange(req, call)
      const io = new StageRequest(this.#options, this.#data(call.namespace), req, res, call, exchange)
      const answer = runPipeline(program, exchange, io)
      if (!(answer instanceof Promise)) return io.finish(answer)
      answer.then((settled) => io.finish(settled)).catch((error: unknown) => this.#broken(res, call, error))
    } catch (error) {
      this.#broken(res, call, error)
    }
  }

  /** The stage itself failed (not a hook: those become errorHandler calls and answers): logged, and a bare 500. */
  #broken(res: ServerResponse, call: ModuleCall, error: unknown): void {
    this.#failed(call, error)
    sendError(res, 500, 'internal error')
  }

  /**
   * An upgrade (WebSocket) on a module route: fetchUpstream and requestModifier run as for any request (an answer
   * or a failure is written on the socket), then the upgrade goes upstream as they left it. responseModifier does
   * not run: a 101 has no body to modify. Routes without a service answer 501: there is nothing to upgrade to.
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, call: ModuleCall, protocol: string): Promise<void> {
    if (!call.forward) return refuseUpgrade(socket, 501, 'upgrades need a route with a service')
    const program = this.#ready(call.route, call.namespace) ?? (await this.#load(call))
    if (!program) return refuseUpgrade(socket, 500, 'module failed to load')
    try {
      const exchange = this.#exchange(req, call)
      const calls = new StageCalls(this.#options, this.#data(call.namespace), req, call, exchange)
      const phase = await runRequestHooks(program, exchange, calls)
      if (phase.kind === 'respond') return writeAnswer(socket, phase.status, flatten(phase.headers), phase.body)
      const upstream = calls.upstreamRequest(exchange, phase.target)
      if (typeof upstream === 'string') {
        calls.log('warn', upstream, call.route.modules[0]!)
        return refuseUpgrade(socket, 500, 'internal error')
      }
      dispatchUpgrade(this.#options.upstreams, upstream.plan, upstream.request, protocol, socket, head, flatten(ownHeaders(exchange)))
    } catch (error) {
      this.#failed(call, error)
      refuseUpgrade(socket, 500, 'internal error')
    }
  }

  /** The route's program, prepared; undefined (logged) when it does not load. */
  async #load(call: ModuleCall): Promise<PipelineProgram | undefined> {
    try {
      return await this.#program(call.route, call.namespace)
    } catch (error) {
      const module = call.route.modules[0]!
      this.#options.log('error', `module "${module}" failed to load: ${(error as Error).message}`, { module, namespace: call.namespace })
      return undefined
    }
  }

  /** Logs a failure of the stage itself (not of a hook: those become errorHandler calls and answers). */
  #failed(call: ModuleCall, error: unknown): void {
    this.#options.log('error', `module pipeline failed: ${(error as Error).message}`, { module: call.route.modules[0]!, namespace: call.namespace })
  }

  /** The route's program when it is prepared and current (the common case: no promise to wait for). */
  #ready(route: Route, namespace: string): PipelineProgram | undefined {
    const cached = this.#programs.get(route)
    return cached?.ready !== undefined && cached.modules === this.#options.snapshot().namespaces.get(namespace)?.module ? cached.ready : undefined
  }

  /** The namespace's documents and cache calls, built once per namespace. */
  #data(namespace: string): Pick<HostCalls, 'documents' | 'storage'> {
    let data = this.#namespaces.get(namespace)
    if (!data) this.#namespaces.set(namespace, (data = namespaceData(namespace, this.#options.documents, this.#options.cache)))
    return data
  }

  #exchange(req: IncomingMessage, call: ModuleCall): Exchange {
    const snapshot = this.#options.snapshot()
    const length = req.headers['content-length']
    return {
      id: REQUEST_ID_PREFIX + (counter++).toString(36),
      request: {
        method: req.method!,
        path: decodePath(call.path),
        host: req.headers.host ?? '',
        proto: `HTTP/${req.httpVersion}`,
        remoteAddress: call.forward?.info.remoteAddress ?? plainAddress(req.socket.remoteAddress),
        contentLength: length === undefined ? (req.headers['transfer-encoding'] ? -1 : 0) : Number(length),
        headers: pairsOf(req.rawHeaders),
        query: call.query,
      },
      params: call.params as Record<string, string>,
      route: call.route as unknown as JsonObject,
      service: (call.forward?.service as unknown as JsonObject | undefined) ?? null,
      namespace: (snapshot.namespace(call.namespace) ?? { name: call.namespace }) as unknown as JsonObject,
      locals: {},
      response: { headers: [], ended: false },
    }
  }

  /** Compiles the namespace's modules and prepares the route's program, once per module version. */
  #program(route: Route, namespace: string): Promise<PipelineProgram> {
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
    const entryOfCache: { modules: ReadonlyMap<string, Module>; program: Promise<PipelineProgram>; ready?: PipelineProgram } = { modules, program }
    program.then(
      (ready) => void (entryOfCache.ready = ready),
      () => this.#programs.delete(route),
    )
    this.#programs.set(route, entryOfCache)
    return program
  }
}

/**
 * The host side of one request's hooks: their host calls, logging, and the upstream request they leave (the plan,
 * retargeted by fetchUpstream, and the method, path, query and headers). Upgrades use it as it is; HTTP requests use
 * {@link StageRequest}.
 */
class StageCalls implements Omit<HostCalls, 'readUpstreamBody'> {
  readonly documents: HostCalls['documents']
  readonly storage: HostCalls['storage']
  protected readonly options: ModuleStageOptions
  protected readonly req: IncomingMessage
  protected readonly call: ModuleCall
  readonly #exchange: Exchange
  /** The request path as the hooks first saw it: a different one at send time was assigned by a hook. */
  readonly #path: string
  /** How the request goes upstream; fetchUpstream may retarget it. */
  forward: ForwardPlan | undefined

  constructor(options: ModuleStageOptions, data: Pick<HostCalls, 'documents' | 'storage'>, req: IncomingMessage, call: ModuleCall, exchange: Exchange) {
    this.options = options
    this.documents = data.documents
    this.storage = data.storage
    this.req = req
    this.call = call
    this.#exchange = exchange
    this.#path = exchange.request.path
    this.forward = call.forward
  }

  get calls(): Omit<HostCalls, 'readUpstreamBody'> {
    return this
  }

  readRequestBody(): Promise<Uint8Array> {
    return collect(this.req, this.options.maxBodySize, 'request')
  }

  fetch(url: string, init: HostFetchInit): Promise<HostFetchResponse> {
    return this.options.fetch.fetch(url, init)
  }

  log(level: ModuleLogLevel, message: string, module: string): void {
    this.options.log(level, message, { module, namespace: this.call.namespace, requestId: this.#exchange.id })
  }

  observe(hook: HookName, outcome: HookOutcome): void {
    if (outcome.error) this.log('warn', `${hook} failed: ${outcome.error.message}`, this.call.route.modules[0]!)
  }

  /** The upstream request as the hooks left it (to `target` if fetchUpstream picked one), or why it cannot be sent. */
  upstreamRequest(exchange: Exchange, target: URL | undefined): { plan: ForwardPlan; request: UpstreamRequest } | string {
    const call = this.call
    let plan = this.forward!
    if (target) {
      plan = { ...plan, upstream: target, info: { ...plan.info, host: call.route.preserveHost ? plan.info.inboundHost : target.host } }
      this.forward = plan
    }
    const query = plan.service.disableQueryParams ? '' : exchange.request.query
    let path: string
    if (exchange.request.path !== this.#path) {
      const assigned = assignedPath(exchange.request.path, call.pattern, call.route.stripPath)
      if ('refused' in assigned) return assigned.refused
      path = upstreamTarget(plan.upstream, assigned.path, query)
    } else if (target || exchange.request.query !== call.query) path = rewrite(plan.upstream, call.route, call.pattern, call.path, call.restStart, query)
    // The hooks changed neither the upstream, the path nor the query: the routed target stands.
    else path = plan.target
    const request: UpstreamRequest = {
      method: exchange.request.method,
      target: path,
      headers: upstreamRequestHeaders(flatten(exchange.request.headers), plan.info),
      body: exchange.request.body,
    }
    return { plan, request }
  }
}

/**
 * One HTTP request on a module route, as the pipeline's transport: the upstream call and the answer from the
 * upstream. The call is a held {@link Forward} when a responseModifier or an errorHandler may still need the
 * upstream's answer or failure, otherwise a plain one, as on a route without modules. One object per request; a
 * closure only for a held forward's head.
 */
class StageRequest extends StageCalls implements PipelineIo {
  readonly proxied: boolean
  readonly #res: ServerResponse
  #held: Forward | undefined
  #head: (UpstreamHead & { kind: 'response' }) | undefined
  #sent: ((result: SendResult) => void) | undefined
  /** Whether the pipeline lets the upstream response go straight to the client. */
  #relay = false

  constructor(options: ModuleStageOptions, data: Pick<HostCalls, 'documents' | 'storage'>, req: IncomingMessage, res: ServerResponse, call: ModuleCall, exchange: Exchange) {
    super(options, data, req, call, exchange)
    this.#res = res
    this.proxied = call.forward !== undefined
  }

  send(exchange: Exchange, target: URL | undefined, relay?: Relay): Maybe<SendResult> {
    const upstream = this.upstreamRequest(exchange, target)
    if (typeof upstream === 'string') return { kind: 'failed', status: 500, message: upstream }
    if (relay && relay.headers.length > 0) upstream.request.clientHeaders = flatten(relay.headers)
    if (relay?.failures) {
      // Nothing after the upstream call needs the pipeline: forward as a plain route does, with the hooks' headers.
      try {
        new Forward(this.req, this.#res, upstream.plan, this.options.upstreams, upstream.request).start()
      } catch {
        return { kind: 'failed', status: 502, message: 'upstream unavailable' }
      }
      return RELAYED
    }
    this.#relay = relay !== undefined
    return new Promise<SendResult>((resolve) => {
      this.#sent = resolve
      try {
        this.#held = Forward.held(this.req, this.#res, upstream.plan, this.options.upstreams, upstream.request, (head) => this.#onHead(head))
      } catch {
        resolve({ kind: 'failed', status: 502, message: 'upstream unavailable' })
      }
    })
  }

  /** The held forward's head: the upstream's status and headers, or why there are none. */
  #onHead(head: UpstreamHead): void {
    const sent = this.#sent!
    this.#sent = undefined
    if (head.kind !== 'response') return sent(head)
    if (this.#relay) {
      // The answer is the upstream's response: relay it now, as a plain route would, instead of after the pipeline.
      this.#held!.relayUpstream(head.status, head.statusText, head.headers)
      return sent(RELAYED)
    }
    this.#head = head
    sent({ kind: 'response', statusCode: head.status, headers: pairsOf(head.headers), body: this })
  }

  /** The upstream response's declared length, for the pipeline ({@link UpstreamBody}). */
  get length(): number | undefined {
    return this.#head && declaredLength(this.#head.headers)
  }

  /** The upstream body, for the pipeline ({@link UpstreamBody}). */
  read(): Promise<Uint8Array> {
    return this.#held!.read(this.options.maxBodySize)
  }

  discard(): void {
    this.#held!.discard()
  }

  /** Writes what the pipeline answered, unless the client went away or the upstream's response was relayed already. */
  finish(answer: PipelineAnswer): void {
    if (answer.kind === 'aborted' || answer.kind === 'relayed') return
    if (answer.kind === 'respond') return respond(this.#res, answer.status, answer.headers, answer.body)
    this.#answer(answer.status, answer.headers, answer.body)
  }

  /** Answers from the upstream: the body a hook read or rewrote, otherwise the upstream's, streamed. */
  #answer(status: number, headers: HeaderList, body: Uint8Array | undefined): void {
    const forward = this.forward!
    const head = this.#head!
    const list = clientResponseHeaders(flatten(headers), forward.via, forward.globalHeaders)
    // The upstream's reason phrase goes with its status only.
    const statusText = status === head.status ? head.statusText : undefined
    if (body === undefined) return this.#held!.relay(status, statusText, list)
    const res = this.#res
    if (statusText) res.writeHead(status, statusText, list)
    else res.writeHead(status, list)
    res.end(body)
  }
}

/** The `content-length` of a flat header list, when it has one valid value. */
function declaredLength(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const value = Number(headers[i + 1])
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined
    }
  }
  return undefined
}

/** One of the gateway's JSON error answers on an upgrade's socket. */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const answer = errorAnswer(status, message)
  writeAnswer(socket, answer.status, flatten(answer.headers), answer.body)
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

/** Writes an answer the pipeline built (its headers carry the content-length). */
function respond(res: ServerResponse, status: number, headers: HeaderList, body: Uint8Array | undefined): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, flatten(headers))
  res.end(body)
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


