import { types } from 'node:util'
import type { Exchange, HookErrorCode, HookOutcome, JsonObject } from '../types.js'

/**
 * The exchange as JSON text for the kernel: without its bodies (they cross as byte arrays) and without the route,
 * service and namespace snapshots (they cross as {@link snapshotJson} text, serialized once per resource version).
 * Fields are listed one by one: no object spreads, and nothing the kernel does not read is serialized.
 */
export function exchangeJson(exchange: Exchange): string {
  const { request: r, response, upstream, error } = exchange
  return JSON.stringify({
    id: exchange.id,
    request: { method: r.method, path: r.path, host: r.host, proto: r.proto, remoteAddress: r.remoteAddress, contentLength: r.contentLength, headers: r.headers, query: r.query },
    params: exchange.params,
    locals: exchange.locals,
    response: { status: response.status, headers: response.headers, ended: response.ended },
    upstream: upstream ? { statusCode: upstream.statusCode, headers: upstream.headers } : undefined,
    error,
  })
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
  const request = data.request as HookOutcome['request'] | undefined
  const reqBody = hostBytes(requestBody)
  if (request || reqBody) {
    outcome.request = { ...(request ?? {}) }
    if (reqBody) outcome.request.body = reqBody
  }
  const response = data.response as HookOutcome['response'] | undefined
  if (response) {
    outcome.response = { headers: response.headers, ended: response.ended === true }
    if (typeof response.status === 'number') outcome.response.status = response.status
    const body = hostBytes(responseBody)
    if (body) outcome.response.body = body
  }
  const upstream = data.upstream as HookOutcome['upstream'] | undefined
  if (upstream) {
    outcome.upstream = { statusCode: upstream.statusCode, headers: upstream.headers }
    const body = hostBytes(upstreamBody)
    if (body) outcome.upstream.body = body
  }
  if ('result' in data && data.result !== undefined) outcome.result = data.result as HookOutcome['result']
  return outcome
}
