import { types } from 'node:util'
import type { Exchange, HookErrorCode, HookOutcome, JsonObject } from '../types.js'

/** The exchange without its bodies, as JSON, and the bodies apart (they cross as byte arrays). */
export function splitExchange(exchange: Exchange): [string, Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined] {
  const { body: requestBody, ...request } = exchange.request
  const { body: responseBody, ...response } = exchange.response
  let upstream: Omit<NonNullable<Exchange['upstream']>, 'body'> | undefined
  let upstreamBody: Uint8Array | undefined
  if (exchange.upstream) {
    const { body, ...rest } = exchange.upstream
    upstream = rest
    upstreamBody = body
  }
  const json = JSON.stringify({ ...exchange, request, response, upstream })
  return [json, requestBody, responseBody, upstreamBody]
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
