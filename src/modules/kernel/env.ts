/**
 * The contract between the kernel (the trusted code that runs INSIDE the sandbox realm or worker and implements
 * `ctx` and the `dgate/*` imports over plain data) and the runtime that hosts it.
 *
 * Every function here takes and returns primitives or `Uint8Array`s only, so the same kernel source works in a
 * `node:vm` realm (where these are host functions the kernel keeps private), in a worker (where they post
 * messages) and in the host realm for the native runtime. The kernel copies every `Uint8Array` it receives and
 * re-creates every error it catches from these functions in its own realm (sandbox.md §2, rules 2 and 3).
 */

/**
 * A header list across the boundary: in primitive mode the number of its pairs, which follow as names and values at the
 * end of the fields (request, response, upstream, in that order); in object mode the pairs themselves.
 */
export type WireHeaders = number | [string, string][]

/**
 * The exchange of a primitive-mode call as positional primitives. Positional arguments cost a vm realm nothing to
 * receive, where a JSON text of the same data cost a few microseconds to write and parse on each side, and header
 * lists as names and values need no splitting. Bodies, route, service and namespace travel apart.
 */
export type ExchangeFields = [
  id: string,
  method: string,
  path: string,
  host: string,
  proto: string,
  remoteAddress: string,
  contentLength: number,
  query: string,
  /** JSON text of the route params. */
  params: string,
  /** JSON text of the per-request locals. */
  locals: string,
  responseStatus: number | undefined,
  responseEnded: boolean,
  /** Undefined when there is no upstream response. */
  upstreamStatus: number | undefined,
  /** Set for errorHandler calls. */
  errorMessage: string | undefined,
  errorStatus: number | undefined,
  requestHeaders: number,
  responseHeaders: number,
  upstreamHeaders: number,
  /** The three header lists' names and values ({@link WireHeaders}). */
  ...headers: string[],
]

/**
 * A call's outcome as positional fields, in every mode. A request, response or upstream field left undefined means
 * the hook did not change it.
 */
export type OutcomeFields = [
  /** JSON text of the locals, when the hook may have changed them. */
  locals: string | undefined,
  /** Set when the call failed; nothing after the error code is then read. */
  errorMessage: string | undefined,
  errorCode: string | undefined,
  query: string | undefined,
  method: string | undefined,
  path: string | undefined,
  responseEnded: boolean,
  responseStatus: number | undefined,
  /** Set when the hook touched the upstream response: then `upstreamHeaders` stands too. */
  upstreamStatus: number | undefined,
  /** JSON text of the hook's return value, when it is data. */
  result: string | undefined,
  /** The bodies the hook wrote. */
  requestBody: Uint8Array | undefined,
  responseBody: Uint8Array | undefined,
  upstreamBody: Uint8Array | undefined,
  requestHeaders: WireHeaders | undefined,
  /** Set when the hook touched the response (its headers, status or body): then the response fields stand. */
  responseHeaders: WireHeaders | undefined,
  upstreamHeaders: WireHeaders | undefined,
  /** The header lists' names and values in primitive mode ({@link WireHeaders}). */
  ...headers: string[],
]

