import type { ClusterAdapter } from '../cluster/adapter.js'
import type { Document, DocumentSpec } from '../resources/document.js'
import type { DomainInfo } from '../resources/domain.js'
import { KINDS, type NamespacedKind, type ResourceKind, type ResourceSpecs, type ResourceTypes } from '../resources/kinds.js'
import type { Namespace, NamespaceSpec } from '../resources/namespace.js'
import type { SecretInfo } from '../resources/secret.js'
import type { Change } from './change.js'
import type { Page, Snapshot } from './snapshot.js'

/**
 * What reads return for each kind: secrets without data, domains without their private key.
 * @public
 */
export type ResourceView<K extends ResourceKind> = K extends 'secret' ? SecretInfo : K extends 'domain' ? DomainInfo : ResourceTypes[K]

/**
 * Read options.
 * @public
 */
export interface ReadOptions {
  /** Namespace of the resource (default: `default`). */
  namespace?: string
  /** Wait until this node has applied every change committed before the read (matters in a cluster). */
  consistent?: boolean
}

/**
 * Options of conditional writes.
 * @public
 */
export interface WriteOptions {
  /**
   * Refuse the write with a PreconditionFailedError (412) unless the resource exists at exactly this version
   * (`Snapshot.versionOf`, the log index of the change that last wrote it). Checked atomically with the write.
   */
  expectedVersion?: number
}

/**
 * The typed API of one namespaced kind. Writes resolve after the change is durable and applied.
 * @public
 */
export interface ResourceApi<K extends NamespacedKind> {
  /** Creates or replaces; rejects with a ValidationError, ConflictError or NotFoundError and changes nothing. */
  put(spec: ResourceSpecs[K], options?: WriteOptions): Promise<ResourceView<K>>
  /** One resource by name, or undefined when there is none. */
  get(name: string, options?: ReadOptions): Promise<ResourceView<K> | undefined>
  /** Sorted by name; all namespaces when `namespace` is omitted and `all` is set. */
  list(options?: ReadOptions & { all?: boolean }): Promise<ResourceView<K>[]>
  /** Deletes by name; rejects with a NotFoundError when missing, or a ConflictError while in use (a service or module by routes, a collection by documents). */
  delete(name: string, options?: { namespace?: string } & WriteOptions): Promise<void>
}

/**
 * The namespaces API.
 * @public
 */
export interface NamespaceApi {
  /** Creates or replaces a namespace; replacing keeps everything in it. */
  put(spec: NamespaceSpec, options?: WriteOptions): Promise<Namespace>
  /** One namespace, or undefined; `consistent` as in {@link ReadOptions}. */
  get(name: string, options?: { consistent?: boolean }): Promise<Namespace | undefined>
  /** Every namespace, sorted by name. */
  list(options?: { consistent?: boolean }): Promise<Namespace[]>
  /** Deletes an empty namespace; rejects with a ConflictError naming what is still in it, or a NotFoundError. */
  delete(name: string, options?: WriteOptions): Promise<void>
}

/**
 * The documents API. Data is validated against the collection's JSON Schema on every write.
 * @public
 */
export interface DocumentApi {
  /** Creates or replaces a document; resolves with the stored document and the server's timestamps. */
  put(spec: DocumentSpec, options?: WriteOptions): Promise<Document>
  /** One document, or undefined when there is none. */
  get(collection: string, id: string, options?: ReadOptions): Promise<Document | undefined>
  /** A collection's documents sorted by id, paged (default limit 100). */
  list(collection: string, options?: ReadOptions & Page): Promise<Document[]>
  /** Deletes a document; rejects with a NotFoundError when it does not exist. */
  delete(collection: string, id: string, options?: { namespace?: string } & WriteOptions): Promise<void>
}

/** What the resource APIs need from the gateway. */
export interface ResourceContext {
  readonly cluster: ClusterAdapter
  readonly snapshot: () => Snapshot
  /** undefined when the default namespace is disabled. */
  readonly defaultNamespace: string | undefined
  /** Clock for document timestamps. */
  readonly now: () => string
}

