import type { Document } from '../resources/document.js'
import { NAMESPACED_KINDS, type NamespacedKind, type ResourceOf } from '../resources/kinds.js'
import type { Namespace } from '../resources/namespace.js'
import { Snapshot, emptyNamespace, type NamespaceState } from './snapshot.js'

/** Bumped whenever the serialized shape changes incompatibly. */
const FORMAT = 1

interface SerializedNamespace {
  namespace: Namespace
  resources: { [K in NamespacedKind]?: ResourceOf<K>[] }
  documents: Document[]
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
    namespaces.push({ namespace: ns.namespace, resources, documents })
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
  const namespaces = new Map<string, NamespaceState>()
  for (const s of state.namespaces) {
    const ns = { ...emptyNamespace(s.namespace) } as { -readonly [P in keyof NamespaceState]: NamespaceState[P] }
    for (const kind of NAMESPACED_KINDS) {
      const items = s.resources[kind] as { name: string }[] | undefined
      if (items) (ns as Record<string, unknown>)[kind] = new Map(items.map((item) => [item.name, item]))
    }
    const documents = new Map<string, Map<string, Document>>()
    for (const doc of s.documents) {
      let docs = documents.get(doc.collection)
      if (!docs) documents.set(doc.collection, (docs = new Map()))
      docs.set(doc.id, doc)
    }
    ns.documents = documents
    namespaces.set(s.namespace.name, ns)
  }
  return { snapshot: new Snapshot(state.version, namespaces), appliedIndex: state.appliedIndex }
}
