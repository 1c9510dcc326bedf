/**
 * The host-facing types of the module sandbox: what goes into a hook call ({@link Exchange}), what comes out
 * ({@link HookOutcome}), what the host provides ({@link HostCalls}) and the runtime interface ({@link ModuleRuntime}).
 * Everything that crosses a sandbox boundary is plain data: strings, numbers, booleans, null, arrays and plain
 * objects of them, and `Uint8Array` bodies.
 */
import type { DefinedModule } from './context-types.js'

export type {
  ModuleContext,
  ModuleRequest,
  ModuleResponse,
  ModuleUpstream,
  HeaderMap,
  QueryValues,
  Cookie,
  CookieOptions,
  BodyInput,
  HookError,
  ModuleHooks,
  DefinedModule,
} from './context-types.js'

/** The five hook names a module may export, in DGate's spelling. */
export type HookName = 'fetchUpstream' | 'requestModifier' | 'responseModifier' | 'errorHandler' | 'requestHandler'

/** Every hook name, in pipeline order. */
export const HOOK_NAMES: readonly HookName[] = ['fetchUpstream', 'requestModifier', 'responseModifier', 'errorHandler', 'requestHandler']

/** A JSON value as it crosses a sandbox boundary. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue }

/** Header lines in order, as `[name, value]` pairs; names compare case-insensitively, the kernel writes them lower-case. */
export type HeaderList = [string, string][]

/** The inbound request as a hook sees it. */
export interface ExchangeRequest {
  /** `GET`, `POST`, … */
  method: string
  /** The decoded request path, without the query. */
  path: string
  /** The `Host` (with port, if any). */
  host: string
  /** E.g. `HTTP/1.1`. */
  proto: string
  /** The client's IP address without port. */
  remoteAddress: string
  /** The declared body length, -1 if unknown. */
  contentLength: number
  /** The headers that will be sent upstream. */
  headers: HeaderList
  /** The raw query string, without `?`. */
  query: string
  /** The body, only if the host has already buffered it; otherwise the kernel asks {@link HostCalls.readRequestBody}. */
  body?: Uint8Array
}

/** The client response as it stands before the hook. */
export interface ExchangeResponse {
  /** Status stored by `ctx.response().status()`, if any. */
  status?: number
  /** Response headers set so far. */
  headers: HeaderList
  /** Body written so far. */
  body?: Uint8Array
  /** Whether a hook has already written (ended) the response. */
  ended: boolean
}

/** The upstream response (only in `responseModifier`, and in `errorHandler` if the host chooses). */
export interface ExchangeUpstream {
  /** The upstream status. */
  statusCode: number
  /** The upstream response headers, forwarded to the client. */
  headers: HeaderList
  /** The body, only if already buffered; otherwise the kernel asks {@link HostCalls.readUpstreamBody}. */
  body?: Uint8Array
}

/** Everything one hook call gets: plain data, copied into the sandbox. */
export interface Exchange {
  /** The request id (`ctx.id`), also attached to module logs. */
  id: string
  /** The inbound request. */
  request: ExchangeRequest
  /** Route path parameters; the catch-all is under `"*"`. */
  params: Record<string, string>
  /**
   * Plain snapshot of the route resource (`ctx.route()`). Route, service and namespace are treated as immutable:
   * runtimes serialize each object once and reuse the text for every call that passes the same object (the
   * gateway's resources are never changed in place; a change publishes a new object). Pass a new object to change one.
   */
  route: JsonObject
  /** Plain snapshot of the service (`ctx.service()`), absent or null on routes without one. */
  service?: JsonObject | null
  /** Plain snapshot of the namespace (`ctx.namespace()`). */
  namespace: JsonObject
  /** Per-request scratch (`ctx.get`/`ctx.set`, `ctx.response().locals`), shared by all hooks of the request. */
  locals: JsonObject
  /** The client response so far. */
  response: ExchangeResponse
  /** The upstream response, when there is one to modify. */
  upstream?: ExchangeUpstream
  /** The failure an `errorHandler` is called for (its `err` argument). */
  error?: { message: string; status?: number }
}

