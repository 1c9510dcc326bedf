import type { ClusterAdapter } from '../cluster/adapter.js'
import type { NamespacedKind } from '../resources/kinds.js'
import type { DocumentApi, NamespaceApi, ResourceApi } from '../state/resource-api.js'
import type { Snapshot } from '../state/snapshot.js'

/** What the admin API serves from: the gateway's resource APIs, its current snapshot and its cluster. */
export interface AdminBackend {
  readonly namespaces: NamespaceApi
  readonly domains: ResourceApi<'domain'>
  readonly services: ResourceApi<'service'>
  readonly routes: ResourceApi<'route'>
  readonly modules: ResourceApi<'module'>
  readonly collections: ResourceApi<'collection'>
  readonly documents: DocumentApi
  readonly secrets: ResourceApi<'secret'>
  readonly snapshot: Snapshot
  readonly cluster: ClusterAdapter
  /** The namespace used when a request names none; undefined when the default namespace is disabled. */
  readonly defaultNamespace: string | undefined
}

/** The resource API of a namespaced kind. */
export function apiFor<K extends NamespacedKind>(backend: AdminBackend, kind: K): ResourceApi<K> {
  const apis: { [P in NamespacedKind]: ResourceApi<P> } = {
    domain: backend.domains,
    service: backend.services,
    route: backend.routes,
    module: backend.modules,
    collection: backend.collections,
    secret: backend.secrets,
  }
  return apis[kind] as ResourceApi<K>
}
