import Type from 'typebox'
import { PatternError } from '../routing/errors.js'
import { parsePathPattern } from '../routing/path-pattern.js'
import { defineKind, namespaceOf, noDuplicates } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * The HTTP methods a route can name; `'*'` alone means any method.
 * @public
 */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'] as const

/**
 * A route: paths and methods in a namespace, served by a service and/or modules.
 * @public
 */
export interface Route {
  /** Unique name in the namespace. */
  name: string
  /** The namespace it belongs to. */
  namespace: string
  /** chi patterns: `/users/{id}`, `/files/*`, `/n/{id:[0-9]+}`. */
  paths: string[]
  /** Upper-case methods, or `['*']` for any. */
  methods: string[]
  /** The service in the same namespace that requests are proxied to; without one, a module must handle the request. */
  service?: string
  /** Module names; the first is the entry module, the others can be imported by name. */
  modules: string[]
  /** Remove the matched path prefix (the part before a trailing `*`) before proxying. */
  stripPath: boolean
  /** Send the client's `Host` header upstream instead of the service URL's host. */
  preserveHost: boolean
  /** Free-form labels. */
  tags: string[]
}

/**
 * Input for a route.
 * @public
 */
export interface RouteSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** 1 to 256 path patterns (see `Route.paths`); no two routes in a namespace may serve the same method and path. */
  paths: string[]
  /** 1 to 16 methods from {@link HTTP_METHODS}, or `*` alone for any method. */
  methods: string[]
  /** A service in the same namespace to proxy to; without one, a module must handle the request. */
  service?: string
  /** Up to 64 modules of the same namespace, in order: the first is the entry module (default none). */
  modules?: string[]
  /** Remove the matched path prefix before proxying (default false). */
  stripPath?: boolean
  /** Send the client's `Host` header upstream (default false). */
  preserveHost?: boolean
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

const METHODS = new Set<string>(HTTP_METHODS)

export const routeKind = defineKind<RouteSpec, Route>({
  kind: 'route',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      paths: Type.Array(Type.String({ maxLength: 2048 }), { minItems: 1, maxItems: 256, errorMessage: 'must list 1 to 256 paths' }),
      methods: Type.Array(Type.String(), { minItems: 1, maxItems: 16, errorMessage: 'must list 1 to 16 methods' }),
      service: Type.Optional(Name),
      modules: Type.Optional(Type.Array(Name, { maxItems: 64 })),
      stripPath: Type.Optional(Type.Boolean()),
      preserveHost: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize(input, issues, ctx) {
    input.paths.forEach((path, i) => {
      try {
        parsePathPattern(path)
      } catch (err) {
        if (!(err instanceof PatternError)) throw err
        issues.push({ field: `paths[${i}]`, reason: err.reason })
      }
    })
    noDuplicates('paths', input.paths, issues)
    input.methods.forEach((method, i) => {
      if (method === '*') {
        if (input.methods.length > 1) issues.push({ field: `methods[${i}]`, reason: '"*" must be the only method' })
      } else if (!METHODS.has(method)) {
        issues.push({ field: `methods[${i}]`, reason: `must be "*" or one of ${HTTP_METHODS.join(', ')}, not "${method}"` })
      }
    })
    noDuplicates('methods', input.methods, issues)
    const modules = input.modules ?? []
    noDuplicates('modules', modules, issues)
    const route: Route = {
      name: input.name,
      namespace: namespaceOf(input, issues, ctx),
      paths: input.paths,
      methods: input.methods,
      modules,
      stripPath: input.stripPath ?? false,
      preserveHost: input.preserveHost ?? false,
      tags: input.tags ?? [],
    }
    if (input.service !== undefined) route.service = input.service
    return route
  },
})

/**
 * The pattern with parameter names erased (`/u/{id}` and `/u/{uid}` match the same requests), used to refuse
 * two routes serving the same method and path.
 */
export function canonicalPath(pattern: string): string {
  return parsePathPattern(pattern)
    .segments.map((segment) => {
      if (segment.kind === 'static') return segment.text
      if (segment.kind === 'catch-all') return '*'
      return segment.parts.map((part) => (part.kind === 'static' ? part.text : `{${part.source === undefined ? '' : `:${part.source}`}}`)).join('')
    })
    .join('/')
}
