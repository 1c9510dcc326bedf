import type { Snapshot } from '../state/snapshot.js'
import { readJson } from './body.js'
import { HttpError, sendData, sendEmpty } from './envelope.js'
import { etag } from './if-match.js'
import { asObject, deleteTarget, namespaceOr, queryInteger, queryNamespace, readSnapshot, requireNamespace, type AdminCall } from './request.js'
import { versionOption } from './resources.js'

const MAX_LIMIT = 1000

/** `?collection=`, required for every document endpoint that does not take it from the body. */
function queryCollection(call: AdminCall): string {
  const collection = call.query.get('collection')
  if (collection === null || collection === '') throw new HttpError(400, 'collection is required')
  return collection
}

/** The collection must exist, and document reads refuse private collections (403). */
function readableCollection(snapshot: Snapshot, namespace: string, collection: string): void {
  requireNamespace(snapshot, namespace)
  const found = snapshot.get('collection', namespace, collection)
  if (!found) throw new HttpError(404, `collection "${collection}" not found in namespace "${namespace}"`)
  if (found.visibility === 'private') throw new HttpError(403, `collection "${collection}" is private`)
}

/**
 * `GET /api/v1/document?collection=&namespace=&limit=&offset=`: documents sorted by id, in the usual envelope with
 * `limit`, `offset` and `total` (the collection's size) beside `count` (DGate answered without the envelope, with
 * limit and offset swapped).
 */
export async function listDocuments(call: AdminCall): Promise<void> {
  const namespace = queryNamespace(call)
  const collection = queryCollection(call)
  const limit = queryInteger(call, 'limit', 100, MAX_LIMIT)
  const offset = queryInteger(call, 'offset', 0, 1_000_000_000)
  const snapshot = await readSnapshot(call)
  readableCollection(snapshot, namespace, collection)
  const documents = snapshot.listDocuments(namespace, collection, { limit, offset })
  sendData(call.res, 200, documents, { limit, offset, total: snapshot.countDocuments(namespace, collection) })
}

/** `GET /api/v1/document/{id}?collection=&namespace=`, with the version in `ETag`. */
export async function getDocument(call: AdminCall, id: string): Promise<void> {
  const namespace = queryNamespace(call)
  const collection = queryCollection(call)
  const snapshot = await readSnapshot(call)
  readableCollection(snapshot, namespace, collection)
  const doc = snapshot.document(namespace, collection, id)
  if (!doc) throw new HttpError(404, `document "${id}" not found in collection "${collection}" of namespace "${namespace}"`)
  sendData(call.res, 200, doc, {}, { etag: etag(snapshot.versionOf('document', namespace, id, collection)!) })
}

/**
 * `PUT /api/v1/document/{id}?collection=&namespace=` with the data as the body (DGate's form), or
 * `PUT /api/v1/document` with `{id, collection, namespace?, data}` (the form of every other kind): 201 with the
 * stored document.
 */
export async function putDocument(call: AdminCall, id: string | undefined): Promise<void> {
  const body = await readJson(call.req, call.options.maxBodySize)
  const spec =
    id === undefined
      ? asObject(body, 'document')
      : { id, collection: queryCollection(call), data: body, ...(call.query.has('namespace') ? { namespace: call.query.get('namespace') } : {}) }
  const stored = await call.backend.documents.put(spec as never, versionOption(call))
  sendData(call.res, 201, stored)
}

/**
 * `DELETE /api/v1/document/{id}?collection=&namespace=`, or `DELETE /api/v1/document` with
 * `{id, collection, namespace?}`: 202. Deleting a whole collection's documents at once is not offered.
 */
export async function deleteDocument(call: AdminCall, id: string | undefined): Promise<void> {
  let target: { id: string; collection: string; namespace: string }
  if (id !== undefined) target = { id, collection: queryCollection(call), namespace: queryNamespace(call) }
  else {
    const body = deleteTarget(asObject(await readJson(call.req, call.options.maxBodySize), 'document'), 'document', ['id', 'collection', 'namespace'])
    if (body.collection === undefined) throw new HttpError(400, 'document: collection is required')
    target = { id: body.id!, collection: body.collection, namespace: namespaceOr(call, body.namespace) }
  }
  await call.backend.documents.delete(target.collection, target.id, { namespace: target.namespace, ...versionOption(call) })
  sendEmpty(call.res, 202)
}
