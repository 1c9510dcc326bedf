import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { BlockList, isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Route } from '../resources/route.js'
import type { Service } from '../resources/service.js'
import { hostFromHeader } from '../routing/host-header.js'
import type { Change } from '../state/change.js'
import type { Snapshot } from '../state/snapshot.js'
import type { Dispatcher } from 'undici'
import { Forward, type ForwardPlan } from './forward.js'
import { ModuleCall } from './module-call.js'
import type { ModuleStage } from './module-stage.js'
import type { ForwardInfo } from './headers.js'
import { sendError } from './respond.js'
import { writeAnswer } from './upgrade.js'
import { RouteTable } from './route-table.js'
import { Upstreams, poolKey } from './upstreams.js'

/**
 * Options of the data plane.
 * @public
 */
export interface ProxyOptions {
  /** Peers (IPs or CIDRs) whose X-Forwarded-* and X-Real-IP headers are kept and extended; others' are replaced. */
  trustedProxies?: string[]
  /** Headers set on every proxied response (replacing the upstream's of the same name). */
  globalHeaders?: Record<string, string>
  /** Refuse upstreams that resolve to loopback, private, link-local or cloud-metadata addresses. Default false. */
  disablePrivateIps?: boolean
  /** Largest request body accepted, in bytes (413 above it). Default 64 MiB. */
  maxBodySize?: number
  /** Most connections per upstream origin. Default 256. */
  connectionsPerOrigin?: number
  /** Idle time before an upstream keep-alive connection is closed, in ms. Default 4000. */
  upstreamKeepAliveTimeout?: number
}

/** The function Express and Connect pass to continue with the next middleware. */
export type Next = (error?: unknown) => void

const BODYLESS_LENGTH = '0'

/** Why a request is not forwarded: the answer to give. `unrouted` ones go to `next` when embedded. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly headers?: readonly string[],
    readonly unrouted = false,
  ) {}
}

const NOT_ROUTED = new Refusal(404, 'not found', undefined, true)
const DOT_SEGMENT = new Refusal(400, 'path must not contain "." or ".." segments')

/**
 * Whether a raw path has a `.` or `..` segment, plain or percent-encoded. The router matches such a path as
 * written (`/api/../admin` matches `/api/*`) but the upstream may resolve it (to `/admin`), escaping the route, so
 * it is refused rather than forwarded. Only paths with `/.` or `/%` pay for the regular expression.
 */
function hasDotSegment(path: string): boolean {
  return (path.includes('/.') || path.includes('/%')) && DOT_SEGMENT_RE.test(path)
}
const DOT_SEGMENT_RE = /\/(?:\.|%2e){1,2}(?:\/|$)/i

/**
 * The data plane: routes each request through the current route table and forwards it upstream.
 * The table is replaced as a whole when state changes; a request uses the table it started with.
 */
export class DataPlane {
  #table: RouteTable
  readonly #upstreams: Upstreams
  readonly #trusted: BlockList | undefined
  readonly #globalHeaders: (readonly [string, string])[]
  readonly #maxBodySize: number
  readonly #roundRobin = new WeakMap<Service, { next: number; urls: URL[] }>()
  #inFlight = 0
  #modules: ModuleStage | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  #idle: (() => void) | undefined