/** What the runtime provides to the kernel. */
export interface KernelEnv {
  /**
   * `primitive` (realm, worker): exchanges arrive and outcomes leave as positional primitives, plain data as JSON
   * text ({@link ExchangeFields}, {@link OutcomeFields}); `object` (native): the exchange arrives as the host's
   * object and outcome header lists leave as arrays.
   */
  readonly mode: 'primitive' | 'object'
  /**
   * A call finished: its outcome as positional fields ({@link OutcomeFields}). Primitives and byte arrays only in
   * primitive mode; in object mode the header lists are the kernel's own (released) pair arrays.
   */
  complete(callId: number, ...outcome: OutcomeFields): void
  /**
   * An async host call for call `callId` (see `host/dispatch.ts` for the ops). `reqId` 0 means no answer is
   * expected (logs); otherwise the runtime answers with `kernel.deliver(reqId, ok, value, bytes)`.
   */
  host(callId: number, reqId: number, op: string, args: string, bytes?: Uint8Array): void
  /** Starts a timer that calls `kernel.fire(timerId)` after `ms`. */
  setTimer(timerId: number, ms: number): void
  /** Cancels a timer. */
  clearTimer(timerId: number): void
  /** Synchronous crypto (`kernel/native-ops.ts`); throws on bad input. */
  crypto(op: string, args: string, a?: Uint8Array, b?: Uint8Array): string | Uint8Array
  /** WHATWG URL parsing: JSON of the components, or `''` if invalid. `prop`/`value` set one component first. */
  url(input: string, base: string, prop: string, value: string): string
  /** UTF-8 encoding. */
  utf8Encode(text: string): Uint8Array
  /** UTF-8 decoding; throws on invalid input when `fatal`. */
  utf8Decode(bytes: Uint8Array, fatal: boolean, ignoreBom: boolean): string
}

/** What the kernel offers to the runtime; every argument and result is a primitive or a `Uint8Array`. */
export interface Kernel {
  /**
   * Loads a compiled program: `modules` is the JSON of `CompiledModule[]`. Runs the entry's top-level code.
   * Returns JSON `{"hooks": [...]}` or `{"error": "..."}`.
   */
  load(programId: string, modules: string, entry: string): string
  /** Registers a native program (object mode only). Returns the same JSON as `load`. */
  loadNative(programId: string, entry: string, hooks: object): string
  /** Forgets a program. */
  unload(programId: string): void
  /**
   * Starts a hook call; the outcome arrives through `env.complete(callId, …)`, possibly synchronously. The route,
   * service and namespace come apart from the exchange, as JSON text (`''` for none) in primitive mode, so the host can
   * serialize each once per resource version, and the kernel parses them only for hooks that ask. `exchange` is
   * the exchange's {@link ExchangeFields} in primitive mode, the host's `Exchange` object alone in object mode.
   */
  run(
    callId: number,
    programId: string,
    hook: string,
    route: unknown,
    service: unknown,
    namespace: unknown,
    requestBody: Uint8Array | undefined,
    responseBody: Uint8Array | undefined,
    upstreamBody: Uint8Array | undefined,
    ...exchange: ExchangeFields | [object]
  ): void
  /** Answers an `env.host` call: `value` is the JSON result, or the error message when `ok` is false. */
  deliver(reqId: number, ok: boolean, value: string, bytes?: Uint8Array): void
  /** A timer started with `env.setTimer` fired. */
  fire(timerId: number): void
  /** The runtime gave up on a call (deadline): cancel its timers and ignore its completion. */
  abort(callId: number): void
}

/** The helpers `kernel/text.ts` provides to the other parts. */
export interface TextTools {
  /** string | ArrayBuffer | ArrayBufferView → a fresh kernel-owned Uint8Array; throws TypeError otherwise. */
  toBytes(data: unknown, what: string): Uint8Array
  /** A fresh ArrayBuffer with the bytes. */
  toArrayBuffer(bytes: Uint8Array): ArrayBuffer
  /** Copies bytes received from the runtime into this realm. */
  own(bytes: Uint8Array | undefined): Uint8Array | undefined
  /** Concatenates chunks. */
  concat(chunks: Uint8Array[]): Uint8Array
  /** UTF-8. */
  encode(text: string): Uint8Array
  /** UTF-8, replacing invalid sequences. */
  decode(bytes: Uint8Array): string
  /** Standard base64. */
  base64Encode(bytes: Uint8Array): string
  /** Standard or URL-safe base64, padding optional. */
  base64Decode(text: string): Uint8Array
  /** The TextEncoder/TextDecoder classes modules get. */
  TextEncoder: unknown
  /** The TextDecoder class modules get. */
  TextDecoder: unknown
}
