import { isDeepStrictEqual } from 'node:util'
import type { AdminClient, AdminResourceClient } from '../admin/client.js'
import { KINDS, type NamespacedKind } from '../resources/kinds.js'
import type { GatewayResources } from '../state/seed.js'

/** One step of an apply. */
export type Step =
  | { op: 'create' | 'update'; kind: 'namespace'; name: string; spec: unknown; changed: string[] }
  | { op: 'create' | 'update'; kind: NamespacedKind; namespace: string; name: string; spec: unknown; changed: string[] }
  | { op: 'create' | 'update'; kind: 'document'; namespace: string; collection: string; name: string; spec: unknown; changed: string[] }
  | { op: 'delete'; kind: NamespacedKind; namespace: string; name: string; changed: string[] }

/** What an apply would do. */
export interface Plan {
  steps: Step[]
  unchanged: number
}

/** Puts in dependency order (as init_resources applies them); prunes in the reverse. */
const PUT_ORDER = ['namespaces', 'secrets', 'modules', 'services', 'collections', 'domains', 'routes', 'documents'] as const
const PRUNE_ORDER: readonly NamespacedKind[] = ['route', 'domain', 'collection', 'service', 'module', 'secret']
const KIND_OF = { namespaces: 'namespace', secrets: 'secret', modules: 'module', services: 'service', collections: 'collection', domains: 'domain', routes: 'route', documents: 'document' } as const

/**
 * Compares the file's resources with the live state. A resource is unchanged when its stored form equals the
 * file's (after defaults), except for what reads never return: a secret's `data` and a domain's `key` (a key goes
 * with its `cert`, which is compared). So a secret whose value changed is not rewritten: rotate it with
 * `dgate secret create`. With `prune`, resources of the namespaces the file names that the file does not list are
 * deleted; namespaces and documents are never pruned.
 */
export async function planApply(client: AdminClient, file: GatewayResources, options: { prune: boolean; defaultNamespace: string | undefined }): Promise<Plan> {
  const steps: Step[] = []
  let unchanged = 0
  const live = new Map<string, Map<string, unknown>>()
  const existingNamespaces = new Set((await client.namespaces.list()).map((n) => n.name))
  const touched = new Set<string>()
  const wanted = new Set<string>()

  async function liveOf(kind: NamespacedKind, namespace: string): Promise<Map<string, unknown>> {
    const key = `${kind}/${namespace}`
    let map = live.get(key)
    if (!map) {
      const items = existingNamespaces.has(namespace) ? await apiOf(client, kind).list({ namespace }) : []
      map = new Map(items.map((item) => [(item as { name: string }).name, item]))
      live.set(key, map)
    }
    return map
  }

  for (const field of PUT_ORDER) {
    const kind = KIND_OF[field]
    for (const spec of (file[field] as unknown[] | undefined) ?? []) {
      if (kind === 'namespace') {
        const item = KINDS.namespace.parse(spec, { defaultNamespace: undefined })
        touched.add(item.name)
        const current = existingNamespaces.has(item.name) ? await client.namespaces.get(item.name) : undefined
        if (current && isDeepStrictEqual(current, item)) unchanged++
        else steps.push({ op: current ? 'update' : 'create', kind, name: item.name, spec, changed: changedFields(current, item) })
      } else if (kind === 'document') {
        const item = KINDS.document.parse(spec, { defaultNamespace: options.defaultNamespace })
        const current = existingNamespaces.has(item.namespace) ? await client.documents.get(item.collection, item.id, { namespace: item.namespace }).catch(() => undefined) : undefined
        if (current && isDeepStrictEqual(current.data, item.data)) unchanged++
        else steps.push({ op: current ? 'update' : 'create', kind, namespace: item.namespace, collection: item.collection, name: item.id, spec, changed: current ? ['data'] : [] })
      } else {
        const item = KINDS[kind].parse(spec, { defaultNamespace: options.defaultNamespace }) as { name: string; namespace: string }
        touched.add(item.namespace)
        wanted.add(`${kind}/${item.namespace}/${item.name}`)
        const current = (await liveOf(kind, item.namespace)).get(item.name)
        const comparable = withoutWriteOnly(kind, item)
        if (current !== undefined && isDeepStrictEqual(current, comparable)) unchanged++
        else steps.push({ op: current ? 'update' : 'create', kind, namespace: item.namespace, name: item.name, spec, changed: changedFields(current, comparable) })
      }
    }
  }
  if (options.prune) {
    for (const kind of PRUNE_ORDER) {
      for (const namespace of [...touched].sort()) {
        for (const name of [...(await liveOf(kind, namespace)).keys()].sort()) {
          if (!wanted.has(`${kind}/${namespace}/${name}`)) steps.push({ op: 'delete', kind, namespace, name, changed: [] })
        }
      }
    }
  }
  return { steps, unchanged }
}

/** Applies the steps in order; stops at the first refusal (the server's error names it). */
export async function applyPlan(client: AdminClient, plan: Plan): Promise<void> {
  for (const step of plan.steps) {
    if (step.op === 'delete') await apiOf(client, step.kind).delete(step.name, { namespace: step.namespace })
    else if (step.kind === 'namespace') await client.namespaces.put(step.spec as never)
    else if (step.kind === 'document') await client.documents.put(step.spec as never)
    else await apiOf(client, step.kind).put(step.spec as never)
  }
}

/** One line per step, kubectl-diff style: `+` create, `~` update (with the fields that differ), `-` delete. */
export function describePlan(plan: Plan): string[] {
  const lines = plan.steps.map((step) => {
    const sign = step.op === 'create' ? '+' : step.op === 'update' ? '~' : '-'
    const where = step.kind === 'namespace' ? step.name : step.kind === 'document' ? `${step.namespace}/${step.collection}/${step.name}` : `${step.namespace}/${step.name}`
    return `${sign} ${step.kind} ${where}${step.op === 'update' && step.changed.length > 0 ? ` (${step.changed.join(', ')})` : ''}`
  })
  const count = (op: Step['op']) => plan.steps.filter((s) => s.op === op).length
  lines.push(plan.steps.length === 0 ? `no changes (${plan.unchanged} unchanged)` : `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${plan.unchanged} unchanged`)
  return lines
}

function apiOf(client: AdminClient, kind: NamespacedKind): AdminResourceClient<NamespacedKind> {
  const apis = { domain: client.domains, service: client.services, route: client.routes, module: client.modules, collection: client.collections, secret: client.secrets }
  return apis[kind] as AdminResourceClient<NamespacedKind>
}

/** What reads of the kind return: reads never show a secret's data or a domain's key. */
function withoutWriteOnly(kind: NamespacedKind, item: object): object {
  if (kind === 'secret') {
    const { data: _data, ...rest } = item as { data?: unknown }
    return rest
  }
  if (kind === 'domain') {
    const { key: _key, ...rest } = item as { key?: unknown }
    return rest
  }
  return item
}

function changedFields(current: unknown, next: object): string[] {
  if (current === undefined || current === null || typeof current !== 'object') return []
  const keys = new Set([...Object.keys(current), ...Object.keys(next)])
  return [...keys].filter((k) => !isDeepStrictEqual((current as Record<string, unknown>)[k], (next as Record<string, unknown>)[k])).sort()
}
