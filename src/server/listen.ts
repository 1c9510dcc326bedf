import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { SecureContext } from 'node:tls'
import type { Snapshot } from '../state/snapshot.js'
import { CertificateStore } from './certificates.js'

/**
 * Options of `gw.listen()`. Limits protect the gateway from slow or oversized clients.
 * @public
 */
export interface ListenOptions {
  /** Port (default 0: any free port; see the returned address). */
  port?: number
  /** Address to bind (default: all interfaces). */
  host?: string
  /**
   * Serve HTTPS. Certificates are chosen per SNI name from domains that have `cert` and `key`; `cert`/`key` here
   * are the fallback for names no domain covers (without them such handshakes fail).
   */
  tls?: boolean | { cert?: string; key?: string }
  /** Also accept HTTP/2 (TLS only; HTTP/1.1 stays available through ALPN). */
  http2?: boolean
  /** Time to receive a request's headers, in ms (default 30 000). */
  headersTimeout?: number
  /** Time to receive a whole request, in ms (default 300 000; 0 for none). */
  requestTimeout?: number
  /** Largest request header section, in bytes (default 16 384); larger gets 431. */
  maxHeaderSize?: number
  /** Idle time of a client keep-alive connection, in ms (default 5000). */
  keepAliveTimeout?: number
  /** On close, how long in-flight requests may take before their connections are cut, in ms (default 10 000). */
  drainTimeout?: number
}

/**
 * A running listener.
 * @public
 */
export interface Listener {
  /** Where it listens. */
  readonly address: AddressInfo
  /** `http://127.0.0.1:PORT` or `https://…`: a base URL for local clients. */
  readonly url: string
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void
type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/** Starts a listener serving `handler` (and `upgrade` for Upgrade requests on HTTP/1.1). */
export async function listen(options: ListenOptions, handler: Handler, upgrade: UpgradeHandler, snapshot: () => Snapshot): Promise<Listener> {
  const limits = {
    headersTimeout: options.headersTimeout ?? 30_000,
    requestTimeout: options.requestTimeout ?? 300_000,
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    requireHostHeader: true,
    // Node checks header and request timeouts on this interval (30 s by default), which would let short limits slip.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor((options.headersTimeout ?? 30_000) / 4))),
  }
  if (limits.requestTimeout !== 0 && limits.headersTimeout > limits.requestTimeout) {
    throw new RangeError(`listen: headersTimeout (${limits.headersTimeout}) must not exceed requestTimeout (${limits.requestTimeout})`)
  }
  let server: Server
  if (options.tls) {
    const fallback = typeof options.tls === 'object' ? options.tls : {}
    if (Boolean(fallback.cert) !== Boolean(fallback.key)) throw new TypeError('listen: tls.cert and tls.key go together')
    const certificates = new CertificateStore(snapshot)
    const tls = {
      ...(fallback.cert ? { cert: fallback.cert, key: fallback.key } : {}),
      SNICallback: (servername: string, done: (err: Error | null, ctx?: SecureContext) => void) => {
        const context = certificates.contextFor(servername)
        // Without a match, undefined lets the listener's own (fallback) certificate answer, if it has one.
        if (context || fallback.cert) done(null, context)
        else done(new Error(`no certificate for "${servername}"`))
      },
    }
    if (options.http2) {
      const h2 = createSecureServer({ ...tls, allowHTTP1: true, maxSessionMemory: 32 }, (req, res) => handler(...fromHttp2(req, res)))
      server = h2 as unknown as Server
      server.headersTimeout = limits.headersTimeout
      server.requestTimeout = limits.requestTimeout
      server.keepAliveTimeout = limits.keepAliveTimeout
    } else {
      server = createHttpsServer({ ...tls, ...limits }, handler)
    }
  } else {
    if (options.http2) throw new TypeError('listen: http2 needs tls (cleartext HTTP/2 is not offered)')
    server = createHttpServer(limits, handler)
  }
  server.on('upgrade', upgrade)
  // A client that sends garbage gets a 400 from Node's parser; the socket must not take the process down.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy()
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  })
  server.listen(options.port ?? 0, options.host)
  await once(server, 'listening')
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? (address.address === '::' ? '127.0.0.1' : `[${address.address}]`) : address.address === '0.0.0.0' ? '127.0.0.1' : address.address
  return {
    address,
    url: `${options.tls ? 'https' : 'http'}://${shown}:${address.port}`,
    close: () => drain(server, options.drainTimeout ?? 10_000),
  }
}

/**
 * Stops accepting, then closes each connection as soon as it has no request in flight; connections still busy
 * after `timeout` are cut.
 */
function drain(server: Server, timeout: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections?.(), 50)
    const deadline = setTimeout(() => server.closeAllConnections?.(), timeout)
    server.close(() => {
      clearInterval(sweep)
      clearTimeout(deadline)
      resolve()
    })
    server.closeIdleConnections?.()
  })
}

/** HTTP/2 requests carry the authority and pseudo-headers differently; present them as the pipeline expects. */
function fromHttp2(req: Http2ServerRequest, res: Http2ServerResponse): [IncomingMessage, ServerResponse] {
  if (req.httpVersionMajor === 2) {
    const raw = req.rawHeaders.filter((_, i, all) => !all[i - (i % 2)]!.startsWith(':'))
    const authority = req.headers[':authority']
    if (req.headers.host === undefined && typeof authority === 'string') {
      req.headers.host = authority
      raw.push('host', authority)
    }
    Object.defineProperty(req, 'rawHeaders', { value: raw })
  }
  return [req as unknown as IncomingMessage, res as unknown as ServerResponse]
}
