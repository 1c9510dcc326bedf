import { ConflictError, NotFoundError, ValidationError, describe } from '../errors.js'
import { compileDocumentSchema } from '../documents/json-schema.js'
import type { Collection } from '../resources/collection.js'
import type { Document } from '../resources/document.js'
import { KINDS, NAMESPACED_KINDS, type NamespacedKind, type ResourceOf } from '../resources/kinds.js'
import { canonicalPath, type Route } from '../resources/route.js'
import type { Change } from './change.js'
import { Snapshot, emptyNamespace, type NamespaceState } from './snapshot.js'

/**
 * Checks that need more than the resource model (a module compiler, for instance), run on every put of that kind
 * against the next snapshot. They throw to refuse.
 * @public
 */
export interface ApplyChecks {
  module?: (module: ResourceOf<'module'>, next: Snapshot) => void
}

/** How many users a "still used by" message names before summarizing. */
const NAMED_USERS = 5

/**
 * Validates `change` against `base` and returns the next snapshot at `version`; throws the refusal and
 * leaves `base` untouched. Pure: the same inputs always give the same result or the same error.
 */
export function applyChange(base: Snapshot, change: Change, version: number, checks: ApplyChecks = {}): Snapshot {
  const namespaces = new Map(base.namespaces)
  if (change.kind === 'namespace') {
    if (change.op === 'put') {
      const item = KINDS.namespace.parse(change.item, { defaultNamespace: undefined })
      sameKey(change, item.name, undefined)
      const existing = namespaces.get(item.name)
      namespaces.set(item.name, existing ? { ...existing, namespace: item } : emptyNamespace(item))
    } else {
      const existing = namespaces.get(change.name)
      if (!existing) throw new NotFoundError(`namespace "${change.name}" not found`)
      const users = namespaceUsers(existing)
      if (users.length > 0) throw new ConflictError(`cannot delete namespace "${change.name}": ${usedBy(users)}`)
      namespaces.delete(change.name)
    }
    return new Snapshot(version, namespaces)
  }

  const ns = namespaces.get(change.namespace)
  if (!ns) {
    if (change.op === 'delete') throw new NotFoundError(`${change.kind} "${change.name}" not found: namespace "${change.namespace}" does not exist`)
    throw new ValidationError(change.kind, change.name, [{ field: 'namespace', reason: `"${change.namespace}" does not exist` }])
  }

  if (change.kind === 'document') {
    namespaces.set(change.namespace, change.op === 'put' ? putDocument(ns, change.item) : deleteDocument(ns, change))
    return new Snapshot(version, namespaces)
  }

  const kind: NamespacedKind = change.kind
  const map = new Map(ns[kind] as ReadonlyMap<string, ResourceOf<typeof kind>>)
  if (change.op === 'put') {
    const item = KINDS[kind].parse(change.item, { defaultNamespace: undefined }) as ResourceOf<typeof kind>
    sameKey(change, item.name, item.namespace)
    if (kind === 'route') checkRoute(item as Route, ns)
    if (kind === 'collection') checkCollectionDocuments(item as Collection, ns)
    map.set(item.name, item)
  } else {
    if (!map.has(change.name)) throw new NotFoundError(`${kind} "${change.name}" not found in namespace "${change.namespace}"`)
    const users = kindUsers(kind, change.name, ns)
    if (users.length > 0) throw new ConflictError(`cannot delete ${kind} "${change.name}": ${usedBy(users)}`)
    map.delete(change.name)
  }
  const nextNs = { ...ns, [kind]: map } as NamespaceState
  namespaces.set(change.namespace, nextNs)
  const next = new Snapshot(version, namespaces)
  if (change.op === 'put' && change.kind === 'module' && checks.module) checks.module(map.get(change.name) as ResourceOf<'module'>, next)
  return next
}

/** The change's key fields must agree with its item, or a replayed log could file a resource under another name. */
function sameKey(change: Change, name: string, namespace: string | undefined): void {
  if (change.name !== name || (namespace !== undefined && change.namespace !== namespace)) {
    throw new ValidationError(change.kind, change.name, [{ field: 'name', reason: `does not match the change's key (${describe(change.kind, name)} in "${namespace ?? ''}")` }])
  }
}

function checkRoute(route: Route, ns: NamespaceState): void {
  if (route.service !== undefined && !ns.service.has(route.service)) {
    throw new ValidationError('route', route.name, [{ field: 'service', reason: `"${route.service}" does not exist in namespace "${route.namespace}"` }])
  }
  route.modules.forEach((name, i) => {
    if (!ns.module.has(name)) {
      throw new ValidationError('route', route.name, [{ field: `modules[${i}]`, reason: `"${name}" does not exist in namespace "${route.namespace}"` }])
    }
  })
  const mine = canonicalPaths(route)
  for (const other of ns.route.values()) {
    if (other.name === route.name) continue
    const method = overlappingMethod(route.methods, other.methods)
    if (method === undefined) continue
    const theirs = canonicalPaths(other)
    const i = mine.findIndex((p) => theirs.includes(p))
    if (i >= 0) {
      throw new ConflictError(`route "${route.name}": ${method} ${route.paths[i]} is already served by route "${other.name}" in namespace "${route.namespace}"`)
    }
  }
}

// Stored routes are immutable, so their canonical paths are computed once per route object.
const canonical = new WeakMap<Route, string[]>()

function canonicalPaths(route: Route): string[] {
  let paths = canonical.get(route)
  if (!paths) canonical.set(route, (paths = route.paths.map(canonicalPath)))
  return paths
}

function overlappingMethod(a: readonly string[], b: readonly string[]): string | undefined {
  if (a.includes('*')) return b.includes('*') ? '*' : b[0]
  if (b.includes('*')) return a[0]
  return a.find((m) => b.includes(m))
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
  const docs = new Map(ns.documents.get(parsed.collection) ?? [])
  const previous = docs.get(parsed.id)
  docs.set(parsed.id, { ...parsed, createdAt: previous?.createdAt ?? raw.updatedAt, updatedAt: raw.updatedAt })
  const documents = new Map(ns.documents)
  documents.set(parsed.collection, docs)
  return { ...ns, documents }
}

function deleteDocument(ns: NamespaceState, change: Change): NamespaceState {
  const collection = change.collection ?? ''
  const current = ns.documents.get(collection)
  if (!current?.has(change.name)) {
    throw new NotFoundError(`document "${change.name}" not found in collection "${collection}" of namespace "${change.namespace}"`)
  }
  const docs = new Map(current)
  docs.delete(change.name)
  const documents = new Map(ns.documents)
  if (docs.size === 0) documents.delete(collection)
  else documents.set(collection, docs)
  return { ...ns, documents }
}

function namespaceUsers(ns: NamespaceState): string[] {
  const users: string[] = []
  for (const kind of NAMESPACED_KINDS) for (const name of ns[kind].keys()) users.push(`${kind} "${name}"`)
  return users
}

function kindUsers(kind: NamespacedKind, name: string, ns: NamespaceState): string[] {
  if (kind === 'service') return [...ns.route.values()].filter((r) => r.service === name).map((r) => `route "${r.name}"`)
  if (kind === 'module') return [...ns.route.values()].filter((r) => r.modules.includes(name)).map((r) => `route "${r.name}"`)
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
