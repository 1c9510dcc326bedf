import type { HostCalls, HostFetchInit, JsonValue, ModuleLogLevel } from '../types.js'

/** The answer to one host call: a JSON text (may be `''` for undefined) and optional bytes. */
export interface HostAnswer {
  value: string
  bytes?: Uint8Array
}

const LEVELS: readonly ModuleLogLevel[] = ['debug', 'info', 'warn', 'error']

function strings(args: unknown, count: number, op: string): string[] {
  if (!Array.isArray(args) || args.length < count) throw new Error(`${op}: bad arguments`)
  return args.slice(0, count).map(String)
}

/**
 * Performs one kernel host call (`env.host(callId, reqId, op, args, bytes)`) against the request's {@link HostCalls}.
 * `args` is JSON text made by the kernel and parsed here with the host's JSON, so nothing of the sandbox's reaches
 * the host implementation but strings, numbers and host-made objects.
 */
export async function dispatchHostCall(host: HostCalls, op: string, args: string, bytes: Uint8Array | undefined): Promise<HostAnswer> {
  const parsed: unknown = args === '' ? undefined : JSON.parse(args)
  switch (op) {
    case 'readRequestBody':
      return { value: '', bytes: await host.readRequestBody() }
    case 'readUpstreamBody':
      return { value: '', bytes: await host.readUpstreamBody() }
    case 'documents.get': {
      const [collection, id] = strings(parsed, 2, op) as [string, string]
      return { value: JSON.stringify(await host.documents.get(collection, id)) }
    }
    case 'documents.list': {
      const [collection] = strings(parsed, 1, op) as [string]
      const raw = ((parsed as unknown[])[1] ?? {}) as { limit?: unknown; offset?: unknown }
      const options: { limit?: number; offset?: number } = {}
      if (typeof raw.limit === 'number') options.limit = raw.limit
      if (typeof raw.offset === 'number') options.offset = raw.offset
      return { value: JSON.stringify(await host.documents.list(collection, options)) }
    }
    case 'documents.put': {
      const [collection, id] = strings(parsed, 2, op) as [string, string]
      return { value: JSON.stringify(await host.documents.put(collection, id, ((parsed as unknown[])[2] ?? null) as JsonValue)) }
    }
    case 'documents.delete': {
      const [collection, id] = strings(parsed, 2, op) as [string, string]
      return { value: JSON.stringify(await host.documents.delete(collection, id)) }
    }
    case 'storage.get': {
      const [key] = strings(parsed, 1, op) as [string]
      return { value: JSON.stringify((await host.storage.get(key)) ?? null) }
    }
    case 'storage.set': {
      const [key] = strings(parsed, 1, op) as [string]
      const list = parsed as unknown[]
      const ttl = typeof list[2] === 'number' ? list[2] : undefined
      await host.storage.set(key, (list[1] ?? null) as JsonValue, ttl)
      return { value: '' }
    }
    case 'storage.delete': {
      const [key] = strings(parsed, 1, op) as [string]
      return { value: JSON.stringify(await host.storage.delete(key)) }
    }
    case 'fetch': {
      const o = parsed as { url: string; method: string; headers: [string, string][]; redirect: HostFetchInit['redirect']; timeoutMs?: number }
      const init: HostFetchInit = { method: String(o.method), headers: o.headers.map(([k, v]) => [String(k), String(v)]), redirect: o.redirect }
      if (bytes) init.body = bytes
      if (typeof o.timeoutMs === 'number' && Number.isFinite(o.timeoutMs)) init.timeoutMs = o.timeoutMs
      const r = await host.fetch(String(o.url), init)
      return { value: JSON.stringify({ status: r.status, statusText: r.statusText, url: r.url, redirected: r.redirected, headers: r.headers }), bytes: r.body }
    }
    default:
      throw new Error(`unknown host call: ${op}`)
  }
}

/** A log notification (`op` `log`, args `[level, message, module]`). */
export function logArgs(args: string): [ModuleLogLevel, string, string] {
  const parsed = JSON.parse(args) as unknown[]
  const level = LEVELS.includes(parsed[0] as ModuleLogLevel) ? (parsed[0] as ModuleLogLevel) : 'info'
  return [level, String(parsed[1]), String(parsed[2])]
}

/** The message of a host-side error, for the kernel to re-create (never the stack). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message
  return typeof e === 'string' ? e : 'host call failed'
}
