import type { NamespacedKind } from '../resources/kinds.js'
import { toView } from '../state/resource-api.js'
import { apiFor } from './backend.js'
import { readJson } from './body.js'
import { HttpError, sendData, sendEmpty } from './envelope.js'
import { etag, expectedVersion } from './if-match.js'
import { decodePayload, encodePayload, type PayloadEncoding } from './module-payload.js'
import { asObject, deleteTarget, namespaceOr, queryNamespace, readSnapshot, requireNamespace, type AdminCall } from './request.js'

/** `GET /api/v1/namespace`: every namespace, sorted by name. */
export async function listNamespaces(call: AdminCall): Promise<void> {
  sendData(call.res, 200, (await readSnapshot(call)).listNamespaces())
}

/** `GET /api/v1/namespace/{name}`, with its version in `ETag`. */
export async function getNamespace(call: AdminCall, name: string): Promise<void> {
  const snapshot = await readSnapshot(call)
  const item = snapshot.namespace(name)
  if (!item) throw new HttpError(404, `namespace "${name}" not found`)
  sendData(call.res, 200, item, {}, { etag: etag(snapshot.versionOf('namespace', name, name)!) })
}

/** `PUT /api/v1/namespace`: creates or replaces; answers 201 with every namespace (DGate's shape). */
export async function putNamespace(call: AdminCall): Promise<void> {
  const body = asObject(await readJson(call.req, call.options.maxBodySize), 'namespace')
  await call.backend.namespaces.put(body as never, versionOption(call))
  sendData(call.res, 201, call.backend.snapshot.listNamespaces())
}

/** `DELETE /api/v1/namespace` with `{name}`, or `DELETE /api/v1/namespace/{name}`: 202. */
export async function deleteNamespace(call: AdminCall, name: string | undefined): Promise<void> {
  const target = name ?? deleteTarget(asObject(await readJson(call.req, call.options.maxBodySize), 'namespace'), 'namespace', ['name']).name!
  await call.backend.namespaces.delete(target, versionOption(call))
  sendEmpty(call.res, 202)
}

/** `GET /api/v1/{kind}?namespace=`: the kind's resources in a namespace that must exist, sorted by name. */
export async function listResources(call: AdminCall, kind: NamespacedKind): Promise<void> {
  const namespace = queryNamespace(call)
  const snapshot = await readSnapshot(call)
  requireNamespace(snapshot, namespace)
  const encoding = payloadEncoding(call, kind)
  sendData(call.res, 200, snapshot.list(kind, namespace).map((item) => output(kind, item, encoding)))
}

/** `GET /api/v1/{kind}/{name}?namespace=`: the same shape as in lists, with the version in `ETag`. */
export async function getResource(call: AdminCall, kind: NamespacedKind, name: string): Promise<void> {
  const namespace = queryNamespace(call)
  const encoding = payloadEncoding(call, kind)
  const snapshot = await readSnapshot(call)
  requireNamespace(snapshot, namespace)
  const item = snapshot.get(kind, namespace, name)
  if (!item) throw new HttpError(404, `${kind} "${name}" not found in namespace "${namespace}"`)
  sendData(call.res, 200, output(kind, item, encoding), {}, { etag: etag(snapshot.versionOf(kind, namespace, name)!) })
}

/** `PUT /api/v1/{kind}`: creates or replaces; answers 201 with the kind's resources in that namespace (DGate's shape). */
export async function putResource(call: AdminCall, kind: NamespacedKind): Promise<void> {
  const body = { ...asObject(await readJson(call.req, call.options.maxBodySize), kind) }
  if (kind === 'module') {
    if (body.payload !== undefined) body.payload = decodePayload(body.payload, body.payloadEncoding, body.name)
    delete body.payloadEncoding
  }
  const options = versionOption(call)
  const stored = (await apiFor(call.backend, kind).put(body as never, options)) as { namespace: string }
  const encoding = payloadEncoding(call, kind)
  sendData(call.res, 201, call.backend.snapshot.list(kind, stored.namespace).map((item) => output(kind, item, encoding)))
}

/** `DELETE /api/v1/{kind}` with `{name, namespace}`, or `DELETE /api/v1/{kind}/{name}?namespace=`: 202. */
export async function deleteResource(call: AdminCall, kind: NamespacedKind, name: string | undefined): Promise<void> {
  let target: { name: string; namespace: string }
  if (name !== undefined) target = { name, namespace: queryNamespace(call) }
  else {
    const body = deleteTarget(asObject(await readJson(call.req, call.options.maxBodySize), kind), kind, ['name', 'namespace'])
    target = { name: body.name!, namespace: namespaceOr(call, body.namespace) }
  }
  await apiFor(call.backend, kind).delete(target.name, { namespace: target.namespace, ...versionOption(call) })
  sendEmpty(call.res, 202)
}

/** The write option for the request's `If-Match`. */
export function versionOption(call: AdminCall): { expectedVersion?: number } {
  const version = expectedVersion(call.req)
  return version === undefined ? {} : { expectedVersion: version }
}

/** What reads return: never a secret's data or a domain's key; module payloads as text or, when asked, base64. */
function output(kind: NamespacedKind, item: unknown, encoding: PayloadEncoding): unknown {
  const view = toView(kind, item as never) as Record<string, unknown>
  if (kind === 'module' && encoding === 'base64') return { ...view, payload: encodePayload(view.payload as string, 'base64') }
  return view
}

function payloadEncoding(call: AdminCall, kind: NamespacedKind): PayloadEncoding {
  const raw = call.query.get('payloadEncoding')
  if (raw === null) return 'text'
  if (kind !== 'module' || (raw !== 'text' && raw !== 'base64')) throw new HttpError(400, 'payloadEncoding must be "text" or "base64" (modules only)')
  return raw
}
