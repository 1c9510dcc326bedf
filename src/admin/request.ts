import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdminBackend } from './backend.js'
import { HttpError } from './envelope.js'
import type { ResolvedAdminOptions } from './options.js'
import type { Snapshot } from '../state/snapshot.js'

/** One admin request, parsed. */
export interface AdminCall {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly query: URLSearchParams
  readonly backend: AdminBackend
  readonly options: ResolvedAdminOptions
}

/** `?namespace=`, else the default namespace; a 400 when there is neither. */
export function queryNamespace(call: AdminCall): string {
  return namespaceOr(call, call.query.get('namespace') ?? undefined)
}

/** `given`, else the default namespace; a 400 when there is neither. */
export function namespaceOr(call: AdminCall, given: string | undefined): string {
  const ns = given ?? call.backend.defaultNamespace
  if (ns === undefined || ns === '') throw new HttpError(400, 'namespace is required (the default namespace is disabled)')
  return ns
}

/** The snapshot to read: after a barrier with `?consistent=true` (every change committed before the request). */
export async function readSnapshot(call: AdminCall): Promise<Snapshot> {
  const consistent = call.query.get('consistent')
  if (consistent !== null && consistent !== 'true' && consistent !== 'false') throw new HttpError(400, 'consistent must be true or false')
  if (consistent === 'true') await call.backend.cluster.barrier()
  return call.backend.snapshot
}

/** A 404 unless the namespace exists in `snapshot`. */
export function requireNamespace(snapshot: Snapshot, namespace: string): void {
  if (!snapshot.namespace(namespace)) throw new HttpError(404, `namespace "${namespace}" not found`)
}

/** A non-negative integer query parameter, with a default and a maximum. */
export function queryInteger(call: AdminCall, name: string, fallback: number, max: number): number {
  const raw = call.query.get(name)
  if (raw === null) return fallback
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) throw new HttpError(400, `${name} must be an integer from 0 to ${max}`)
  return Number(raw)
}

/** A JSON object body, or a 400 naming what was expected. */
export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `${what}: body must be a JSON object`)
  return body as Record<string, unknown>
}

/** The identity fields of a delete body; any other field is refused so that a mistaken body changes nothing. */
export function deleteTarget(body: Record<string, unknown>, kind: string, fields: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [key, value] of Object.entries(body)) {
    if (!fields.includes(key)) throw new HttpError(400, `${kind}: unknown field "${key}" in a delete (${fields.join(', ')})`)
    if (typeof value !== 'string' || value === '') throw new HttpError(400, `${kind}: ${key} must be a non-empty string`)
    out[key] = value
  }
  const first = fields[0]!
  if (out[first] === undefined) throw new HttpError(400, `${kind}: ${first} is required`)
  return out
}
