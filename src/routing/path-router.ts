import { PatternError } from './errors.js'
import { expandMethods, sortMethods } from './methods.js'
import { parsePathPattern } from './path-pattern.js'
import type { ParsedPathPattern } from './path-pattern.js'
import { RouteNode } from './route-tree.js'
import type { Endpoint } from './route-tree.js'
import { matchSegment } from './segment-match.js'

/** One route path to register: `methods` is `['*']` or upper-case method names. */
export interface RouteRegistration<V> {
  readonly pattern: string
  readonly methods: readonly string[]
  readonly value: V
}

/** A path and method that matched a route. */
export interface RouteFound<V> {
  readonly kind: 'found'
  readonly value: V
  /** The registered pattern that matched, as written. */
  readonly pattern: string
  /**
   * Percent-decoded parameter values by name; the catch-all remainder is under `*`. A fresh
   * object per match, except for patterns without parameters, which share one frozen empty object.
   */
  readonly params: Readonly<Record<string, string>>
  /**
   * Where the raw (still encoded) unmatched remainder starts in the path: the start of the
   * catch-all value, or the path's length when the pattern has no catch-all. `stripPath`
   * keeps `path.slice(restStart)`.
   */
  readonly restStart: number
}

/** The path matched but not with this method: answer 405 with this `Allow` list. */
export interface RouteMethodNotAllowed {
  readonly kind: 'method-not-allowed'
  readonly allow: readonly string[]
}

/** No pattern matches the path: answer 404. */
export interface RouteNotFound {
  readonly kind: 'not-found'
}

/** The outcome of {@link PathRouter.match}. */
export type RouteMatch<V> = RouteFound<V> | RouteMethodNotAllowed | RouteNotFound

const NOT_FOUND: RouteNotFound = Object.freeze({ kind: 'not-found' })

/**
 * An immutable router over chi path patterns; build one with {@link compileRouter}.
 *
 * @remarks
 * A segment tree: at each node, a literal segment is tried first, then segments with
 * parameters (literal text before regex parameters before plain ones), then the `*`
 * catch-all, backtracking when a branch fails, so `/a/{x}/c` and `/a/b/{y}` both match.
 * A branch whose path matches but whose methods don't is remembered and the search goes on;
 * if nothing serves the method, the result is 405 with the union of those branches' methods.
 * A node with a GET route and no HEAD route serves HEAD with the GET route (and lists HEAD
 * in `Allow`).
 */
export interface PathRouter<V> {
  /**
   * Finds the route for a request.
   *
   * @param method - the request method, upper-case as received
   * @param path - the raw request path without the query string, as received (percent-encoded)
   * @returns found, method-not-allowed or not-found; a path not starting with `/` is not found
   */
  match(method: string, path: string): RouteMatch<V>
}

/**
 * The {@link PathRouter} implementation. Patterns without parameters are also kept in a map
 * from their exact path to precomputed results, which answers most static requests without
 * walking the tree or allocating.
 */
class TreeRouter<V> implements PathRouter<V> {
  private readonly root: RouteNode<V>
  private readonly exact: ReadonlyMap<string, ReadonlyMap<string, RouteFound<V>>>
  // Scratch state of the current match; `match` is synchronous so one set per router is enough.
  // `bounds[0, top)` holds [start, end) pairs of the values captured on the current branch.
  private readonly bounds: number[] = []
  private top = 0
  private readonly misses: RouteNode<V>[] = []
  private missCount = 0
  private method = ''

  constructor(root: RouteNode<V>, exact: ReadonlyMap<string, ReadonlyMap<string, RouteFound<V>>>) {
    this.root = root
    this.exact = exact
  }

  match(method: string, path: string): RouteMatch<V> {
    if (path.charCodeAt(0) !== 0x2f) return NOT_FOUND
    // A pattern without parameters that equals the path is always the first candidate of the
    // tree walk (literal segments are tried first at every level), so look it up directly.
    const hit = this.exact.get(path)?.get(method)
    if (hit !== undefined) return hit
    this.method = method
    this.top = 0
    this.missCount = 0
    const endpoint = this.find(this.root, path, 1)
    if (endpoint !== undefined) return this.found(endpoint, path)
    if (this.missCount === 0) return NOT_FOUND
    const allow = this.missCount === 1 ? (this.misses[0] as RouteNode<V>).allow : this.mergedAllow()
    return { kind: 'method-not-allowed', allow }
  }

