import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { createAdminHandler } from './admin/handler.js'
import { resolveAdminOptions, type AdminOptions } from './admin/options.js'
import type { ClusterAdapter } from './cluster/adapter.js'
import { standalone } from './cluster/standalone.js'
import { DGateError } from './errors.js'
import { fetchThrough } from './proxy/fetch.js'
import { checkModule } from './modules/check.js'
import { loadCompiler } from './modules/compile.js'
import { ModuleFetch } from './modules/host/fetch.js'
import { ModuleCache } from './modules/host/storage.js'
import type { DefinedModule } from './modules/context-types.js'
import { createNativeRuntime } from './modules/runtimes/native.js'
import { createRealmRuntime } from './modules/runtimes/realm.js'
import { createWorkerRuntime } from './modules/runtimes/worker.js'
import type { ModuleLogLevel } from './modules/types.js'
import { stderrLogger, type Logger } from './observability/logger.js'
import { ModuleStage } from './proxy/module-stage.js'
import { DataPlane, type Next, type ProxyOptions } from './proxy/proxy.js'
import { upgradeThrough } from './proxy/upgrade.js'
import { listen, type ListenOptions, type Listener } from './server/listen.js'
import type { Snapshot } from './state/snapshot.js'
import { documentApi, namespaceApi, resourceApi, type DocumentApi, type NamespaceApi, type ResourceApi, type ResourceContext, type ResourceView } from './state/resource-api.js'
import { seedChanges, type GatewayResources } from './state/seed.js'
import { DEFAULT_NAMESPACE, GatewayState, type StateListener } from './state/state.js'
import { FileStorage } from './storage/file.js'
import { MemoryStorage } from './storage/memory.js'
import type { Storage, StorageOption } from './storage/storage.js'

/**
 * Options of `createGateway()`.
 * @public
 */
export interface GatewayOptions {
  /** Where the standalone log lives: `'memory'` (default), `{ dir }` for an LMDB file, or a Storage. Ignored with `cluster`. */
  storage?: StorageOption
  /** A cluster adapter (default: standalone on `storage`). */
  cluster?: ClusterAdapter
  /** Resources applied at start when missing or different (DGate's init_resources). */
  resources?: GatewayResources
  /** Do not create the `default` namespace, and require every input to name its namespace. */
  disableDefaultNamespace?: boolean
  /** Standalone only: snapshot and compact the log after this many changes (default 10 000). */
  snapshotEvery?: number
  /** Data plane settings. */
  proxy?: ProxyOptions
  /** Admin API settings (auth, allow-list, body limit); checked when the gateway is created. */
  admin?: AdminOptions
  /** How payload modules run (default: a pool of SES worker threads). */
  modules?: ModuleOptions
  /** Where log lines go (default: warnings and errors to stderr as JSON lines). */
  logger?: Logger
}

/**
 * The admin REST API of a gateway.
 * @public
 */