export function resourceApi<K extends NamespacedKind>(kind: K, ctx: ResourceContext): ResourceApi<K> {
  const view = (item: ResourceTypes[K]) => toView(kind, item)
  return {
    async put(spec, options = {}) {
      const item = KINDS[kind].parse(spec, { defaultNamespace: ctx.defaultNamespace }) as ResourceTypes[K]
      const { name, namespace } = item as { name: string; namespace: string }
      await ctx.cluster.propose({ kind, op: 'put', namespace, name, item, ...expected(options) } as Change)
      return view(item)
    },
    async get(name, options = {}) {
      const snapshot = await read(ctx, options)
      const item = snapshot.get(kind, namespaceFor(ctx, options), name)
      return item && view(item)
    },
    async list(options = {}) {
      const snapshot = await read(ctx, options)
      const ns = options.all && options.namespace === undefined ? undefined : namespaceFor(ctx, options)
      return snapshot.list(kind, ns).map(view)
    },
    async delete(name, options = {}) {
      await ctx.cluster.propose({ kind, op: 'delete', namespace: namespaceFor(ctx, options), name, ...expected(options) } as Change)
    },
  }
}

export function namespaceApi(ctx: ResourceContext): NamespaceApi {
  return {
    async put(spec, options = {}) {
      const item = KINDS.namespace.parse(spec, { defaultNamespace: undefined })
      await ctx.cluster.propose({ kind: 'namespace', op: 'put', namespace: item.name, name: item.name, item, ...expected(options) })
      return item
    },
    async get(name, options = {}) {
      return (await read(ctx, options)).namespace(name)
    },
    async list(options = {}) {
      return (await read(ctx, options)).listNamespaces()
    },
    async delete(name, options = {}) {
      await ctx.cluster.propose({ kind: 'namespace', op: 'delete', namespace: name, name, ...expected(options) })
    },
  }
}

export function documentApi(ctx: ResourceContext): DocumentApi {
  return {
    async put(spec, options = {}) {
      const parsed = KINDS.document.parse(spec, { defaultNamespace: ctx.defaultNamespace })
      const now = ctx.now()
      // The apply keeps createdAt of a replaced document; computing it here too lets put answer without a read-back.
      const previous = ctx.snapshot().document(parsed.namespace, parsed.collection, parsed.id)
      const item: Document = { ...parsed, createdAt: now, updatedAt: now }
      await ctx.cluster.propose({ kind: 'document', op: 'put', namespace: item.namespace, name: item.id, collection: item.collection, item, ...expected(options) })
      return previous ? { ...item, createdAt: previous.createdAt } : item
    },
    async get(collection, id, options = {}) {
      return (await read(ctx, options)).document(namespaceFor(ctx, options), collection, id)
    },
    async list(collection, options = {}) {
      return (await read(ctx, options)).listDocuments(namespaceFor(ctx, options), collection, options)
    },
    async delete(collection, id, options = {}) {
      await ctx.cluster.propose({ kind: 'document', op: 'delete', namespace: namespaceFor(ctx, options), name: id, collection, ...expected(options) })
    },
  }
}

/** The change field for a conditional write; absent (not undefined) otherwise, so logged changes stay unchanged. */
function expected(options: WriteOptions): { expectedVersion?: number } {
  if (options.expectedVersion === undefined) return {}
  if (!Number.isSafeInteger(options.expectedVersion) || options.expectedVersion < 0) {
    throw new TypeError(`expectedVersion must be an integer >= 0, not ${String(options.expectedVersion)}`)
  }
  return { expectedVersion: options.expectedVersion }
}

async function read(ctx: ResourceContext, options: { consistent?: boolean }): Promise<Snapshot> {
  if (options.consistent) await ctx.cluster.barrier()
  return ctx.snapshot()
}

function namespaceFor(ctx: ResourceContext, options: { namespace?: string }): string {
  const ns = options.namespace ?? ctx.defaultNamespace
  if (ns === undefined) throw new TypeError('namespace is required: the default namespace is disabled')
  return ns
}

/** Strips write-only material from what reads return. */
export function toView<K extends ResourceKind>(kind: K, item: ResourceTypes[K]): ResourceView<K> {
  if (kind === 'secret') {
    const { data: _data, ...info } = item as ResourceTypes['secret']
    return info as ResourceView<K>
  }
  if (kind === 'domain') {
    const { key: _key, ...info } = item as ResourceTypes['domain']
    return info as ResourceView<K>
  }
  return item as ResourceView<K>
}