  /** Tries the children of `node` on the segment starting at `pos`. */
  private find(node: RouteNode<V>, path: string, pos: number): Endpoint<V> | undefined {
    let end = path.indexOf('/', pos)
    if (end < 0) end = path.length

    const child = lookupStatic(node, path, pos, end)
    if (child !== undefined) {
      const hit = this.descend(child, path, end)
      if (hit !== undefined) return hit
    }

    const dynamic = node.dynamic
    if (dynamic.length > 0) {
      const mark = this.top
      for (let i = 0; i < dynamic.length; i++) {
        const edge = dynamic[i] as (typeof dynamic)[number]
        const top = matchSegment(edge.parts, path, pos, end, this.bounds, mark)
        if (top >= 0) {
          this.top = top
          const hit = this.descend(edge.node, path, end)
          if (hit !== undefined) return hit
          this.top = mark
        }
      }
    }

    const catchAll = node.catchAll
    if (catchAll !== undefined) {
      const mark = this.top
      this.bounds[mark] = pos
      this.bounds[mark + 1] = path.length
      this.top = mark + 2
      const hit = this.endpointOf(catchAll)
      if (hit !== undefined) return hit
      this.top = mark
    }
    return undefined
  }

  /** Continues after a segment that ended at `end`: either the path ends there or a `/` follows. */
  private descend(node: RouteNode<V>, path: string, end: number): Endpoint<V> | undefined {
    return end === path.length ? this.endpointOf(node) : this.find(node, path, end + 1)
  }

  private endpointOf(node: RouteNode<V>): Endpoint<V> | undefined {
    const handlers = node.handlers
    if (handlers === undefined) return undefined
    const endpoint = handlers.get(this.method)
    if (endpoint === undefined) this.misses[this.missCount++] = node
    return endpoint
  }

  private found(endpoint: Endpoint<V>, path: string): RouteFound<V> {
    const bounds = this.bounds
    const names = endpoint.paramNames
    const params: Record<string, string> = {}
    for (let i = 0; i < names.length; i++) {
      params[names[i] as string] = decodeParam(path.slice(bounds[2 * i], bounds[2 * i + 1]))
    }
    const restStart = endpoint.catchAll ? (bounds[this.top - 2] as number) : path.length
    return { kind: 'found', value: endpoint.value, pattern: endpoint.pattern, params, restStart }
  }

  private mergedAllow(): readonly string[] {
    const methods = new Set<string>()
    for (let i = 0; i < this.missCount; i++) for (const m of (this.misses[i] as RouteNode<V>).allow) methods.add(m)
    return sortMethods(methods)
  }
}

function lookupStatic<V>(node: RouteNode<V>, path: string, pos: number, end: number): RouteNode<V> | undefined {
  const map = node.staticMap
  if (map !== undefined) return map.get(path.slice(pos, end))
  const keys = node.staticKeys
  const length = end - pos
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (key.length === length && path.startsWith(key, pos)) return node.staticNodes[i]
  }
  return undefined
}

/** Percent-decodes a parameter value; a value with a malformed escape is returned as received. */
function decodeParam(raw: string): string {
  if (raw.indexOf('%') < 0) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({})

/** Precomputed, frozen results for the paths of patterns without parameters, by path and method. */
function exactResults<V>(staticPaths: ReadonlyMap<string, RouteNode<V>>): Map<string, Map<string, RouteFound<V>>> {
  const byPath = new Map<string, Map<string, RouteFound<V>>>()
  for (const [path, node] of staticPaths) {
    const byMethod = new Map<string, RouteFound<V>>()
    for (const [method, e] of node.handlers ?? []) {
      byMethod.set(
        method,
        Object.freeze({ kind: 'found', value: e.value, pattern: e.pattern, params: NO_PARAMS, restStart: path.length }),
      )
    }
    byPath.set(path, byMethod)
  }
  return byPath
}

/** The exact path a pattern without parameters matches, or `undefined` when it has some. */
function literalPath(parsed: ParsedPathPattern): string | undefined {
  let path = ''
  for (const segment of parsed.segments) {
    if (segment.kind !== 'static') return undefined
    path += '/' + segment.text
  }
  return path
}

/**
 * Compiles route registrations into a {@link PathRouter}.
 *
 * @remarks
 * Registration order does not affect matching. Fails on the first invalid registration, so a
 * namespace's route table is either entirely valid or refused.
 *
 * @param routes - the registrations (each pattern parsed by {@link parsePathPattern})
 * @returns the router
 * @throws {@link PatternError} for an invalid pattern or method list, and
 * {@link RouteConflictError} (a `PatternError`) when a method and pattern are registered twice,
 * including patterns equal apart from parameter names and `*` overlapping a listed method
 */
export function compileRouter<V>(routes: Iterable<RouteRegistration<V>>): PathRouter<V> {
  const root = new RouteNode<V>()
  const staticPaths = new Map<string, RouteNode<V>>()
  for (const route of routes) {
    if (typeof route.pattern !== 'string') throw new PatternError(String(route.pattern), 'pattern must be a string')
    const methods = expandMethods(route.pattern, route.methods)
    const parsed = parsePathPattern(route.pattern)
    const node = root.insert(parsed, methods, route.value)
    const literal = literalPath(parsed)
    if (literal !== undefined) staticPaths.set(literal, node)
  }
  root.finalize()
  return new TreeRouter(root, exactResults(staticPaths))
}
