/**
 * Header rules of the proxy (RFC 9110 section 7.6.1): hop-by-hop headers never cross us, forwarding headers are
 * ours to set, and client-sent forwarding headers are trusted only from configured proxies.
 */

/** Connection-specific headers that a proxy must not forward, in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/** Forwarding headers a client could forge; kept only when the client is a trusted proxy. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'forwarded'])

/** Facts about the inbound request that the upstream request's headers are built from. */
export interface ForwardInfo {
  /** The peer's address (the socket's). */
  remoteAddress: string
  /** The peer is a configured trusted proxy: its forwarding headers are kept and extended. */
  trusted: boolean
  /**
   * Whether an address is a configured trusted proxy, to find the client in a trusted peer's X-Forwarded-For
   * (the nearest hop no trusted proxy vouches for). Without it, the left-most entry is taken.
   */
  isTrustedProxy?: ((address: string) => boolean) | undefined
  proto: 'http' | 'https'
  /** `host[:port]` to send upstream as Host. */
  host: string
  /** The inbound Host, for X-Forwarded-Host. */
  inboundHost: string
  /** Identification headers for the upstream, or undefined when the service hides them. */
  dgate: { namespace: string; route: string; service: string } | undefined
}

/**
 * Builds the upstream request's headers as a flat `[name, value, …]` list (what undici takes without copying)
 * from the inbound raw headers.
 */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  const named = connectionTokens(raw)
  const out: string[] = []
  let forwardedFor: string | undefined
  let forwardedHost: string | undefined
  let forwardedProto: string | undefined
  let realIp: string | undefined
  let trailers = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const value = raw[i + 1]!
    const lower = name.toLowerCase()
    if (lower === 'host' || (named !== undefined && named.has(lower)) || lower.startsWith('x-dgate-')) continue
    // Node has already answered `Expect: 100-continue` with 100 Continue (so the body is on its way), and undici
    // refuses to send an Expect header at all: forwarding it would fail every such request (curl sends it for
    // bodies over 1 KiB).
    if (HOP_BY_HOP.has(lower) || (lower.length === 6 && lower === 'expect')) {
      if (lower === 'te' && /(?:^|,)\s*trailers\s*(?:;|,|$)/i.test(value)) trailers = true
      continue
    }
    if (FORWARDING.has(lower)) {
      if (!info.trusted) continue
      if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`
      else if (lower === 'x-forwarded-host') forwardedHost ??= value
      else if (lower === 'x-forwarded-proto') forwardedProto ??= value
      else if (lower === 'x-real-ip') realIp ??= value
      else out.push(name, value)
      continue
    }
    out.push(name, value)
  }
  out.push('host', info.host)
  out.push('x-forwarded-for', forwardedFor === undefined ? info.remoteAddress : `${forwardedFor}, ${info.remoteAddress}`)
  out.push('x-forwarded-host', forwardedHost ?? info.inboundHost)
  out.push('x-forwarded-proto', forwardedProto ?? info.proto)
  out.push('x-real-ip', realIp ?? clientAddress(forwardedFor, info.isTrustedProxy) ?? info.remoteAddress)
  if (trailers) out.push('te', 'trailers')
  if (info.dgate) out.push('via', '1.1 dgate', 'x-dgate-namespace', info.dgate.namespace, 'x-dgate-route', info.dgate.route, 'x-dgate-service', info.dgate.service)
  return out
}

/** Headers named in `Connection` are hop-by-hop for this message only. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase()
      if (t) (tokens ??= new Set()).add(t)
    }
  }
  return tokens
}

/**
 * The client's address in a trusted peer's X-Forwarded-For: walking from the right (the hops nearest to us), the
 * first address that is not itself a trusted proxy. The left-most entry is whatever the client chose to send, so
 * taking it would let anyone behind a trusted proxy forge X-Real-IP.
 */
function clientAddress(list: string | undefined, isTrusted: ((address: string) => boolean) | undefined): string | undefined {
  if (list === undefined) return undefined
  const hops = list.split(',')
  let address: string | undefined
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim()
    if (hop === '') continue
    address = hop
    if (isTrusted === undefined || !isTrusted(hop)) break
  }
  return address
}

/**
 * The client response's headers as a flat list for `writeHead`, from the upstream's flat `[name, value, …]` list:
 * hop-by-hop headers removed, `Via` extended (unless hidden), and the global headers, which replace upstream
 * headers of the same name.
 */
export function clientResponseHeaders(upstream: readonly string[], via: boolean, globalHeaders: readonly (readonly [string, string])[], upgrade = false): string[] {
  const out: string[] = []
  const named = upgrade ? undefined : connectionTokens(upstream)
  let upstreamVia: string | undefined
  for (let i = 0; i < upstream.length; i += 2) {
    const name = upstream[i]!
    const value = upstream[i + 1]!
    const lower = name.toLowerCase()
    // `Trailer` announces trailers we do forward; an upgrade answer keeps its Connection and Upgrade.
    if (HOP_BY_HOP.has(lower) && lower !== 'trailer' && !(upgrade && (lower === 'connection' || lower === 'upgrade'))) continue
    if (named !== undefined && named.has(lower)) continue
    if (via && lower === 'via') {
      upstreamVia = upstreamVia === undefined ? value : `${upstreamVia}, ${value}`
      continue
    }
    if (globalHeaders.length > 0 && globalHeaders.some(([g]) => g === lower)) continue
    out.push(name, value)
  }
  if (via) out.push('via', upstreamVia === undefined ? '1.1 dgate' : `${upstreamVia}, 1.1 dgate`)
  for (const [name, value] of globalHeaders) out.push(name, value)
  return out
}

/** A parsed header object (as undici's higher-level APIs give them) as a flat `[name, value, …]` list. */
export function flatHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): string[] {
  const out: string[] = []
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const v of value) out.push(name, v)
  }
  return out
}
