import { request, type Dispatcher } from 'undici'
import type { ClusterStatus } from '../cluster/adapter.js'
import { DGateError } from '../errors.js'
import type { Document, DocumentSpec } from '../resources/document.js'
import type { NamespacedKind, ResourceSpecs } from '../resources/kinds.js'
import type { Namespace, NamespaceSpec } from '../resources/namespace.js'
import type { ResourceView } from '../state/resource-api.js'

/**
 * Options of {@link createAdminClient}.
 * @public
 */
export interface AdminClientOptions {
  /** API key sent on every request. */
  key?: string
  /** The header that carries the key (default `X-DGate-Key`). */
  keyHeader?: string
  /** An undici dispatcher (Agent, Pool, ProxyAgent…) to send requests through (default: undici's global one). */
  dispatcher?: Dispatcher
  /** Limit on each request until the response headers arrive, in ms (default 30 000). */
  timeout?: number
}

/**
 * The admin API refused a request: `message` and `status` are the server's.
 * @public
 */
export class AdminApiError extends DGateError {
  /** The request's method. */
  readonly method: string
  /** The request's path (with its query). */
  readonly path: string
  /** Builds the error from the server's `{error, status}` answer. */
  constructor(message: string, status: number, method: string, path: string) {
    super(message, status)
    this.method = method
    this.path = path
  }
}

/**
 * Conditional write: the version the resource must be at (its `ETag`, as `getVersioned` returns it).
 * @public
 */
export interface AdminWriteOptions {
  /** Sent as `If-Match`; a resource at another version (or missing) is refused with a 412 AdminApiError. */
  ifMatch?: number
}

/**
 * Read options of the admin client.
 * @public
 */
export interface AdminReadOptions {
  /** Namespace (default: the server's default namespace). */
  namespace?: string
  /** Read after every change committed before the request (a cluster barrier). */
  consistent?: boolean
}

/**
 * The admin client's methods for one namespaced kind.
 * @public
 */
export interface AdminResourceClient<K extends NamespacedKind> {
  /** Creates or replaces; resolves with the stored resource as reads show it. */
  put(spec: ResourceSpecs[K], options?: AdminWriteOptions): Promise<ResourceView<K>>
  /** One resource, or undefined when the server answers 404. */
  get(name: string, options?: AdminReadOptions): Promise<ResourceView<K> | undefined>
  /** One resource with its version (for `ifMatch`), or undefined when the server answers 404. */
  getVersioned(name: string, options?: AdminReadOptions): Promise<{ item: ResourceView<K>; version: number } | undefined>
  /** Every resource of the kind in a namespace, sorted by name. */
  list(options?: AdminReadOptions): Promise<ResourceView<K>[]>
  /** Deletes; a missing resource is a 404 AdminApiError. */
  delete(name: string, options?: { namespace?: string } & AdminWriteOptions): Promise<void>
}

/**
 * The admin client's namespace methods.
 * @public
 */
export interface AdminNamespaceClient {
  /** Creates or replaces a namespace. */
  put(spec: NamespaceSpec, options?: AdminWriteOptions): Promise<Namespace>
  /** One namespace, or undefined. */
  get(name: string, options?: { consistent?: boolean }): Promise<Namespace | undefined>
  /** One namespace with its version, or undefined. */
  getVersioned(name: string, options?: { consistent?: boolean }): Promise<{ item: Namespace; version: number } | undefined>
  /** Every namespace, sorted by name. */
  list(options?: { consistent?: boolean }): Promise<Namespace[]>
  /** Deletes an empty namespace. */
  delete(name: string, options?: AdminWriteOptions): Promise<void>
}

/**
 * The admin client's document methods.
 * @public
 */
export interface AdminDocumentClient {
  /** Creates or replaces a document; resolves with the stored document. */
  put(spec: DocumentSpec, options?: AdminWriteOptions): Promise<Document>
  /** One document, or undefined. */
  get(collection: string, id: string, options?: AdminReadOptions): Promise<Document | undefined>
  /** A page of a collection's documents sorted by id, and the collection's size. */
  list(collection: string, options?: AdminReadOptions & { limit?: number; offset?: number }): Promise<{ documents: Document[]; total: number }>
  /** Deletes a document. */
  delete(collection: string, id: string, options?: { namespace?: string } & AdminWriteOptions): Promise<void>
}

/**
 * A typed client of a dgate (or DGate) admin API.
 * @public
 */
export interface AdminClient {
  /** Namespaces. */
  readonly namespaces: AdminNamespaceClient
  /** Domains (reads never include the private key). */
  readonly domains: AdminResourceClient<'domain'>
  /** Services. */
  readonly services: AdminResourceClient<'service'>
  /** Routes. */
  readonly routes: AdminResourceClient<'route'>
  /** Modules (payloads travel as text). */
  readonly modules: AdminResourceClient<'module'>
  /** Collections. */
  readonly collections: AdminResourceClient<'collection'>
  /** Documents. */
  readonly documents: AdminDocumentClient
  /** Secrets (reads never include the data). */
  readonly secrets: AdminResourceClient<'secret'>
  /** `GET /api/v1/cluster`: the node's role, leader, term, indexes and members. */
  cluster(): Promise<ClusterStatus>
  /** `GET /healthz`. */
  health(): Promise<{ status: string }>
  /** `GET /readyz`: whether the node is ready (200), without throwing on 503. */
  ready(): Promise<boolean>
}

interface Answer {
  status: number
  etag: string | undefined
  body: unknown
}

const PATHS: Record<NamespacedKind, string> = { domain: 'domain', service: 'service', route: 'route', module: 'module', collection: 'collection', secret: 'secret' }