/** Why a hook call failed: the module threw (`thrown`), or the runtime stopped it. */
export type HookErrorCode = 'thrown' | 'deadline' | 'crashed' | 'overloaded' | 'unavailable'

/**
 * What a hook call changed; fields are present only when the hook changed them. The host applies them in order
 * (request, then response or upstream) and copies `locals` into the next hook's exchange.
 */
export interface HookOutcome {
  /** Changes to the request that goes upstream. */
  request?: {
    /** The full header list, when any header changed. */
    headers?: HeaderList
    /** The re-encoded query (without `?`), when it changed. */
    query?: string
    /** The new body, when rewritten (`content-length` in `headers` is already updated). */
    body?: Uint8Array
    /** A new method, when the hook assigned `request.method`. */
    method?: string
    /** A new path, when the hook assigned `request.path`. */
    path?: string
  }
  /** The client response, when the hook touched it. `ended` means the hook answered: nothing more is proxied. */
  response?: { status?: number; headers: HeaderList; body?: Uint8Array; ended: boolean }
  /** The upstream response, when the hook changed it (`content-length` kept correct when the body changed). */
  upstream?: { statusCode: number; headers: HeaderList; body?: Uint8Array }
  /** The per-request scratch after the hook (a JSON copy). */
  locals: JsonObject
  /** The hook's return value when it is data (e.g. `fetchUpstream`'s URL string); absent for `undefined`. */
  result?: JsonValue
  /** Set when the hook failed: the message only, never a stack. */
  error?: { message: string; code: HookErrorCode }
}

/** Log levels module output is reported at (`console.debug` → debug, `log`/`info` → info, `warn`, `error`). */
export type ModuleLogLevel = 'debug' | 'info' | 'warn' | 'error'

/** A stored document as modules see it. */
export interface ModuleDocument {
  /** Document id, unique in the collection. */
  id: string
  /** The collection it belongs to. */
  collection: string
  /** The namespace (always the route's). */
  namespace: string
  /** The JSON payload. */
  data: JsonValue
  /** ISO timestamps set by the server. */
  createdAt?: string
  /** ISO timestamps set by the server. */
  updatedAt?: string
}

/** Options of the host fetch (what `dgate/http`'s `fetch` passes on). */
export interface HostFetchInit {
  /** Default `GET`. */
  method: string
  /** Request headers. */
  headers: HeaderList
  /** Request body. */
  body?: Uint8Array
  /** `follow` (default, up to 10 hops), `manual` (return the 3xx), `error` (reject on a redirect). */
  redirect: 'follow' | 'manual' | 'error'
  /** Milliseconds before the request is aborted; the host caps it. */
  timeoutMs?: number
}

/** A buffered response of the host fetch. */
export interface HostFetchResponse {
  /** HTTP status. */
  status: number
  /** Reason phrase, e.g. `OK`. */
  statusText: string
  /** The final URL after redirects. */
  url: string
  /** Whether a redirect was followed. */
  redirected: boolean
  /** Response headers. */
  headers: HeaderList
  /** The whole body. */
  body: Uint8Array
}

/**
 * The async capabilities the host provides to one hook call. The kernel calls them (in worker mode through a message
 * RPC); their errors reach the module as fresh errors with the message only. Implementations enforce policy:
 * the namespace, collection schemas and visibility, fetch timeouts and the private-address guard, storage limits.
 */
