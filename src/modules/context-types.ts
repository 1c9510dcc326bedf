/**
 * The `ctx` API as module authors see it (DESIGN.md 5.2, DGate's names with its bugs fixed). The same types describe
 * sandboxed modules (see `modules/index.d.ts` for the `dgate/*` imports) and {@link DefinedModule}s run natively.
 *
 * Byte outputs (`readBody()`, digests, `randomBytes`) are `ArrayBuffer`s, as in DGate; byte inputs accept a string
 * (UTF-8), an `ArrayBuffer` or any `ArrayBufferView`.
 */

/** Anything a body writer accepts: a string is UTF-8 encoded. */
export type BodyInput = string | ArrayBuffer | ArrayBufferView

/** A header map over ordered lines. Names are case-insensitive and stored lower-case. Iterable as `[name, value]`. */
export interface HeaderMap extends Iterable<[string, string]> {
  /** The first value, or `''` when absent (as DGate/Go). */
  get(name: string): string
  /** Every value of `name`, in order. */
  values(name: string): string[]
  /** Whether `name` is present. */
  has(name: string): boolean
  /** Replaces every line of `name` with one line; non-strings are stringified. Returns the map. */
  set(name: string, value: unknown): HeaderMap
  /** Appends a line. Returns the map. */
  add(name: string, value: unknown): HeaderMap
  /** Removes every line of `name`. Returns the map. */
  del(name: string): HeaderMap
  /** Lower-case names, once each. */
  keys(): string[]
  /** `[name, value]` lines. */
  entries(): [string, string][]
  /** Calls `fn(value, name)` for every line. */
  forEach(fn: (value: string, name: string) => void): void
  /** `{name: value}` with repeated names joined by `", "` (so `JSON.stringify(headers)` works). */
  toJSON(): Record<string, string>
}

/** The request query; edits reach the upstream. Iterable as `[name, value]`. */
export interface QueryValues extends Iterable<[string, string]> {
  /** The first value, or `''` when absent (as DGate/Go). */
  get(name: string): string
  /** Every value of `name`. */
  values(name: string): string[]
  /** Whether `name` is present. */
  has(name: string): boolean
  /** Replaces every value of `name`. */
  set(name: string, value: unknown): QueryValues
  /** Appends a value. */
  add(name: string, value: unknown): QueryValues
  /** Removes `name`. */
  del(name: string): QueryValues
  /** Names, once each. */
  keys(): string[]
  /** `[name, value]` pairs. */
  entries(): [string, string][]
  /** The form-encoded query without `?`, in insertion order. */
  encode(): string
  /** `{name: firstValue}`. */
  toJSON(): Record<string, string>
}

/** A request cookie. */
export interface Cookie {
  /** Cookie name. */
  name: string
  /** Cookie value. */
  value: string
}

/** `Set-Cookie` attributes. */
export interface CookieOptions {
  /** `Domain`. */
  domain?: string
  /** `Path`. */
  path?: string
  /** `Expires`, a Date, a timestamp in ms, or a date string. */
  expires?: Date | number | string
  /** `Max-Age` in seconds; 0 or negative expires the cookie now. */
  maxAge?: number
  /** `HttpOnly`. */
  httpOnly?: boolean
  /** `Secure`. */
  secure?: boolean
  /** `SameSite`. */
  sameSite?: 'lax' | 'strict' | 'none' | boolean
  /** Accepted and ignored, as DGate. */
  priority?: string
  /** Accepted and ignored, as DGate. */
  signed?: boolean
}

/** `ctx.request()`: the request that goes upstream. */
export interface ModuleRequest {
  /** Assign to change the upstream method. */
  method: string
  /** Decoded path; assign to change the upstream path. */
  path: string
  /** Host header value (with port). */
  readonly host: string
  /** E.g. `HTTP/1.1`. */
  readonly proto: string
  /** Client IP. */
  readonly remoteAddress: string
  /** Current body length, -1 if unknown and not read. */
  readonly contentLength: number
  /** Live headers sent upstream. */
  readonly headers: HeaderMap
  /** Live query; edits reach the upstream. */
  readonly query: QueryValues
  /** The whole body; reading does not consume it. */
  readBody(): Promise<ArrayBuffer>
  /** The body as UTF-8 text. */
  readText(): Promise<string>
  /** The body parsed as JSON. */
  readJson(): Promise<unknown>
  /** Replaces the body and its `content-length`. */
  writeBody(data: BodyInput): void
  /** Writes JSON and sets `content-type: application/json`. */
  writeJson(data: unknown): void
}