  constructor(snapshot: Snapshot, options: ProxyOptions = {}) {
    this.#table = RouteTable.build(snapshot)
    this.#upstreams = new Upstreams({
      disablePrivateIps: options.disablePrivateIps ?? false,
      connectionsPerOrigin: options.connectionsPerOrigin ?? 256,
      keepAliveTimeout: options.upstreamKeepAliveTimeout ?? 4000,
    })
    this.#trusted = trustList(options.trustedProxies ?? [])
    this.#globalHeaders = Object.entries(options.globalHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const)
    this.#maxBodySize = options.maxBodySize ?? 64 * 1024 * 1024
  }

  /**
   * Swaps in the tables for a new snapshot. When services changed, pools no service uses any more are closed a
   * little later, once per burst of changes (a bulk load must not scan every service per change).
   */
  update(snapshot: Snapshot, change: Change | null): void {
    // Namespace resolution reads only domains and namespace names; other changes keep the resolver.
    const resolution = change === null || change.kind === 'domain' || change.kind === 'namespace'
    this.#table = resolution ? RouteTable.build(snapshot, this.#table) : this.#table.withSnapshot(snapshot)
    if ((change === null || change.kind === 'service') && !this.#pruneTimer) {
      this.#pruneTimer = setTimeout(() => {
        this.#pruneTimer = undefined
        this.#pruneUpstreams()
      }, 1000)
      this.#pruneTimer.unref()
    }
  }

  #pruneUpstreams(): void {
    const used = new Set<string>()
    for (const service of this.#table.snapshot.list('service')) for (const url of this.#urls(service).urls) used.add(poolKey(url, service))
    this.#upstreams.prune(used)
  }

  get table(): RouteTable {
    return this.#table
  }

  /** Requests being proxied right now. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Resolves when no request is in flight. */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const previous = this.#idle
      this.#idle = () => {
        previous?.()
        resolve()
      }
    })
  }

  async close(): Promise<void> {
    clearTimeout(this.#pruneTimer)
    await this.#modules?.close()
    await this.#upstreams.close()
  }

  /** The `http.Server` request listener; with `next`, Connect/Express middleware that passes on unrouted requests. */
  handle(req: IncomingMessage, res: ServerResponse, next?: Next): void {
    const plan = this.plan(req)
    if (plan instanceof Refusal) {
      if (plan.unrouted && next) return next()
      return sendError(res, plan.status, plan.message, plan.headers)
    }
    if (plan instanceof ModuleCall) {
      if (!this.#withinBodyLimit(req, res, req.headers['content-length'])) return
      if (!this.#modules) return sendError(res, 501, 'modules are not enabled on this gateway')
      this.#track(res)
      this.#modules.run(req, res, plan)
      return
    }
    if (plan.hasBody && !this.#withinBodyLimit(req, res, req.headers['content-length'])) return
    this.#track(res)
    try {
      new Forward(req, res, plan, this.#upstreams).start()
    } catch {
      sendError(res, 502, 'upstream unavailable')
    }
  }

  /** The pool for an upstream URL with a service's connection settings (shared with ordinary requests). */
  pool(url: URL, service: Service): Dispatcher {
    return this.#upstreams.pool(url, service)
  }

  /** Upgrades on a route with modules: through the module stage, or 501 without one. */
  upgradeWithModules(req: IncomingMessage, socket: Duplex, head: Buffer, call: ModuleCall, protocol: string): void {
    if (!this.#modules) return writeAnswer(socket, 501, ['content-length', '0'], undefined)
    void this.#modules.upgrade(req, socket, head, call, protocol)
  }

  /** Runs routes that have modules through `stage`; without one such routes answer 501. */
  useModules(stage: ModuleStage): void {
    this.#modules = stage
  }

  /** Routes a request through the current table: how to forward it, or why not. */
  plan(req: IncomingMessage): ForwardPlan | ModuleCall | Refusal {
    const table = this.#table
    const hostHeader = req.headers.host
    const host = hostHeader === undefined ? '' : hostFromHeader(hostHeader)
    if (host === undefined) return new Refusal(400, 'malformed Host header')
    const url = req.url ?? ''
    if (url.charCodeAt(0) !== 47) return new Refusal(400, 'request target must be a path starting with "/"')
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const namespace = table.namespaceFor(host)
    if (namespace === undefined) return NOT_ROUTED
    const match = table.match(namespace, req.method!, path)
    if (match.kind === 'not-found') return NOT_ROUTED
    if (match.kind === 'method-not-allowed') return new Refusal(405, 'method not allowed', ['allow', match.allow.join(', ')], true)
    // Checked once routed, so a middleware app behind us still gets its own unrouted paths, dots or not.
    if (hasDotSegment(path)) return DOT_SEGMENT
    const route = match.value.route
    const query = q < 0 ? '' : url.slice(q + 1)
    const modular = route.modules.length > 0
    if (route.service === undefined) {
      if (!modular) return new Refusal(501, 'route has no service and no request handler')
      return new ModuleCall(route, namespace, undefined, match.params, match.pattern, path, match.restStart, query)
    }
    const service = table.snapshot.get('service', namespace, route.service)!
    const length = req.headers['content-length']
    const hasBody = (length !== undefined && length !== BODYLESS_LENGTH) || req.headers['transfer-encoding'] !== undefined
    const upstream = this.#pickUpstream(service)
    const info: ForwardInfo = {
      remoteAddress: plainAddress(req.socket.remoteAddress),
      trusted: this.#isTrusted(req.socket.remoteAddress),
      isTrustedProxy: this.#trusted === undefined ? undefined : this.#isTrustedAddress,
      proto: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      host: route.preserveHost && hostHeader !== undefined ? hostHeader : upstream.host,
      inboundHost: hostHeader ?? '',
      dgate: service.hideDGateHeaders ? undefined : { namespace, route: route.name, service: service.name },
    }
    const forward: ForwardPlan = {
      route,
      namespace,
      service,
      upstream,
      target: rewrite(upstream, route, match.pattern, path, match.restStart, service.disableQueryParams ? '' : query),
      info,
      via: !service.hideDGateHeaders,
      globalHeaders: this.#globalHeaders,
      hasBody,
      bodyLimit: hasBody && length === undefined ? this.#maxBodySize : undefined,
    }
    return modular ? new ModuleCall(route, namespace, forward, match.params, match.pattern, path, match.restStart, query) : forward
  }

  /** 413 for a declared length over the limit (a chunked body is counted as it streams, in Forward). */
  #withinBodyLimit(req: IncomingMessage, res: ServerResponse, length: string | undefined): boolean {
    if (length === undefined || Number(length) <= this.#maxBodySize) return true
    sendError(res, 413, `request body is larger than ${this.#maxBodySize} bytes`, ['connection', 'close'])
    req.resume()
    return false
  }

  #pickUpstream(service: Service): URL {
    const rr = this.#urls(service)
    const url = rr.urls[rr.next % rr.urls.length]!
    rr.next = (rr.next + 1) % rr.urls.length
    return url
  }

  #urls(service: Service): { next: number; urls: URL[] } {
    let rr = this.#roundRobin.get(service)
    if (!rr) this.#roundRobin.set(service, (rr = { next: 0, urls: service.urls.map((u) => new URL(u)) }))
    return rr
  }

  #isTrusted(address: string | undefined): boolean {
    if (!this.#trusted || address === undefined) return false
    return this.#isTrustedAddress(plainAddress(address))
  }

  /** For an address taken from X-Forwarded-For: anything that is not an IP literal is not trusted. */
  readonly #isTrustedAddress = (address: string): boolean => {
    const family = isIP(address)
    return family !== 0 && this.#trusted !== undefined && this.#trusted.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }

  #track(res: ServerResponse): void {
    this.#inFlight++
    res.once('close', this.#release)
  }

  readonly #release = (): void => {
    if (--this.#inFlight === 0 && this.#idle) {
      const idle = this.#idle
      this.#idle = undefined
      idle()
    }
  }
}

/**
 * The upstream path and query: the service URL's path, then the request path (or, with `stripPath`, what the
 * catch-all matched; nothing for a pattern without one), then the service URL's query and the client's.
 */
export function rewrite(upstream: URL, route: Route, pattern: string, path: string, restStart: number, clientQuery: string): string {
  let tail = path
  if (route.stripPath) tail = pattern.endsWith('*') ? `/${path.slice(restStart)}` : ''
  return upstreamTarget(upstream, tail, clientQuery)
}

/** The service URL's path joined with `tail` (an encoded path, or ''), then the service URL's query and `clientQuery`. */
export function upstreamTarget(upstream: URL, tail: string, clientQuery: string): string {
  const base = upstream.pathname.endsWith('/') ? upstream.pathname.slice(0, -1) : upstream.pathname
  let target = base + tail
  if (target === '') target = '/'
  const serviceQuery = upstream.search.length > 1 ? upstream.search.slice(1) : ''
  const query = serviceQuery && clientQuery ? `${serviceQuery}&${clientQuery}` : serviceQuery || clientQuery
  return query ? `${target}?${query}` : target
}

/** A peer address without the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` is `127.0.0.1`). */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

function trustList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const family = isIP(address)
    if (family === 0) throw new TypeError(`proxy.trustedProxies: "${entry}" is not an IP address or CIDR`)
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else {
      const prefix = Number(bits)
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new TypeError(`proxy.trustedProxies: "${entry}" has an invalid prefix length`)
      list.addSubnet(address, prefix, type)
    }
  }
  return list
}
