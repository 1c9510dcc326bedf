/**
 * Options of the admin API (`GatewayOptions.admin`).
 * @public
 */
export interface AdminOptions {
  /**
   * How requests authenticate: `'key'` requires one of `keys` in the `keyHeader` header on every request except
   * `/healthz` and `/readyz`; `'none'` accepts any. Default: `'key'` when `keys` is given, else `'none'`.
   * `'key'` without keys is refused when the gateway is created (fail closed).
   */
  auth?: 'none' | 'key'
  /** Accepted API keys (compared in constant time, never logged or echoed). */
  keys?: string[]
  /** The header that carries the key (default `X-DGate-Key`). */
  keyHeader?: string
  /**
   * IPs and CIDRs allowed to use the admin API (403 for others). Absent: loopback only when no `keys` are set (an
   * open admin API must not be reachable from the network by default), every address when keys are required.
   * An empty list allows every address.
   */
  allowList?: string[]
  /**
   * Which address the allow-list checks: 0 (default) the socket's peer; n \> 0 the n-th `X-Forwarded-For` entry
   * counted from the end (for n trusted proxies in front of the admin API).
   */
  xForwardedForDepth?: number
  /** Largest request body, in bytes (default 4 MiB); larger gets 413. */
  maxBodySize?: number
}

/** Admin options with defaults applied and checked. */
export interface ResolvedAdminOptions {
  auth: 'none' | 'key'
  keys: readonly string[]
  keyHeader: string
  allowList: readonly string[]
  xForwardedForDepth: number
  maxBodySize: number
}

/** The default allow-list of an admin API without keys. */
const LOOPBACK: readonly string[] = ['127.0.0.0/8', '::1']

const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Applies defaults; throws a TypeError naming the option when the options can't be served safely. */
export function resolveAdminOptions(options: AdminOptions = {}): ResolvedAdminOptions {
  const keys = options.keys ?? []
  const auth = options.auth ?? (keys.length > 0 ? 'key' : 'none')
  if (auth !== 'none' && auth !== 'key') throw new TypeError(`admin.auth must be "none" or "key", not ${JSON.stringify(auth)}`)
  if (auth === 'key' && keys.length === 0) throw new TypeError('admin.auth is "key" but admin.keys is empty: refusing to serve an admin API that no key can open')
  if (auth === 'none' && keys.length > 0) throw new TypeError('admin.keys are set but admin.auth is "none": say "key" to require them')
  keys.forEach((key, i) => {
    if (typeof key !== 'string' || key === '') throw new TypeError(`admin.keys[${i}] must be a non-empty string`)
  })
  const keyHeader = (options.keyHeader ?? 'X-DGate-Key').toLowerCase()
  if (!HEADER_RE.test(keyHeader)) throw new TypeError(`admin.keyHeader must be a header name, not ${JSON.stringify(options.keyHeader)}`)
  const depth = options.xForwardedForDepth ?? 0
  if (!Number.isInteger(depth) || depth < 0) throw new TypeError(`admin.xForwardedForDepth must be an integer >= 0, not ${String(depth)}`)
  const maxBodySize = options.maxBodySize ?? 4 * 1024 * 1024
  if (!Number.isInteger(maxBodySize) || maxBodySize < 1) throw new TypeError(`admin.maxBodySize must be a positive integer, not ${String(maxBodySize)}`)
  return { auth, keys, keyHeader, allowList: options.allowList ?? (auth === 'none' ? LOOPBACK : []), xForwardedForDepth: depth, maxBodySize }
}
