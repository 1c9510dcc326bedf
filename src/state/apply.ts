import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError, describe } from '../errors.js'
import { compileDocumentSchema } from '../documents/json-schema.js'
import type { Collection } from '../resources/collection.js'
import type { Document } from '../resources/document.js'
import { KINDS, NAMESPACED_KINDS, type NamespacedKind, type ResourceOf } from '../resources/kinds.js'
import { canonicalPath, type Route } from '../resources/route.js'
import type { Change } from './change.js'
import { PersistentMap } from './persistent-map.js'
import { Snapshot, emptyNamespace, versionKey, type NamespaceState, type RouteSlot } from './snapshot.js'

/**
 * Checks that need more than the resource model (a module compiler, for instance), run on every put of that kind
 * against the next snapshot. They throw to refuse.
 * @public
 */
export interface ApplyChecks {
  /** Runs after a module put with the stored module and the snapshot the put would produce; throw to refuse the change. */
  module?: (module: ResourceOf<'module'>, next: Snapshot) => void
}

/** How many users a "still used by" message names before summarizing. */
const NAMED_USERS = 5

type Mutable<T> = { -readonly [P in keyof T]: T[P] }

/** Snapshots are built only from PersistentMaps; this recovers the type for updates. */
function persistent<V>(map: ReadonlyMap<string, V>): PersistentMap<V> {
  return map instanceof PersistentMap ? (map as PersistentMap<V>) : PersistentMap.from(map)
}

/**
 * Validates `change` against `base` and returns the next snapshot at `version`; throws the refusal and
 * leaves `base` untouched. Pure: the same inputs always give the same result or the same error.
 */
export function applyChange(base: Snapshot, change: Change, version: number, checks: ApplyChecks = {}): Snapshot {
  const namespaces = persistent(base.namespaces)
  if (change.expectedVersion !== undefined) checkVersion(base, change, change.expectedVersion)
  if (change.kind === 'namespace') {
    if (change.op === 'put') {
      const item = KINDS.namespace.parse(change.item, { defaultNamespace: undefined })
      sameKey(change, item.name, undefined)
      const state = namespaces.get(item.name) ?? emptyNamespace(item)
      return new Snapshot(version, namespaces.set(item.name, { ...state, namespace: item, versions: persistent(state.versions).set('namespace', version) }))
    }
    const existing = namespaces.get(change.name)
    if (!existing) throw new NotFoundError(`namespace "${change.name}" not found`)
    const users = namespaceUsers(existing)
    if (users.length > 0) throw new ConflictError(`cannot delete namespace "${change.name}": ${usedBy(users)}`)
    return new Snapshot(version, namespaces.delete(change.name))
  }

  const ns = namespaces.get(change.namespace)
  if (!ns) {
    if (change.op === 'delete') throw new NotFoundError(`${change.kind} "${change.name}" not found: namespace "${change.namespace}" does not exist`)
    throw new ValidationError(change.kind, change.name, [{ field: 'namespace', reason: `"${change.namespace}" does not exist` }])
  }

  if (change.kind === 'document') {
    const next = change.op === 'put' ? putDocument(ns, change.item) : deleteDocument(ns, change)
    const key = versionKey('document', change.name, change.op === 'put' ? change.item.collection : change.collection)
    const versions = change.op === 'put' ? persistent(ns.versions).set(key, version) : persistent(ns.versions).delete(key)
    return new Snapshot(version, namespaces.set(change.namespace, { ...next, versions }))
  }

  const kind: NamespacedKind = change.kind
  const map = persistent(ns[kind] as ReadonlyMap<string, ResourceOf<typeof kind>>)
  const next: Mutable<NamespaceState> = { ...ns }
  if (change.op === 'put') {
    const item = KINDS[kind].parse(change.item, { defaultNamespace: undefined }) as ResourceOf<typeof kind>
    sameKey(change, item.name, item.namespace)
    if (kind === 'route') next.routeIndex = indexRoute(item as Route, ns)
    if (kind === 'collection') checkCollectionDocuments(item as Collection, ns)
    ;(next as Record<NamespacedKind, unknown>)[kind] = map.set(item.name, item)
    next.versions = persistent(ns.versions).set(versionKey(kind, item.name), version)
  } else {
    const existing = map.get(change.name)
    if (!existing) throw new NotFoundError(`${kind} "${change.name}" not found in namespace "${change.namespace}"`)
    const users = kindUsers(kind, change.name, ns)
    if (users.length > 0) throw new ConflictError(`cannot delete ${kind} "${change.name}": ${usedBy(users)}`)
    if (kind === 'route') next.routeIndex = unindexRoute(existing as Route, ns.routeIndex)
    ;(next as Record<NamespacedKind, unknown>)[kind] = map.delete(change.name)
    next.versions = persistent(ns.versions).delete(versionKey(kind, change.name))
  }
  const snapshot = new Snapshot(version, namespaces.set(change.namespace, next))
  if (change.op === 'put' && change.kind === 'module' && checks.module) checks.module(snapshot.get('module', change.namespace, change.name)!, snapshot)
  return snapshot
}