export interface GatewayAdmin {
  /**
   * The admin API (DGate's `/api/v1`, plus `/healthz`, `/readyz` and `/api/v1/cluster`) as an `http.Server` request
   * listener. With `next` it is Connect/Express middleware: paths it does not serve are passed on.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse, next?: Next) => void
}

/**
 * The modules API: payload modules like any resource, plus trusted modules from the host app.
 * @public
 */
export interface ModuleApi extends ResourceApi<'module'> {
  /**
   * Registers a `defineModule()` module on this node: its hooks run in-process, unsandboxed, for routes that list
   * `name`. A module resource of that name is written too, so routes can reference it; its payload only fails
   * closed, so a node where the module is not registered answers 500 instead of skipping the module's checks.
   * Registrations are not replicated (functions are not data).
   */
  register(name: string, definition: DefinedModule, options?: { namespace?: string }): Promise<ResourceView<'module'>>
}

/**
 * How payload modules run.
 * @public
 */
export interface ModuleOptions {
  /**
   * `'worker'` (default): SES in a pool of worker threads, with a deadline per call and a heap limit, for untrusted
   * code. `'realm'`: SES in a `node:vm` context on the host thread: faster, but no preemption or memory limit, so
   * only for trusted payloads.
   */
  runtime?: 'worker' | 'realm'
  /** Worker threads in the pool (default: cores - 1, at least 1, at most 4). */
  workers?: number
  /** How long one hook call may run before it fails (and its worker is replaced), in ms (default 5000). */
  deadlineMs?: number
  /** Heap limit of each worker, in MiB (default 64). */
  maxHeapMb?: number
}

/**
 * An embedded gateway.
 * @public
 */
export interface Gateway {
  /** Namespaces: put, get, list, delete. */
  readonly namespaces: NamespaceApi
  /** Domains: host patterns to namespaces, and TLS certificates; reads never return the private key. */
  readonly domains: ResourceApi<'domain'>
  /** Services: the upstreams that routes proxy to. */
  readonly services: ResourceApi<'service'>
  /** Routes: paths and methods of a namespace, served by a service and/or modules. */
  readonly routes: ResourceApi<'route'>
  /** Modules: JavaScript/TypeScript source whose hooks run for the routes that list them. */
  readonly modules: ModuleApi
  /** Collections: the JSON Schemas that documents must satisfy. */
  readonly collections: ResourceApi<'collection'>
  /** Documents, validated against their collection on every write. */
  readonly documents: DocumentApi
  /** Secrets: write-only; reads never return the data. */
  readonly secrets: ResourceApi<'secret'>
  /** The current immutable state. */
  readonly snapshot: Snapshot
  /** The cluster adapter in use. */
  readonly cluster: ClusterAdapter
  /**
   * The `http.Server` request listener. With `next` it is Connect/Express middleware: requests that no route
   * serves (no namespace, path or method) are passed on.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse, next?: Next) => void
  /**
   * The `http.Server` `upgrade` listener (WebSockets and other Upgrade protocols). It claims only upgrades that a
   * route serves and returns whether it did; unclaimed ones are left to the server's other `upgrade` listeners
   * (or answered 404 when there are none).
   */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean
  /** The admin REST API, to mount on a listener of your choice (e.g. `http.createServer(gw.admin.handler)`). */
  readonly admin: GatewayAdmin
  /** Runs a web `Request` through the gateway, for fetch-style hosts and tests. Streams both ways. */
  fetch(request: Request): Promise<Response>
  /** Starts a listener of the gateway's own (HTTP, or HTTPS with SNI certificates from domains). */
  listen(options?: ListenOptions): Promise<Listener>
  /** Calls `listener` after every applied change; returns the unsubscribe function. */
  subscribe(listener: StateListener): () => void
  /**
   * Stops the gateway's listeners, lets in-flight requests finish, then closes upstream pools, storage and the
   * cluster. Safe to call twice.
   */
  close(): Promise<void>
}

/**
 * Creates a gateway on the embedded defaults (memory storage, standalone) or the given options, recovers its
 * durable state and applies `resources`.
 * @public
 */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  // Refuse unsafe admin settings before anything is opened.
  resolveAdminOptions(options.admin)
  const defaultNamespace = options.disableDefaultNamespace ? undefined : DEFAULT_NAMESPACE.name
  const logger = options.logger ?? stderrLogger
  // A module is compiled and its top-level code run once when it is written: one that can't load is refused then.
  const state = new GatewayState({
    defaultNamespace: defaultNamespace !== undefined,
    checks: { module: (module, next) => void checkModule(module, next.list('module', module.namespace)) },
  })
  const cluster = options.cluster ?? standalone({ storage: openStorage(options.storage), ...(options.snapshotEvery === undefined ? {} : { snapshotEvery: options.snapshotEvery }) })
  try {
    await cluster.start(state)
    if (options.resources) {
      if (options.resources.modules?.length) await loadCompiler()
      for (const change of seedChanges(options.resources, state.current, defaultNamespace, new Date().toISOString())) {
        await cluster.propose(change)
      }
    }
  } catch (error) {
    await cluster.close().catch(() => {})
    if (error instanceof DGateError) error.message = `resources: ${error.message}`
    throw error
  }
  const ctx: ResourceContext = { cluster, snapshot: () => state.current, defaultNamespace, now: () => new Date().toISOString() }
  const proxy = new DataPlane(state.current, options.proxy)
  const moduleOptions = options.modules ?? {}
  const moduleFetch = new ModuleFetch({ disablePrivateIps: options.proxy?.disablePrivateIps ?? false })
  const moduleLog = (level: ModuleLogLevel, message: string, module: string) => logger[level](message, { module })
  const natives = new Map<string, DefinedModule>()
  proxy.useModules(
    new ModuleStage({
      nativeRuntime: () => createNativeRuntime({ deadlineMs: moduleOptions.deadlineMs ?? 5000 }),
      native: (namespace, name) => natives.get(`${namespace}/${name}`),
      runtime: () =>
        moduleOptions.runtime === 'realm'
          ? createRealmRuntime({ deadlineMs: moduleOptions.deadlineMs ?? 5000 })
          : createWorkerRuntime({
              ...(moduleOptions.workers === undefined ? {} : { size: moduleOptions.workers }),
              deadlineMs: moduleOptions.deadlineMs ?? 5000,
              maxOldGenerationSizeMb: moduleOptions.maxHeapMb ?? 64,
              log: moduleLog,
            }),
      snapshot: () => state.current,
      documents: documentApi(ctx),
      fetch: moduleFetch,
      cache: new ModuleCache(),
      upstreams: proxy,
      maxBodySize: options.proxy?.maxBodySize ?? 64 * 1024 * 1024,
      log: (level, message, fields) => logger[level](message, fields),
    }),
  )
  state.subscribe((change, snapshot) => proxy.update(snapshot, change))
  let closing: Promise<void> | undefined
  const listeners = new Set<Listener>()
  const gatewayHandler = (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res)
  const gatewayUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgradeThrough(proxy, req, socket, head)
  // Written modules are compiled synchronously when applied; the compiler is loaded with import() before a write,
  // for hosts whose require cannot load ES modules (jest's module sandbox on Node 20).
  const moduleApi = resourceApi('module', ctx)
  const gateway: Omit<Gateway, 'admin'> = {
    namespaces: namespaceApi(ctx),
    domains: resourceApi('domain', ctx),
    services: resourceApi('service', ctx),
    routes: resourceApi('route', ctx),
    modules: {
      ...moduleApi,
      async put(input, putOptions) {
        await loadCompiler()
        return moduleApi.put(input, putOptions)
      },
      async register(name, definition, registerOptions = {}) {
        if (definition?.kind !== 'dgate.module') throw new TypeError('modules.register: definition must come from defineModule()')
        const namespace = registerOptions.namespace ?? defaultNamespace ?? ''
        natives.set(`${namespace}/${name}`, definition)
        await loadCompiler()
        return moduleApi.put({ name, namespace, moduleType: 'javascript', tags: ['native'], payload: nativeStub(name) })
      },
    },
    collections: resourceApi('collection', ctx),
    documents: documentApi(ctx),
    secrets: resourceApi('secret', ctx),
    get snapshot() {
      return state.current
    },
    cluster,
    handler: (req, res, next) => proxy.handle(req, res, next),
    upgrade: (req, socket, head) => upgradeThrough(proxy, req, socket, head),
    fetch: (request) => fetchThrough(proxy, request, '127.0.0.1'),
    async listen(listenOptions = {}) {
      if (closing) throw new Error('the gateway is closed')
      const listener = await listen(listenOptions, gatewayHandler, gatewayUpgrade, () => state.current)
      listeners.add(listener)
      return listener
    },
    subscribe: (listener) => state.subscribe(listener),
    close: () =>
      (closing ??= (async () => {
        await Promise.all([...listeners].map((l) => l.close()))
        await proxy.drained()
        await Promise.all([cluster.close(), proxy.close(), moduleFetch.close()])
      })()),
  }
  const adminHandler = createAdminHandler(
    {
      ...gateway,
      get snapshot() {
        return state.current
      },
      defaultNamespace,
    },
    options.admin,
  )
  return Object.defineProperties(gateway, { admin: { value: { handler: adminHandler }, enumerable: true } }) as Gateway
}

/** The payload of a registered native module's resource: fails closed where the module is not registered. */
function nativeStub(name: string): string {
  const message = JSON.stringify(`module "${name}" is registered with defineModule() in the host app and not on this node`)
  return `// ${name}: a defineModule() module of the host app; this payload only runs where it is not registered.
export function requestModifier() { throw new Error(${message}) }
export function requestHandler() { throw new Error(${message}) }
`
}

function openStorage(option: StorageOption | undefined): Storage {
  if (option === undefined || option === 'memory') return new MemoryStorage()
  if ('dir' in option) return new FileStorage(option.dir)
  return option
}
