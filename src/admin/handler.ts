import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Next } from '../proxy/proxy.js'
import { KIND_NAMES, isResourceKind, type ResourceKind } from '../resources/kinds.js'
import { allowListCheck, keyCheck } from './auth.js'
import type { AdminBackend } from './backend.js'
import { deleteDocument, getDocument, listDocuments, putDocument } from './documents.js'
import { HttpError, describeError, sendData, sendError, sendJson } from './envelope.js'
import { resolveAdminOptions, type AdminOptions } from './options.js'
import type { AdminCall } from './request.js'
import { deleteNamespace, deleteResource, getNamespace, getResource, listNamespaces, listResources, putNamespace, putResource } from './resources.js'

/** The admin API as a request listener (Connect/Express middleware with `next`: unknown paths go on). */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, next?: Next) => void

/**
 * Builds the admin API over `backend`. Throws a TypeError naming the option when `options` can't be served safely
 * (key auth without keys, a bad allow-list entry).
 */
export function createAdminHandler(backend: AdminBackend, options: AdminOptions = {}): AdminHandler {
  const resolved = resolveAdminOptions(options)
  const allowed = allowListCheck(resolved)
  const authorized = keyCheck(resolved)
  return (req, res, next) => {
    void serve(req, res, next).catch((error: unknown) => {
      const { status, message, headers } = describeError(error)
      if (res.headersSent) return void res.destroy()
      sendError(res, status, message, headers)
    })
  }

  async function serve(req: IncomingMessage, res: ServerResponse, next: Next | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid')
    if (!allowed(req)) throw new HttpError(403, 'forbidden: this address may not use the admin API')
    const path = url.pathname
    // Probes carry no key (load balancers, kubelets), so health and readiness are open to allowed addresses.
    if (path === '/healthz' || path === '/readyz') return health(res, req.method, path === '/readyz' ? backend : undefined)
    if (!authorized(req)) throw new HttpError(401, `unauthorized: send a valid API key in ${resolved.keyHeader}`)
    const call: AdminCall = { req, res, query: url.searchParams, backend, options: resolved }
    if (path === '/' || path === '') return index(call)
    const parts = path.split('/').slice(1)
    if (parts[0] !== 'api' || parts[1] !== 'v1' || parts.length < 3 || parts.length > 4) return unknown(res, next)
    const [, , kind = '', rawName] = parts
    if (kind === 'cluster' && rawName === undefined) return cluster(call)
    if (!isResourceKind(kind)) {
      if (next) return next()
      throw new HttpError(404, `unknown resource kind "${kind}" (${KIND_NAMES.join(', ')}, or cluster)`)
    }
    const name = rawName === undefined ? undefined : decode(rawName)
    if (name === '') return unknown(res, next)
    return dispatch(call, kind, name)
  }
}

async function dispatch(call: AdminCall, kind: ResourceKind, name: string | undefined): Promise<void> {
  const method = call.req.method ?? 'GET'
  const allow = name === undefined || kind === 'document' ? 'GET, PUT, DELETE' : 'GET, DELETE'
  if (method === 'GET') {
    if (kind === 'namespace') return name === undefined ? listNamespaces(call) : getNamespace(call, name)
    if (kind === 'document') return name === undefined ? listDocuments(call) : getDocument(call, name)
    return name === undefined ? listResources(call, kind) : getResource(call, kind, name)
  }
  if (method === 'PUT' && allow.includes('PUT')) {
    if (kind === 'namespace') return putNamespace(call)
    if (kind === 'document') return putDocument(call, name)
    return putResource(call, kind)
  }
  if (method === 'DELETE') {
    if (kind === 'namespace') return deleteNamespace(call, name)
    if (kind === 'document') return deleteDocument(call, name)
    return deleteResource(call, kind, name)
  }
  throw new HttpError(405, `method ${method} is not allowed here (${allow})`, { allow })
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new HttpError(400, 'the path is not valid percent-encoding')
  }
}

function unknown(res: ServerResponse, next: Next | undefined): void {
  if (next) return next()
  sendError(res, 404, 'not found')
}

function index(call: AdminCall): void {
  const text = 'DGate Admin API\n'
  call.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(text.length), 'x-dgate-role': call.backend.cluster.status().role })
  call.res.end(text)
}

/** `GET /api/v1/cluster`: this node's view (role, leader, term, indexes, members); one member when standalone. */
function cluster(call: AdminCall): void {
  if (call.req.method !== 'GET') throw new HttpError(405, `method ${call.req.method ?? ''} is not allowed here (GET)`, { allow: 'GET' })
  sendData(call.res, 200, call.backend.cluster.status())
}

/**
 * `/healthz`: 200 `{status: "ok"}` while the process serves. `/readyz`: 200 when the node knows a leader (always
 * when standalone), else 503 `{status: "no leader"}`.
 */
function health(res: ServerResponse, method: string | undefined, readiness: AdminBackend | undefined): void {
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `method ${method ?? ''} is not allowed here (GET)`, { allow: 'GET' })
  if (!readiness) return sendJson(res, 200, { status: 'ok' })
  const status = readiness.cluster.status()
  const headers = { 'x-dgate-role': status.role, ...(status.leader === undefined ? {} : { 'x-dgate-leader': status.leader }) }
  if (status.leader === undefined) return sendJson(res, 503, { status: 'no leader' }, headers)
  sendJson(res, 200, { status: 'ok' }, headers)
}
