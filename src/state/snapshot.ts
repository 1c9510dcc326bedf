import type { Document } from '../resources/document.js'
import type { NamespacedKind, ResourceKind, ResourceOf } from '../resources/kinds.js'
import type { Namespace } from '../resources/namespace.js'
import { PersistentMap } from './persistent-map.js'

/**
 * Everything in one namespace. Maps are never mutated once a snapshot is published.
 * @public
 */
export interface NamespaceState {
  /** The namespace resource itself. */
  readonly namespace: Namespace
  /** Domains by name, private keys included. */
  readonly domain: ReadonlyMap<string, ResourceOf<'domain'>>
  /** Services by name. */
  readonly service: ReadonlyMap<string, ResourceOf<'service'>>
  /** Modules by name. */
  readonly module: ReadonlyMap<string, ResourceOf<'module'>>
  /** Routes by name. */
  readonly route: ReadonlyMap<string, ResourceOf<'route'>>
  /** Collections by name. */
  readonly collection: ReadonlyMap<string, ResourceOf<'collection'>>
  /** Secrets by name, data included: never hand these out. */
  readonly secret: ReadonlyMap<string, ResourceOf<'secret'>>
  /** Documents by collection name, then by id. */
  readonly documents: ReadonlyMap<string, ReadonlyMap<string, Document>>
  /**
   * The log index of the change that last wrote each resource of this namespace, by {@link versionKey}. A resource
   * that exists without an entry (the built-in `default` namespace) is at version 0.
   */
  readonly versions: ReadonlyMap<string, number>
  /** Derived from `route`: who serves each method of each path (parameter names erased), to refuse duplicates. */
  readonly routeIndex: ReadonlyMap<string, readonly RouteSlot[]>
}

/**
 * One method of one path of a route, as indexed for duplicate detection.
 * @public
 */
export interface RouteSlot {
  /** An upper-case method, or `'*'` for any. */
  readonly method: string
  /** The path as the route wrote it. */
  readonly path: string
  /** The name of the route that serves it. */
  readonly route: string
}

/**
 * Paging for lists.
 * @public
 */
export interface Page {
  /** At most this many (default 100). */
  limit?: number
  /** Skip this many first (default 0). */
  offset?: number
}

/**
 * The key of a resource in {@link NamespaceState.versions}: `namespace` for the namespace itself, `kind/name` for
 * namespaced kinds and `document/collection/id` for documents (names never contain `/`).
 * @public
 */
export function versionKey(kind: ResourceKind, name: string, collection?: string): string {
  if (kind === 'namespace') return 'namespace'
  return kind === 'document' ? `document/${collection ?? ''}/${name}` : `${kind}/${name}`
}

const EMPTY: ReadonlyMap<string, never> = PersistentMap.empty<never>()
// Published maps are immutable, so their sorted keys can be cached by identity.
const sortedKeys = new WeakMap<ReadonlyMap<string, unknown>, string[]>()

/**
 * An immutable, versioned view of the whole gateway state. A new snapshot is made for every applied change;
 * unchanged namespaces and maps are shared between snapshots.
 * @public
 */
export class Snapshot {
  /** The log index of the last change applied (0 for the initial state). */
  readonly version: number
  /** Each namespace's state, by namespace name. */
  readonly namespaces: ReadonlyMap<string, NamespaceState>

  /** Made by the gateway for every applied change; apps read `Gateway.snapshot` instead of building one. */
  constructor(version: number, namespaces: ReadonlyMap<string, NamespaceState>) {
    this.version = version
    this.namespaces = namespaces
  }

  /** The namespace resource, or undefined. */
  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name)?.namespace
  }

  /** Every namespace, sorted by name. */
  listNamespaces(): Namespace[] {
    return keysOf(this.namespaces).map((name) => this.namespaces.get(name)!.namespace)
  }

  /** One resource of a namespaced kind, or undefined. */
  get<K extends NamespacedKind>(kind: K, namespace: string, name: string): ResourceOf<K> | undefined {
    return (this.namespaces.get(namespace)?.[kind] as ReadonlyMap<string, ResourceOf<K>> | undefined)?.get(name)
  }

  /** Resources of a kind sorted by name: in one namespace, or in all (sorted by namespace, then name). */
  list<K extends NamespacedKind>(kind: K, namespace?: string): ResourceOf<K>[] {
    const names = namespace === undefined ? keysOf(this.namespaces) : [namespace]
    const out: ResourceOf<K>[] = []
    for (const ns of names) {
      const map = this.namespaces.get(ns)?.[kind] as ReadonlyMap<string, ResourceOf<K>> | undefined
      if (map) for (const name of keysOf(map)) out.push(map.get(name)!)
    }
    return out
  }

  /** One document, or undefined. */
  document(namespace: string, collection: string, id: string): Document | undefined {
    return this.namespaces.get(namespace)?.documents.get(collection)?.get(id)
  }

  /** Documents of a collection sorted by id, paged. */
  listDocuments(namespace: string, collection: string, page: Page = {}): Document[] {
    const map = this.namespaces.get(namespace)?.documents.get(collection) ?? EMPTY
    const offset = Math.max(0, page.offset ?? 0)
    const limit = Math.max(0, page.limit ?? 100)
    return keysOf(map)
      .slice(offset, offset + limit)
      .map((id) => map.get(id)!)
  }

  /**
   * The version of a resource (the log index of the change that last wrote it; 0 for a resource that was never
   * written through the log), or undefined when it does not exist. For documents, `name` is the id.
   */
  versionOf(kind: ResourceKind, namespace: string, name: string, collection?: string): number | undefined {
    const ns = this.namespaces.get(kind === 'namespace' ? name : namespace)
    if (!ns) return undefined
    let exists: boolean
    if (kind === 'namespace') exists = true
    else if (kind === 'document') exists = ns.documents.get(collection ?? '')?.has(name) ?? false
    else exists = ns[kind].has(name)
    return exists ? (ns.versions.get(versionKey(kind, name, collection)) ?? 0) : undefined
  }

  /** How many documents a collection holds. */
  countDocuments(namespace: string, collection: string): number {
    return this.namespaces.get(namespace)?.documents.get(collection)?.size ?? 0
  }
}

function keysOf(map: ReadonlyMap<string, unknown>): string[] {
  let keys = sortedKeys.get(map)
  if (!keys) {
    keys = [...map.keys()].sort(byCodeUnit)
    sortedKeys.set(map, keys)
  }
  return keys
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** An empty namespace state. */
export function emptyNamespace(namespace: Namespace): NamespaceState {
  return { namespace, domain: EMPTY, service: EMPTY, module: EMPTY, route: EMPTY, collection: EMPTY, secret: EMPTY, documents: EMPTY, versions: EMPTY, routeIndex: EMPTY }
}
