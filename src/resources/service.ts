import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Duration, Name, Tags, toMilliseconds } from './fields.js'

/**
 * A service: the upstream URLs a route proxies to, and how to reach them.
 * Durations are in milliseconds; an absent timeout means none.
 * @public
 */
export interface Service {
  /** Unique name in the namespace. */
  name: string
  /** The namespace it belongs to. */
  namespace: string
  /** Upstream base URLs, balanced round robin; each URL's path and query are kept when proxying. */
  urls: string[]
  /** How many times a failed upstream attempt (connection error, or 503 with `Retry-After`) is retried. */
  retries: number
  /** Pause between attempts, in milliseconds. */
  retryTimeout?: number
  /** Limit on connecting to an upstream, in milliseconds. */
  connectTimeout?: number
  /** Limit on each attempt until the upstream's response headers arrive, in milliseconds; bodies are not cut. */
  requestTimeout?: number
  /** Accept any TLS certificate from `https`/`wss` upstreams. Unsafe outside tests. */
  tlsSkipVerify: boolean
  /** Speak HTTP/2 to the upstream, as `h2c://` URLs always do. */
  http2Only: boolean
  /** Do not add the `Via` and `X-DGate-*` headers. */
  hideDGateHeaders: boolean
  /** Drop the client's query string when proxying. */
  disableQueryParams: boolean
  /** Free-form labels. */
  tags: string[]
}

/**
 * Input for a service. Durations are milliseconds or strings like `"5s"`.
 * @public
 */
export interface ServiceSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** 1 to 256 upstream URLs: `http`, `https`, `ws`, `wss` or `h2c`, with a host, without credentials or fragment. */
  urls: string[]
  /** Retries after a failed attempt, 0 to 100 (default 3). */
  retries?: number
  /** Pause between attempts: milliseconds, or a string like `"250ms"` (default none). */
  retryTimeout?: number | string
  /** Limit on connecting to an upstream: milliseconds, or a string like `"5s"` (default none). */
  connectTimeout?: number | string
  /** Limit on each attempt until the upstream's response headers arrive: milliseconds, or a string like `"30s"` (default none). */
  requestTimeout?: number | string
  /** Accept any upstream TLS certificate (default false). Unsafe outside tests. */
  tlsSkipVerify?: boolean
  /** Speak HTTP/2 to the upstream (default false). */
  http2Only?: boolean
  /** Do not add the `Via` and `X-DGate-*` headers (default false). */
  hideDGateHeaders?: boolean
  /** Drop the client's query string when proxying (default false). */
  disableQueryParams?: boolean
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

const SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'h2c:'])

export const serviceKind = defineKind<ServiceSpec, Service>({
  kind: 'service',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      urls: Type.Array(Type.String(), { minItems: 1, maxItems: 256, errorMessage: 'must list 1 to 256 URLs' }),
      retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, errorMessage: 'must be an integer from 0 to 100' })),
      retryTimeout: Type.Optional(Duration),
      connectTimeout: Type.Optional(Duration),
      requestTimeout: Type.Optional(Duration),
      tlsSkipVerify: Type.Optional(Type.Boolean()),
      http2Only: Type.Optional(Type.Boolean()),
      hideDGateHeaders: Type.Optional(Type.Boolean()),
      disableQueryParams: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize(input, issues, ctx) {
    input.urls.forEach((raw, i) => {
      const reason = urlProblem(raw)
      if (reason) issues.push({ field: `urls[${i}]`, reason })
    })
    const service: Service = {
      name: input.name,
      namespace: namespaceOf(input, issues, ctx),
      urls: input.urls,
      retries: input.retries ?? 3,
      tlsSkipVerify: input.tlsSkipVerify ?? false,
      http2Only: input.http2Only ?? false,
      hideDGateHeaders: input.hideDGateHeaders ?? false,
      disableQueryParams: input.disableQueryParams ?? false,
      tags: input.tags ?? [],
    }
    if (input.retryTimeout !== undefined) service.retryTimeout = toMilliseconds(input.retryTimeout)
    if (input.connectTimeout !== undefined) service.connectTimeout = toMilliseconds(input.connectTimeout)
    if (input.requestTimeout !== undefined) service.requestTimeout = toMilliseconds(input.requestTimeout)
    return service
  },
})

function urlProblem(raw: string): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `is not a URL: "${raw}"`
  }
  if (!SCHEMES.has(url.protocol)) return `must use http, https, ws, wss or h2c, not "${url.protocol.slice(0, -1)}"`
  if (!url.hostname) return 'must name a host'
  if (url.username || url.password) return 'must not carry credentials (use a module to add auth headers)'
  if (url.hash) return 'must not have a fragment'
  return undefined
}