/** `ctx.response()`: the answer to the client; writing it ends the request. */
export interface ModuleResponse {
  /** Live response headers. */
  readonly headers: HeaderMap
  /** Whether `end`/`send`/`json`/`redirect` has been called in this request. */
  readonly headersSent: boolean
  /** Per-request scratch, the same object `ctx.get`/`ctx.set` use; JSON data only. */
  readonly locals: Record<string, unknown>
  /** Stores the status for the answer (100–599). */
  status(code: number): ModuleResponse
  /** Sets `Location`. */
  location(url: string): ModuleResponse
  /** Adds a `Set-Cookie` line. */
  cookie(name: string, value: string, options?: CookieOptions): ModuleResponse
  /** Writes (appends) `data` and ends the request; status defaults to 200. */
  end(data?: BodyInput): ModuleResponse
  /** Same as `end`. */
  send(data?: BodyInput): ModuleResponse
  /** `content-type: application/json` and `end(JSON.stringify(data))`. */
  json(data: unknown): ModuleResponse
  /** 307 to `url` (relative URLs resolve against the request path). */
  redirect(url: string): ModuleResponse
  /** 301 to `url`. */
  redirectPermanent(url: string): ModuleResponse
  /** The request's cookies. */
  getCookies(): Cookie[]
  /** One request cookie, or null. */
  getCookie(name: string): Cookie | null
}

/** `ctx.upstream()`: the upstream response, in `responseModifier`. */
export interface ModuleUpstream {
  /** The status; assigning it changes the response status. */
  statusCode: number
  /** E.g. `200 OK`. */
  readonly statusText: string
  /** Live response headers forwarded to the client. */
  readonly headers: HeaderMap
  /** The whole body; reading does not consume it. */
  readBody(): Promise<ArrayBuffer>
  /** The body as UTF-8 text. */
  readText(): Promise<string>
  /** The body parsed as JSON. */
  readJson(): Promise<unknown>
  /** Replaces the body; `content-length` follows. */
  writeBody(data: BodyInput): void
  /** Writes JSON and sets `content-type: application/json`. */
  writeJson(data: unknown): void
  /** Sets the status. */
  status(code: number): ModuleUpstream
  /** Empties the body and redirects with 307. */
  redirect(url: string): ModuleUpstream
  /** Empties the body and redirects with 301. */
  redirectPermanent(url: string): ModuleUpstream
}

/** The error an `errorHandler` receives. */
export interface HookError extends Error {
  /** The status the gateway would answer with (e.g. 502), when known. */
  status?: number
}

/** The context every hook receives. */
export interface ModuleContext {
  /** The request id. */
  readonly id: string
  /** The request going upstream. */
  request(): ModuleRequest
  /** The client response. */
  response(): ModuleResponse
  /** The upstream response, or null outside `responseModifier`. */
  upstream(): ModuleUpstream | null
  /** Snapshot of the service, or null on routes without one. */
  service(): Record<string, unknown> | null
  /** Snapshot of the route. */
  route(): Record<string, unknown>
  /** Snapshot of the namespace. */
  namespace(): Record<string, unknown>
  /** Route path parameters (the catch-all is `"*"`). */
  pathParams(): Record<string, string>
  /** One path parameter, `''` when missing. */
  pathParam(name: string): string
  /** Same as `request().query`. */
  query(): QueryValues
  /** Per-request scratch shared by all hooks of the request, or null. */
  get(key: string): unknown
  /** Stores JSON data in the per-request scratch. */
  set(key: string, value: unknown): void
}

/** Hooks a module may provide; each may be async. */
export interface ModuleHooks {
  /** Service routes, first: returns the upstream URL. */
  fetchUpstream?(ctx: ModuleContext): string | Promise<string>
  /** Before proxying or before `requestHandler`. */
  requestModifier?(ctx: ModuleContext): void | Promise<void>
  /** After the upstream answered, with `ctx.upstream()` set. */
  responseModifier?(ctx: ModuleContext): void | Promise<void>
  /** On a failure; must write the response. */
  errorHandler?(ctx: ModuleContext, err: HookError): void | Promise<void>
  /** Routes without a service: answers the request. */
  requestHandler?(ctx: ModuleContext): void | Promise<void>
}

/** A module defined in the host app with `defineModule`, run by the native runtime. */
export interface DefinedModule {
  /** Brand set by `defineModule`. */
  readonly kind: 'dgate.module'
  /** The hooks. */
  readonly hooks: Readonly<ModuleHooks>
}
