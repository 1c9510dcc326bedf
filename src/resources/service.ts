import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Duration, Name, Tags, toMilliseconds } from './fields.js'

/**
 * A service: the upstream URLs a route proxies to, and how to reach them.
 * Durations are in milliseconds; an absent timeout means none.
 * @public
 */
export interface Service {
  name: string
  namespace: string
  urls: string[]
  retries: number
  retryTimeout?: number
  connectTimeout?: number
  requestTimeout?: number
  tlsSkipVerify: boolean
  http2Only: boolean
  hideDGateHeaders: boolean
  disableQueryParams: boolean
  tags: string[]
}

/**
 * Input for a service. Durations are milliseconds or strings like `"5s"`.
 * @public
 */
export interface ServiceSpec {
  name: string
  namespace?: string
  urls: string[]
  retries?: number
  retryTimeout?: number | string
  connectTimeout?: number | string
  requestTimeout?: number | string
  tlsSkipVerify?: boolean
  http2Only?: boolean
  hideDGateHeaders?: boolean
  disableQueryParams?: boolean
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
