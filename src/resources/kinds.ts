import type { Collection, CollectionSpec } from './collection.js'
import { collectionKind } from './collection.js'
import type { KindDefinition } from './define.js'
import type { Document, DocumentSpec } from './document.js'
import { documentKind } from './document.js'
import type { Domain, DomainSpec } from './domain.js'
import { domainKind } from './domain.js'
import type { Module, ModuleSpec } from './module.js'
import { moduleKind } from './module.js'
import type { Namespace, NamespaceSpec } from './namespace.js'
import { namespaceKind } from './namespace.js'
import type { Route, RouteSpec } from './route.js'
import { routeKind } from './route.js'
import type { Secret, SecretSpec } from './secret.js'
import { secretKind } from './secret.js'
import type { Service, ServiceSpec } from './service.js'
import { serviceKind } from './service.js'

/**
 * Stored resource types by kind.
 * @public
 */
export interface ResourceTypes {
  /** A stored namespace. */
  namespace: Namespace
  /** A stored domain. */
  domain: Domain
  /** A stored service. */
  service: Service
  /** A stored route. */
  route: Route
  /** A stored module. */
  module: Module
  /** A stored collection. */
  collection: Collection
  /** A stored document. */
  document: Document
  /** A stored secret, data included. */
  secret: Secret
}

/**
 * Input (spec) types by kind.
 * @public
 */
export interface ResourceSpecs {
  /** Input for a namespace. */
  namespace: NamespaceSpec
  /** Input for a domain. */
  domain: DomainSpec
  /** Input for a service. */
  service: ServiceSpec
  /** Input for a route. */
  route: RouteSpec
  /** Input for a module. */
  module: ModuleSpec
  /** Input for a collection. */
  collection: CollectionSpec
  /** Input for a document. */
  document: DocumentSpec
  /** Input for a secret. */
  secret: SecretSpec
}

/**
 * The eight kinds of resource.
 * @public
 */
export type ResourceKind = keyof ResourceTypes

/**
 * The stored type of kind `K`.
 * @public
 */
export type ResourceOf<K extends ResourceKind> = ResourceTypes[K]

/** Kinds that live inside a namespace, in the order config files and snapshots list them. */
export const NAMESPACED_KINDS = ['domain', 'service', 'module', 'route', 'collection', 'secret'] as const
export type NamespacedKind = (typeof NAMESPACED_KINDS)[number]

export const KIND_NAMES: readonly ResourceKind[] = ['namespace', ...NAMESPACED_KINDS, 'document']

export const KINDS: { [K in ResourceKind]: KindDefinition<ResourceSpecs[K], ResourceTypes[K]> } = {
  namespace: namespaceKind,
  domain: domainKind,
  service: serviceKind,
  route: routeKind,
  module: moduleKind,
  collection: collectionKind,
  document: documentKind,
  secret: secretKind,
}

export function isResourceKind(value: unknown): value is ResourceKind {
  return typeof value === 'string' && Object.hasOwn(KINDS, value)
}