/** Refuses a conditional change unless its resource exists at exactly the expected version in `base`. */
function checkVersion(base: Snapshot, change: Change, expected: number): void {
  const current = base.versionOf(change.kind, change.namespace, change.name, change.collection)
  const what = change.kind === 'document' ? `document "${change.name}" in collection "${change.collection ?? ''}"` : describe(change.kind, change.name)
  const where = change.kind === 'namespace' ? '' : ` in namespace "${change.namespace}"`
  if (current === undefined) throw new PreconditionFailedError(`${what} does not exist${where}, so it is not at version ${expected}`)
  if (current !== expected) throw new PreconditionFailedError(`${what}${where} is at version ${current}, not ${expected}`)
}

/** The change's key fields must agree with its item, or a replayed log could file a resource under another name. */
function sameKey(change: Change, name: string, namespace: string | undefined): void {
  if (change.name !== name || (namespace !== undefined && change.namespace !== namespace)) {
    throw new ValidationError(change.kind, change.name, [{ field: 'name', reason: `does not match the change's key (${describe(change.kind, name)} in "${namespace ?? ''}")` }])
  }
}

/** Checks a route's references and that no other route serves the same method and path; returns the new index. */
function indexRoute(route: Route, ns: NamespaceState): ReadonlyMap<string, readonly RouteSlot[]> {
  if (route.service !== undefined && !ns.service.has(route.service)) {
    throw new ValidationError('route', route.name, [{ field: 'service', reason: `"${route.service}" does not exist in namespace "${route.namespace}"` }])
  }
  route.modules.forEach((name, i) => {
    if (!ns.module.has(name)) {
      throw new ValidationError('route', route.name, [{ field: `modules[${i}]`, reason: `"${name}" does not exist in namespace "${route.namespace}"` }])
    }
  })
  const previous = ns.route.get(route.name)
  let index = persistent(previous ? unindexRoute(previous, ns.routeIndex) : ns.routeIndex)
  route.paths.forEach((path, i) => {
    const key = canonicalPath(path)
    const slots = index.get(key) ?? []
    for (const method of route.methods) {
      const taken = slots.find((slot) => slot.method === '*' || method === '*' || slot.method === method)
      if (taken) {
        const shown = method === '*' ? taken.method : method
        throw new ConflictError(`route "${route.name}": ${shown} ${route.paths[i]} is already served by route "${taken.route}" in namespace "${route.namespace}"`)
      }
    }
    index = index.set(key, [...slots, ...route.methods.map((method) => ({ method, path, route: route.name }))])
  })
  return index
}

function unindexRoute(route: Route, routeIndex: ReadonlyMap<string, readonly RouteSlot[]>): ReadonlyMap<string, readonly RouteSlot[]> {
  let index = persistent(routeIndex)
  for (const path of route.paths) {
    const key = canonicalPath(path)
    const slots = (index.get(key) ?? []).filter((slot) => slot.route !== route.name)
    index = slots.length > 0 ? index.set(key, slots) : index.delete(key)
  }
  return index
}

