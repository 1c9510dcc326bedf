import type { Document } from '../resources/document.js'
import { NAMESPACED_KINDS, type NamespacedKind, type ResourceOf } from '../resources/kinds.js'
import type { Namespace } from '../resources/namespace.js'
import { PersistentMap } from './persistent-map.js'
import { Snapshot, emptyNamespace, type NamespaceState } from './snapshot.js'
import { applyChange } from './apply.js'

function persistent<V>(map: ReadonlyMap<string, V>): PersistentMap<V> {
  return map instanceof PersistentMap ? (map as PersistentMap<V>) : PersistentMap.from(map)
}

/** Bumped whenever the serialized shape changes incompatibly. */
const FORMAT = 1

interface SerializedNamespace {
  namespace: Namespace
  resources: { [K in NamespacedKind]?: ResourceOf<K>[] }
  documents: Document[]
  /** Resource versions by key; absent in snapshots written before versions existed (everything at version 0). */
  versions?: [string, number][]
}

interface SerializedState {
  format: number
  version: number
  appliedIndex: number
  namespaces: SerializedNamespace[]
}

/**
 * Serializes a snapshot (all resources and documents) with the index of the last applied log entry.
 * `appliedIndex` can exceed `snapshot.version` when the last entries were refused.
 */
export function encodeSnapshot(snapshot: Snapshot, appliedIndex: number): Uint8Array {
  const namespaces: SerializedNamespace[] = []
  for (const ns of snapshot.namespaces.values()) {
    const resources: SerializedNamespace['resources'] = {}
    for (const kind of NAMESPACED_KINDS) {
      if (ns[kind].size > 0) (resources as Record<string, unknown[]>)[kind] = [...ns[kind].values()]
    }
    const documents: Document[] = []
    for (const docs of ns.documents.values()) documents.push(...docs.values())
    namespaces.push({ namespace: ns.namespace, resources, documents, versions: [...ns.versions] })
  }
  const state: SerializedState = { format: FORMAT, version: snapshot.version, appliedIndex, namespaces }
  return Buffer.from(JSON.stringify(state))
}

/** Restores what {@link encodeSnapshot} wrote; throws a clear error on foreign or damaged bytes. */
export function decodeSnapshot(bytes: Uint8Array): { snapshot: Snapshot; appliedIndex: number } {
  let state: SerializedState
  try {
    state = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as SerializedState
  } catch (err) {
    throw new Error(`snapshot is not readable: ${(err as Error).message}`)
  }
  if (state?.format !== FORMAT || !Array.isArray(state.namespaces)) {
    throw new Error(`snapshot has format ${String(state?.format)}; this version reads format ${FORMAT}`)
  }
  let namespaces = PersistentMap.empty<NamespaceState>()
  for (const s of state.namespaces) {
    const ns = { ...emptyNamespace(s.namespace) } as { -readonly [P in keyof NamespaceState]: NamespaceState[P] }
    for (const kind of NAMESPACED_KINDS) {
      if (kind === 'route') continue
      const items = s.resources[kind] as { name: string }[] | undefined
      if (items) (ns as Record<string, unknown>)[kind] = PersistentMap.from(items.map((item) => [item.name, item] as const))
    }
    const byCollection = new Map<string, [string, Document][]>()
    for (const doc of s.documents) {
      const list = byCollection.get(doc.collection) ?? []
      list.push([doc.id, doc])
      byCollection.set(doc.collection, list)
    }
    ns.documents = PersistentMap.from([...byCollection].map(([name, docs]) => [name, PersistentMap.from(docs)] as const))
    namespaces = namespaces.set(s.namespace.name, ns)
  }
  // Routes go through the apply path so that the derived route index is rebuilt exactly as writes build it.
  let snapshot = new Snapshot(state.version, namespaces)
  for (const s of state.namespaces) {
    for (const route of s.resources.route ?? []) {
      snapshot = applyChange(snapshot, { kind: 'route', op: 'put', namespace: route.namespace, name: route.name, item: route }, state.version)
    }
  }
  // Versions last: the route replay above stamps routes with the snapshot's version.
  let restored = persistent(snapshot.namespaces)
  for (const s of state.namespaces) {
    const ns = restored.get(s.namespace.name)!
    restored = restored.set(s.namespace.name, { ...ns, versions: PersistentMap.from(s.versions ?? []) })
  }
  return { snapshot: new Snapshot(state.version, restored), appliedIndex: state.appliedIndex }
}
