import { types } from 'node:util'
import type { Exchange, HeaderList, HookErrorCode, HookOutcome, JsonObject } from '../types.js'

/**
 * Separates names and values in a flat header list. DEL (0x7f) is not a field-vchar, so it cannot appear in an HTTP
 * header name or value; a list that contains one anyway (set by hand, not parsed from the wire) crosses as pairs.
 */
const SEP = '\x7f'

/**
 * A header list as one string, `name␡value␡name␡value`, or the pairs themselves if some entry contains the
 * separator. One flat string is several times cheaper to stringify, copy and parse than nested arrays.
 */
export function flatHeaders(list: HeaderList): string | HeaderList {
  let out = ''
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!
    if (name.includes(SEP) || value.includes(SEP)) return list
    out += i === 0 ? name + SEP + value : SEP + name + SEP + value
  }
  return out
}

/**
 * A header list from the kernel (flat string or pairs) as host string pairs; undefined if malformed. Pairs are
 * checked, not copied: they are host arrays already (parsed by the host's JSON from a sandbox's text, or released
 * by the host-realm kernel of the native runtime, whose header maps copy before their next change).
 */
export function headerPairs(value: unknown): HeaderList | undefined {
  if (typeof value === 'string') {
    if (value === '') return []
    const parts = value.split(SEP)
    if (parts.length % 2 !== 0) return undefined
    const out: HeaderList = []
    for (let i = 0; i < parts.length; i += 2) out.push([parts[i]!, parts[i + 1]!])
    return out
  }
  if (!Array.isArray(value)) return undefined
  for (const pair of value as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined
  }
  return value as HeaderList
}

/**
 * The exchange as JSON text for the kernel: a flat array (no object keys to write and read), header lists as
 * {@link flatHeaders} strings, without its bodies (they cross as byte arrays) and without the route, service and
 * namespace snapshots (they cross as {@link snapshotJson} text, serialized once per resource version). The kernel's
 * `decodeExchange` (kernel/boot.ts) reads the same positions.
 */
export function exchangeJson(exchange: Exchange): string {
  const { request: r, response, upstream } = exchange
  return JSON.stringify([
    exchange.id, r.method, r.path, r.host, r.proto, r.remoteAddress, r.contentLength, r.query, flatHeaders(r.headers),
    exchange.params, exchange.locals,
    response.status ?? null, flatHeaders(response.headers), response.ended,
    upstream ? upstream.statusCode : null, upstream ? flatHeaders(upstream.headers) : null,
    exchange.error ?? null,
  ])
}

/** The three bodies of an exchange, in the kernel's argument order. */
export function exchangeBodies(exchange: Exchange): [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined] {
  return [exchange.request.body, exchange.response.body, exchange.upstream?.body]
}

/** A snapshot serialized once: its JSON text and a number that names it on a worker's cache. */
export interface SnapshotText {
  id: number
  json: string
}

const NONE: SnapshotText = { id: 0, json: '' }
const snapshots = new WeakMap<object, SnapshotText>()
let nextSnapshot = 1

/**
 * The JSON text of a route, service or namespace snapshot, cached by object identity: the gateway's resources are
 * immutable (a change publishes a new object), so one text serves every request until the resource's next version.
 * `''` (id 0) for none. Whoever passes an object here must not change it in place afterwards.
 */
export function snapshotJson(value: JsonObject | null | undefined): SnapshotText {
  if (value === null || value === undefined || typeof value !== 'object') return NONE
  let known = snapshots.get(value)
  if (!known) snapshots.set(value, (known = { id: nextSnapshot++, json: JSON.stringify(value) }))
  return known
}

/**
 * A copy of bytes that came out of a sandbox. The check reads the internal slot (no getter or `constructor` runs)
 * and the host's constructor copies through the slots, so a sandbox object never stays reachable from the host.
 */
export function hostBytes(value: unknown): Uint8Array | undefined {
  return types.isUint8Array(value) ? new Uint8Array(value) : undefined
}

/** A failed outcome made by the runtime (deadline, crash…), keeping the request's locals. */
export function failedOutcome(exchange: Exchange, message: string, code: HookErrorCode): HookOutcome {
  return { locals: exchange.locals, error: { message, code } }
}

/**
 * The outcome the host gets: parsed with the host's JSON (from text made by the kernel), bodies re-attached, and
 * shapes checked so that nothing but the documented plain data reaches the proxy.
 */
export function buildOutcome(exchange: Exchange, raw: unknown, requestBody: unknown, responseBody: unknown, upstreamBody: unknown): HookOutcome {
  let data: Record<string, unknown>
  try {
    data = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>
  } catch {
    return failedOutcome(exchange, 'the sandbox returned an unreadable outcome', 'crashed')
  }
  if (data === null || typeof data !== 'object') return failedOutcome(exchange, 'the sandbox returned an unreadable outcome', 'crashed')
  const locals = data.locals !== null && typeof data.locals === 'object' && !Array.isArray(data.locals) ? (data.locals as JsonObject) : exchange.locals
  const outcome: HookOutcome = { locals }
  const error = data.error as { message?: unknown; code?: unknown } | undefined
  if (error) {
    outcome.error = { message: String(error.message), code: (typeof error.code === 'string' ? error.code : 'thrown') as HookErrorCode }
    return outcome
  }
  const unreadable = (): HookOutcome => failedOutcome(exchange, 'the sandbox returned an unreadable outcome', 'crashed')
  const request = data.request as { headers?: unknown; query?: unknown; method?: unknown; path?: unknown } | undefined
  const reqBody = hostBytes(requestBody)
  if (request || reqBody) {
    const change: NonNullable<HookOutcome['request']> = {}
    if (request) {
      if (request.headers !== undefined) {
        const pairs = headerPairs(request.headers)
        if (!pairs) return unreadable()
        change.headers = pairs
      }
      if (typeof request.query === 'string') change.query = request.query
      if (typeof request.method === 'string') change.method = request.method
      if (typeof request.path === 'string') change.path = request.path
    }
    if (reqBody) change.body = reqBody
    outcome.request = change
  }
  const response = data.response as { headers?: unknown; ended?: unknown; status?: unknown } | undefined
  if (response) {
    const headers = headerPairs(response.headers)
    if (!headers) return unreadable()
    outcome.response = { headers, ended: response.ended === true }
    if (typeof response.status === 'number') outcome.response.status = response.status
    const body = hostBytes(responseBody)
    if (body) outcome.response.body = body
  }
  const upstream = data.upstream as { statusCode?: unknown; headers?: unknown } | undefined
  if (upstream) {
    const headers = headerPairs(upstream.headers)
    if (!headers || typeof upstream.statusCode !== 'number') return unreadable()
    outcome.upstream = { statusCode: upstream.statusCode, headers }
    const body = hostBytes(upstreamBody)
    if (body) outcome.upstream.body = body
  }
  if ('result' in data && data.result !== undefined) outcome.result = data.result as HookOutcome['result']
  return outcome
}