export interface HostCalls {
  /** Buffers and returns the request body; called only when a module reads it, at most once per exchange by the kernel. */
  readRequestBody(): Promise<Uint8Array>
  /** Buffers and returns the upstream response body. */
  readUpstreamBody(): Promise<Uint8Array>
  /** Module console output, with the name of the module that wrote it. */
  log(level: ModuleLogLevel, message: string, module: string): void
  /** Documents of the route's namespace (`dgate/state`). */
  documents: {
    /** The document, or null if it does not exist. */
    get(collection: string, id: string): Promise<ModuleDocument | null>
    /** Documents ordered by id. */
    list(collection: string, options: { limit?: number; offset?: number }): Promise<ModuleDocument[]>
    /** Creates or replaces a document; the host validates against the collection schema. */
    put(collection: string, id: string, data: JsonValue): Promise<ModuleDocument>
    /** Deletes a document; false if it did not exist. */
    delete(collection: string, id: string): Promise<boolean>
  }
  /** The node-local per-namespace cache (`dgate/storage`). */
  storage: {
    /** The value, or null if absent or expired. */
    get(key: string): Promise<JsonValue | null>
    /** Stores a value; `ttlSeconds` undefined means the host's default. */
    set(key: string, value: JsonValue, ttlSeconds: number | undefined): Promise<void>
    /** Removes a value; false if absent. */
    delete(key: string): Promise<boolean>
  }
  /** `dgate/http`'s fetch: the host performs the request (see `host/fetch.ts`). */
  fetch(url: string, init: HostFetchInit): Promise<HostFetchResponse>
}

/**
 * A module record as `@endo/module-source` produces it: plain JSON (imports, exports and the functor program text),
 * parsed once on the host and copied into a realm or posted to a worker.
 */
export interface ModuleRecord {
  /** Import specifiers as written. */
  imports: string[]
  /** Exported names. */
  exports: string[]
  /** The rest of the record (program text and export maps), opaque to the host. */
  [key: string]: unknown
}

/** One module compiled on the host (see `compile.ts`); plain data, cached by content hash. */
export interface CompiledModule {
  /** The module's name; sibling modules import it by this name. */
  name: string
  /** sha256 of the module type and payload. */
  hash: string
  /** `esm` as written, or `cjs` for DGate's CommonJS/script style wrapped into ESM. */
  format: 'esm' | 'cjs'
  /** The parsed record. */
  record: ModuleRecord
  /** Each import specifier as written mapped to what it loads: a `dgate…` id or a sibling module name. */
  dependencies: Record<string, string>
}

/** A program: the entry module and every module it may import, compiled. */
export interface CompiledProgram {
  /** Stable id: namespace + entry + content hashes (see {@link createProgram}). */
  id: string
  /** The entry module's name. */
  entry: string
  /** The entry and its siblings. */
  modules: CompiledModule[]
}

/** A program made of a host-side {@link DefinedModule}, for the native runtime. */
export interface NativeProgram {
  /** Stable id chosen by the host. */
  id: string
  /** A name used in logs. */
  entry: string
  /** The module definition. */
  native: DefinedModule
}

/** What a runtime loads. */
export type ModuleProgram = CompiledProgram | NativeProgram

/** Options of one hook call. */
export interface RunOptions {
  /** Milliseconds the call may take from dispatch; defaults to the runtime's deadline. */
  deadlineMs?: number
}

/** One interface over the native, realm and worker runtimes. */
export interface ModuleRuntime {
  /** Which runtime this is. */
  readonly kind: 'native' | 'realm' | 'worker'
  /** Loads a program (idempotent by id) and reports the hooks its entry exports as functions; rejects with a message if loading fails. */
  prepare(program: ModuleProgram): Promise<{ hooks: HookName[] }>
  /**
   * Runs one hook of a prepared program; never rejects for module failures (they are `outcome.error`). In-thread
   * runtimes return the outcome itself when the hook finished synchronously, so a request whose hooks do not await
   * anything goes through the pipeline without a promise.
   */
  run(programId: string, hook: HookName, exchange: Exchange, host: HostCalls, options?: RunOptions): HookOutcome | Promise<HookOutcome>
  /** Drops a program no route uses any more; running calls finish. */
  release(programId: string): void
  /** Stops the runtime; pending calls fail with code `unavailable`. */
  close(): Promise<void>
}