/**
 * A typed client of the admin API at `url` (e.g. `http://127.0.0.1:9080`, or a prefix the API is mounted under).
 * Every method rejects with an {@link AdminApiError} carrying the server's message and status; requests go through
 * undici.
 * @public
 */
export function createAdminClient(url: string, options: AdminClientOptions = {}): AdminClient {
  const base = new URL(url.includes('://') ? url : `http://${url}`)
  const prefix = base.pathname.replace(/\/+$/, '')
  const timeout = options.timeout ?? 30_000

  async function call(method: 'GET' | 'PUT' | 'DELETE', path: string, query: Record<string, string | number | boolean | undefined> = {}, body?: unknown, ifMatch?: number): Promise<Answer> {
    const target = new URL(`${prefix}${path}`, base)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) target.searchParams.set(k, String(v))
    const headers: Record<string, string> = { accept: 'application/json' }
    if (options.key !== undefined) headers[(options.keyHeader ?? 'X-DGate-Key').toLowerCase()] = options.key
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (ifMatch !== undefined) headers['if-match'] = `"${ifMatch}"`
    const res = await request(target, {
      method,
      headers,
      headersTimeout: timeout,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    })
    const text = await res.body.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    const shownPath = `${target.pathname}${target.search}`
    if (res.statusCode >= 300 && !(path === '/readyz' && res.statusCode === 503)) {
      const message = parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string' ? (parsed as { error: string }).error : `${res.statusCode} ${text.slice(0, 200).trim()}`
      throw new AdminApiError(message, res.statusCode, method, shownPath)
    }
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined
    return { status: res.statusCode, etag, body: parsed }
  }

  const data = <T>(answer: Answer): T => (answer.body as { data: T }).data
  const version = (answer: Answer): number => Number((answer.etag ?? '"0"').replace(/"/g, ''))
  const optional = async <T>(promise: Promise<T>): Promise<T | undefined> => {
    try {
      return await promise
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404) return undefined
      throw error
    }
  }

  function resource<K extends NamespacedKind>(kind: K): AdminResourceClient<K> {
    const path = `/api/v1/${PATHS[kind]}`
    const read = (name: string, o: AdminReadOptions) => call('GET', `${path}/${encodeURIComponent(name)}`, { namespace: o.namespace, consistent: o.consistent || undefined })
    return {
      async put(spec, o = {}) {
        const body = kind === 'module' ? { ...spec, payloadEncoding: 'text' } : spec
        const list = data<(ResourceView<K> & { name: string })[]>(await call('PUT', path, {}, body, o.ifMatch))
        return list.find((item) => item.name === (spec as { name: string }).name)!
      },
      get: (name, o = {}) => optional(read(name, o).then((a) => data<ResourceView<K>>(a))),
      getVersioned: (name, o = {}) => optional(read(name, o).then((a) => ({ item: data<ResourceView<K>>(a), version: version(a) }))),
      list: async (o = {}) => data<ResourceView<K>[]>(await call('GET', path, { namespace: o.namespace, consistent: o.consistent || undefined })),
      async delete(name, o = {}) {
        await call('DELETE', `${path}/${encodeURIComponent(name)}`, { namespace: o.namespace }, undefined, o.ifMatch)
      },
    }
  }

  const namespaces: AdminNamespaceClient = {
    async put(spec, o = {}) {
      const list = data<Namespace[]>(await call('PUT', '/api/v1/namespace', {}, spec, o.ifMatch))
      return list.find((ns) => ns.name === spec.name)!
    },
    get: (name, o = {}) => optional(call('GET', `/api/v1/namespace/${encodeURIComponent(name)}`, { consistent: o.consistent || undefined }).then((a) => data<Namespace>(a))),
    getVersioned: (name, o = {}) =>
      optional(call('GET', `/api/v1/namespace/${encodeURIComponent(name)}`, { consistent: o.consistent || undefined }).then((a) => ({ item: data<Namespace>(a), version: version(a) }))),
    list: async (o = {}) => data<Namespace[]>(await call('GET', '/api/v1/namespace', { consistent: o.consistent || undefined })),
    async delete(name, o = {}) {
      await call('DELETE', `/api/v1/namespace/${encodeURIComponent(name)}`, {}, undefined, o.ifMatch)
    },
  }

  const documents: AdminDocumentClient = {
    put: async (spec, o = {}) => data<Document>(await call('PUT', '/api/v1/document', {}, spec, o.ifMatch)),
    get: (collection, id, o = {}) =>
      optional(call('GET', `/api/v1/document/${encodeURIComponent(id)}`, { collection, namespace: o.namespace, consistent: o.consistent || undefined }).then((a) => data<Document>(a))),
    async list(collection, o = {}) {
      const answer = await call('GET', '/api/v1/document', { collection, namespace: o.namespace, limit: o.limit, offset: o.offset, consistent: o.consistent || undefined })
      return { documents: data<Document[]>(answer), total: (answer.body as { total: number }).total }
    },
    async delete(collection, id, o = {}) {
      await call('DELETE', `/api/v1/document/${encodeURIComponent(id)}`, { collection, namespace: o.namespace }, undefined, o.ifMatch)
    },
  }

  return {
    namespaces,
    domains: resource('domain'),
    services: resource('service'),
    routes: resource('route'),
    modules: resource('module'),
    collections: resource('collection'),
    documents,
    secrets: resource('secret'),
    cluster: async () => data<ClusterStatus>(await call('GET', '/api/v1/cluster')),
    health: async () => (await call('GET', '/healthz')).body as { status: string },
    ready: async () => (await call('GET', '/readyz')).status === 200,
  }
}
