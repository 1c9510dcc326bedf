import { types } from 'node:util'
import type { ExchangeFields } from '../kernel/env.js'
import type { Exchange, HeaderList, HookErrorCode, HookOutcome, JsonObject } from '../types.js'

/**
 * At most this many lines per header list cross into a hook, and out of it (the kernel's `MAX_HEADER_LINES` in
 * kernel/context.ts): far above what HTTP messages carry, and the same in every runtime, since sandboxes get the
 * lines as arguments and an engine takes only so many.
 */
export const MAX_HEADER_LINES = 10_000

/** Why an exchange cannot be handed to a hook, if it cannot: a header list over {@link MAX_HEADER_LINES}. */
export function exchangeRefusal(exchange: Exchange): string | undefined {
  const { request, response, upstream } = exchange
  return overLimit(request.headers, 'request') ?? overLimit(response.headers, 'response') ?? (upstream ? overLimit(upstream.headers, 'upstream response') : undefined)
}

function overLimit(list: HeaderList, which: string): string | undefined {
  return list.length > MAX_HEADER_LINES ? `the ${which} has ${list.length} header lines; at most ${MAX_HEADER_LINES} are passed to a hook` : undefined
}

/**
 * The exchange as positional primitives for a primitive-mode kernel ({@link ExchangeFields}, the order the kernel's
 * `begin` reads), without its bodies and without the route, service and namespace snapshots (they cross as
 * {@link snapshotJson} text, serialized once per resource version).
 */
export function exchangeFields(exchange: Exchange): ExchangeFields {
  // Coerced as they are written, so that nothing but primitives ever reaches a realm, whoever built the exchange.
  const { request: r, response, upstream, error } = exchange
  const upHeaders = upstream ? upstream.headers : NO_HEADERS
  const fields: ExchangeFields = [
    String(exchange.id), String(r.method), String(r.path), String(r.host), String(r.proto), String(r.remoteAddress), Number(r.contentLength), String(r.query),
    JSON.stringify(exchange.params), JSON.stringify(exchange.locals),
    optionalNumber(response.status), response.ended === true, optionalNumber(upstream?.statusCode),
    error ? String(error.message) : undefined, optionalNumber(error?.status),
    r.headers.length, response.headers.length, upHeaders.length,
  ]
  pushHeaders(fields, r.headers)
  pushHeaders(fields, response.headers)
  pushHeaders(fields, upHeaders)
  return fields
}

const NO_HEADERS: HeaderList = []

/** Appends a header list's names and values to the fields. */
function pushHeaders(fields: ExchangeFields, list: HeaderList): void {
  for (let i = 0; i < list.length; i++) fields.push(String(list[i]![0]), String(list[i]![1]))
}

function optionalNumber(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value)
}

/**
 * A header list of an outcome as host string pairs, or undefined if malformed: `count` pairs of `fields` from `at`
 * (primitive mode), or the array itself when `objects` (the host-realm kernel of the native runtime, whose header maps
 * copy before their next change), checked, not copied. A sandbox never gets an array read here.
 */
function headerPairs(wire: unknown, fields: readonly unknown[], at: number, objects: boolean): HeaderList | undefined {
  if (typeof wire === 'number') {
    if (!Number.isInteger(wire) || wire < 0 || at + 2 * wire > fields.length) return undefined
    const out: HeaderList = []
    for (let i = at, end = at + 2 * wire; i < end; i += 2) {
      const name = fields[i]
      const value = fields[i + 1]
      if (typeof name !== 'string' || typeof value !== 'string') return undefined
      out.push([name, value])
    }
    return out
  }
  if (!objects || !Array.isArray(wire)) return undefined
  for (const pair of wire as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined
  }
  return wire as HeaderList
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
 * The outcome the host gets from a kernel's {@link OutcomeFields}: JSON parsed by the host, bodies copied, and every
 * field's type checked, so that nothing but the documented plain data reaches the proxy. `objects`: the fields come
 * from the host-realm kernel (native runtime), whose header lists are arrays.
 */
export function buildOutcome(exchange: Exchange, fields: unknown, objects: boolean): HookOutcome {
  if (!Array.isArray(fields)) return unreadable(exchange)
  const [locals, errorMessage, errorCode, query, method, path, resEnded, resStatus, upStatus, result, reqBody, resBody, upBody, reqHeaders, resHeaders, upHeaders] = fields as unknown[]
  const outcome: HookOutcome = { locals: exchange.locals }
  if (locals !== undefined) {
    const parsed = typeof locals === 'string' ? parseJson(locals) : undefined
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return unreadable(exchange)
    outcome.locals = parsed as JsonObject
  }
  if (errorMessage !== undefined) {
    if (typeof errorMessage !== 'string') return unreadable(exchange)
    outcome.error = { message: errorMessage, code: (typeof errorCode === 'string' ? errorCode : 'thrown') as HookErrorCode }
    return outcome
  }
  // Where each primitive-mode header list's names and values start: after the fields, in order.
  const reqAt = 16
  const resAt = reqAt + tailLength(reqHeaders)
  const upAt = resAt + tailLength(resHeaders)
  const requestBody = hostBytes(reqBody)
  if (reqHeaders !== undefined || query !== undefined || method !== undefined || path !== undefined || requestBody) {
    const change: NonNullable<HookOutcome['request']> = {}
    if (reqHeaders !== undefined) {
      const pairs = headerPairs(reqHeaders, fields, reqAt, objects)
      if (!pairs) return unreadable(exchange)
      change.headers = pairs
    }
    if (typeof query === 'string') change.query = query
    if (typeof method === 'string') change.method = method
    if (typeof path === 'string') change.path = path
    if (requestBody) change.body = requestBody
    outcome.request = change
  }
  if (resHeaders !== undefined) {
    const headers = headerPairs(resHeaders, fields, resAt, objects)
    if (!headers) return unreadable(exchange)
    outcome.response = { headers, ended: resEnded === true }
    if (typeof resStatus === 'number') outcome.response.status = resStatus
    const body = hostBytes(resBody)
    if (body) outcome.response.body = body
  }
  if (upStatus !== undefined) {
    const headers = headerPairs(upHeaders, fields, upAt, objects)
    if (!headers || typeof upStatus !== 'number') return unreadable(exchange)
    outcome.upstream = { statusCode: upStatus, headers }
    const body = hostBytes(upBody)
    if (body) outcome.upstream.body = body
  }
  if (result !== undefined) {
    if (typeof result !== 'string') return unreadable(exchange)
    const value = parseJson(result)
    if (value !== undefined) outcome.result = value as HookOutcome['result']
  }
  return outcome
}

function unreadable(exchange: Exchange): HookOutcome {
  return failedOutcome(exchange, 'the sandbox returned an unreadable outcome', 'crashed')
}

/** How many fields a header list's names and values take at the end (none in object mode, or when absent). */
function tailLength(wire: unknown): number {
  return typeof wire === 'number' ? 2 * wire : 0
}

/** JSON text parsed by the host; undefined if it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
