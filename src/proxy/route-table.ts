import type { Route } from '../resources/route.js'
import { createNamespaceResolver, type NamespaceResolver } from '../routing/namespace-resolver.js'
import { compileRouter, type PathRouter, type RouteMatch } from '../routing/path-router.js'
import type { Snapshot } from '../state/snapshot.js'

/** What a matched path leads to. */
export interface RouteTarget {
  readonly route: Route
}

// Routers by the namespace's route map: maps are immutable and shared by snapshots until a route of that
// namespace changes, so an unrelated change (a document, another namespace) reuses the compiled router.
const routers = new WeakMap<ReadonlyMap<string, Route>, PathRouter<RouteTarget>>()

function routerFor(routes: ReadonlyMap<string, Route>): PathRouter<RouteTarget> {
  let router = routers.get(routes)
  if (!router) {
    const registrations = []
    for (const route of routes.values()) {
      const target: RouteTarget = { route }
      for (const pattern of route.paths) registrations.push({ pattern, methods: route.methods, value: target })
    }
    router = compileRouter(registrations)
    routers.set(routes, router)
  }
  return router
}

const NOT_FOUND: RouteMatch<RouteTarget> = Object.freeze({ kind: 'not-found' })

/**
 * The data plane's view of one snapshot: which namespace a host goes to and which route serves a path.
 * Built once per snapshot and swapped atomically; requests in flight keep the table they started with.
 */
export class RouteTable {
  readonly snapshot: Snapshot
  readonly #resolve: NamespaceResolver
  /** What the resolver was built from: each namespace's domain map, by identity. */
  readonly #domainInputs: ReadonlyMap<string, unknown>

  private constructor(snapshot: Snapshot, resolve: NamespaceResolver, domainInputs: ReadonlyMap<string, unknown>) {
    this.snapshot = snapshot
    this.#resolve = resolve
    this.#domainInputs = domainInputs
  }

  /** Builds the table for `snapshot`, reusing what `previous` compiled when its inputs are unchanged. */
  static build(snapshot: Snapshot, previous?: RouteTable): RouteTable {
    const inputs = new Map<string, unknown>()
    for (const [name, ns] of snapshot.namespaces) inputs.set(name, ns.domain)
    const reuse = previous !== undefined && sameInputs(previous.#domainInputs, inputs)
    const resolve = reuse ? previous.#resolve : createNamespaceResolver(snapshot.list('domain'), [...inputs.keys()])
    return new RouteTable(snapshot, resolve, inputs)
  }

  /**
   * The table for a snapshot that differs from this one's only in what namespace resolution doesn't read (no
   * domain or namespace changed): routes are matched against the new snapshot, the resolver is kept.
   */
  withSnapshot(snapshot: Snapshot): RouteTable {
    return new RouteTable(snapshot, this.#resolve, this.#domainInputs)
  }

  /** The namespace for a normalized host (port stripped, lower case), or undefined for 404. */
  namespaceFor(host: string): string | undefined {
    return this.#resolve(host)
  }

  /** Matches a raw path (no query) in a namespace. */
  match(namespace: string, method: string, path: string): RouteMatch<RouteTarget> {
    const ns = this.snapshot.namespaces.get(namespace)
    if (!ns || ns.route.size === 0) return NOT_FOUND
    return routerFor(ns.route).match(method, path)
  }
}

function sameInputs(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false
  for (const [key, value] of a) if (b.get(key) !== value) return false
  return true
}
