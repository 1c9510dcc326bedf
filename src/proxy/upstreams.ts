import { Pool, buildConnector, errors } from 'undici'
import type { Service } from '../resources/service.js'
import { guardedConnector } from './address-guard.js'

/** Options that apply to every upstream pool. */
export interface UpstreamOptions {
  /** Refuse upstreams that resolve to loopback, private, link-local or metadata addresses. */
  disablePrivateIps: boolean
  /** Most connections per upstream origin. */
  connectionsPerOrigin: number
  /** Idle keep-alive time of upstream connections, in ms. */
  keepAliveTimeout: number
}

/**
 * One undici Pool per upstream origin and connection settings, shared by every route that reaches it.
 * Pools no service uses any more are closed gracefully (in-flight requests finish) when state changes.
 */
export class Upstreams {
  readonly #pools = new Map<string, Pool>()
  readonly #options: UpstreamOptions
  #closed = false

  constructor(options: UpstreamOptions) {
    this.#options = options
  }

  /** The pool for `url` with `service`'s connection settings. */
  pool(url: URL, service: Service): Pool {
    const key = poolKey(url, service)
    let pool = this.#pools.get(key)
    if (!pool) {
      if (this.#closed) throw new Error('the gateway is closed')
      pool = this.#create(url, service)
      this.#pools.set(key, pool)
    }
    return pool
  }

  /** Closes pools whose key is not in `used` (the keys of every service URL in the new state). */
  prune(used: ReadonlySet<string>): void {
    for (const [key, pool] of this.#pools) {
      if (used.has(key)) continue
      this.#pools.delete(key)
      void pool.close().catch(() => {})
    }
  }

  /** Waits for in-flight requests, then closes every pool. */
  async close(): Promise<void> {
    this.#closed = true
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((p) => p.close().catch(() => {})))
  }

  #create(url: URL, service: Service): Pool {
    const tls = url.protocol === 'https:' || url.protocol === 'wss:'
    const origin = `${tls ? 'https' : 'http'}://${url.host}`
    const allowH2 = tls && service.http2Only
    const useH2c = url.protocol === 'h2c:'
    const options: buildConnector.BuildOptions & { useH2c?: boolean } = { timeout: 0, allowH2, useH2c }
    if (tls) (options as { rejectUnauthorized?: boolean }).rejectUnauthorized = !service.tlsSkipVerify
    return new Pool(origin, {
      connections: this.#options.connectionsPerOrigin,
      keepAliveTimeout: this.#options.keepAliveTimeout,
      connect: withTimeout(this.#options.disablePrivateIps ? guardedConnector(options) : buildConnector(options), service.connectTimeout ?? 10_000),
      allowH2,
      // A slow upstream body is the client's business: only header arrival is timed (requestTimeout).
      bodyTimeout: 0,
    })
  }
}

/**
 * Gives a connector a connect timeout on a native timer: undici's runs on its coarse timer wheel (about 0.5 s
 * ticks), which turns a 200 ms `connectTimeout` into up to a second. One timer per new connection, not per request.
 */
function withTimeout(connect: buildConnector.connector, timeout: number): buildConnector.connector {
  return (options, callback) => {
    if (timeout <= 0) return connect(options, callback)
    let settled = false
    // Made before connecting: a connector may call back synchronously (the address guard does).
    const pending: { timer?: NodeJS.Timeout } = {}
    // buildConnector's connect returns the socket, though its type says void.
    const socket = (connect as unknown as (o: buildConnector.Options, cb: buildConnector.Callback) => { destroy(error: Error): void } | undefined)(options, (...args) => {
      settled = true
      clearTimeout(pending.timer)
      callback(...args)
    })
    if (settled) return
    pending.timer = setTimeout(() => {
      if (settled) return
      const error = new errors.ConnectTimeoutError(`connect timeout: ${options.hostname}:${options.port} did not connect within ${timeout} ms`)
      if (socket) socket.destroy(error)
      else callback(error, null)
    }, timeout)
    pending.timer.unref()
  }
}

/** Pools are shared between services whose URLs reach the same origin with the same connection settings. */
export function poolKey(url: URL, service: Service): string {
  return `${url.protocol}//${url.host}|${service.connectTimeout ?? ''}|${service.tlsSkipVerify ? 1 : 0}|${service.http2Only ? 1 : 0}`
}