/** A schema change must not strand documents that no longer satisfy it. */
function checkCollectionDocuments(collection: Collection, ns: NamespaceState): void {
  const docs = ns.documents.get(collection.name)
  const previous = ns.collection.get(collection.name)
  if (!docs || docs.size === 0 || (previous && JSON.stringify(previous.schema) === JSON.stringify(collection.schema))) return
  const validator = compileDocumentSchema(collection.schema)
  for (const doc of docs.values()) {
    const issue = validator.issues(doc.data)[0]
    if (issue) {
      throw new ValidationError('collection', collection.name, [{ field: 'schema', reason: `rejects existing document "${doc.id}" (${issue.field} ${issue.reason})` }])
    }
  }
}

// Compiled document validators, by collection object: a collection is immutable once stored.
const validators = new WeakMap<Collection, ReturnType<typeof compileDocumentSchema>>()

function putDocument(ns: NamespaceState, raw: Document): NamespaceState {
  const parsed = KINDS.document.parse(raw, { defaultNamespace: undefined })
  const collection = ns.collection.get(parsed.collection)
  if (!collection) {
    throw new ValidationError('document', parsed.id, [{ field: 'collection', reason: `"${parsed.collection}" does not exist in namespace "${parsed.namespace}"` }])
  }
  let validator = validators.get(collection)
  if (!validator) validators.set(collection, (validator = compileDocumentSchema(collection.schema)))
  const issues = validator.issues(parsed.data)
  if (issues.length > 0) throw new ValidationError('document', parsed.id, issues)
  if (typeof raw.updatedAt !== 'string' || raw.updatedAt === '') {
    throw new ValidationError('document', parsed.id, [{ field: 'updatedAt', reason: 'must be set by the gateway' }])
  }
  const docs = persistent(ns.documents.get(parsed.collection) ?? PersistentMap.empty<Document>())
  const previous = docs.get(parsed.id)
  const doc: Document = { ...parsed, createdAt: previous?.createdAt ?? raw.updatedAt, updatedAt: raw.updatedAt }
  return { ...ns, documents: persistent(ns.documents).set(parsed.collection, docs.set(parsed.id, doc)) }
}

function deleteDocument(ns: NamespaceState, change: Change): NamespaceState {
  const collection = change.collection ?? ''
  const current = ns.documents.get(collection)
  if (!current?.has(change.name)) {
    throw new NotFoundError(`document "${change.name}" not found in collection "${collection}" of namespace "${change.namespace}"`)
  }
  const docs = persistent(current).delete(change.name)
  const documents = persistent(ns.documents)
  return { ...ns, documents: docs.size === 0 ? documents.delete(collection) : documents.set(collection, docs) }
}

function namespaceUsers(ns: NamespaceState): string[] {
  const users: string[] = []
  for (const kind of NAMESPACED_KINDS) for (const name of [...ns[kind].keys()].sort()) users.push(`${kind} "${name}"`)
  return users
}

function kindUsers(kind: NamespacedKind, name: string, ns: NamespaceState): string[] {
  const routes = (uses: (r: Route) => boolean) => [...ns.route.values()].filter(uses).map((r) => `route "${r.name}"`).sort()
  if (kind === 'service') return routes((r) => r.service === name)
  if (kind === 'module') return routes((r) => r.modules.includes(name))
  if (kind === 'collection') {
    const count = ns.documents.get(name)?.size ?? 0
    return count > 0 ? [`${count} document${count === 1 ? '' : 's'}`] : []
  }
  return []
}

function usedBy(users: string[]): string {
  const named = users.slice(0, NAMED_USERS).join(', ')
  return `still used by ${named}${users.length > NAMED_USERS ? ` and ${users.length - NAMED_USERS} more` : ''}`
}
