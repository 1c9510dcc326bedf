import { isDeepStrictEqual } from 'node:util'
import { KINDS, type ResourceSpecs } from '../resources/kinds.js'
import type { Change } from './change.js'
import type { Snapshot } from './snapshot.js'

/**
 * Resources to seed state with (DGate's `init_resources`), applied at start in reference order.
 * @public
 */
export interface GatewayResources {
  /** Namespaces; applied first, so that the other resources can live in them. */
  namespaces?: ResourceSpecs['namespace'][]
  /** Secrets. */
  secrets?: ResourceSpecs['secret'][]
  /** Modules; applied before the routes that list them. */
  modules?: ResourceSpecs['module'][]
  /** Services; applied before the routes that use them. */
  services?: ResourceSpecs['service'][]
  /** Collections; applied before their documents. */
  collections?: ResourceSpecs['collection'][]
  /** Domains. */
  domains?: ResourceSpecs['domain'][]
  /** Routes; applied after the services and modules they reference. */
  routes?: ResourceSpecs['route'][]
  /** Documents; applied last. One whose `data` is unchanged is not rewritten, so its timestamps stay. */
  documents?: ResourceSpecs['document'][]
}

const ORDER = [
  ['namespaces', 'namespace'],
  ['secrets', 'secret'],
  ['modules', 'module'],
  ['services', 'service'],
  ['collections', 'collection'],
  ['domains', 'domain'],
  ['routes', 'route'],
  ['documents', 'document'],
] as const

/**
 * The changes that make state hold `resources`: one put per resource that is missing or different, so that
 * starting again with the same seed on a durable store changes nothing. Throws the first ValidationError.
 */
export function seedChanges(resources: GatewayResources, current: Snapshot, defaultNamespace: string | undefined, now: string): Change[] {
  const changes: Change[] = []
  for (const [field, kind] of ORDER) {
    const list = resources[field] as unknown[] | undefined
    if (list === undefined) continue
    if (!Array.isArray(list)) throw new TypeError(`resources.${field} must be a list`)
    for (const spec of list) {
      if (kind === 'namespace') {
        const item = KINDS.namespace.parse(spec, { defaultNamespace: undefined })
        if (!isDeepStrictEqual(current.namespace(item.name), item)) changes.push({ kind, op: 'put', namespace: item.name, name: item.name, item })
      } else if (kind === 'document') {
        const parsed = KINDS.document.parse(spec, { defaultNamespace })
        const existing = current.document(parsed.namespace, parsed.collection, parsed.id)
        if (existing && isDeepStrictEqual(existing.data, parsed.data)) continue
        const item = { ...parsed, createdAt: now, updatedAt: now }
        changes.push({ kind, op: 'put', namespace: item.namespace, name: item.id, collection: item.collection, item })
      } else {
        const item = KINDS[kind].parse(spec, { defaultNamespace }) as { name: string; namespace: string }
        if (isDeepStrictEqual(current.get(kind, item.namespace, item.name), item)) continue
        changes.push({ kind, op: 'put', namespace: item.namespace, name: item.name, item } as Change)
      }
    }
  }
  return changes
}
