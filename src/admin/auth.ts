import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import type { ResolvedAdminOptions } from './options.js'

/** Decides whether a request's client address may use the admin API. */
export type AddressCheck = (req: IncomingMessage) => boolean

/** Builds the allow-list check; throws a TypeError naming a bad entry. An empty list allows everyone. */
export function allowListCheck(options: ResolvedAdminOptions): AddressCheck {
  if (options.allowList.length === 0) return () => true
  const list = new BlockList()
  options.allowList.forEach((entry, i) => {
    const [address = '', prefix, extra] = entry.split('/')
    const family = isIP(address)
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN
    if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= (family === 6 ? 128 : 32))) {
      throw new TypeError(`admin.allowList[${i}] must be an IP address or a CIDR, not ${JSON.stringify(entry)}`)
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4')
  })
  return (req) => {
    const address = clientAddress(req, options.xForwardedForDepth)
    if (address === undefined) return false
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/** The address to check: the socket peer, or the depth-th X-Forwarded-For entry from the end (all header lines joined). */
function clientAddress(req: IncomingMessage, depth: number): string | undefined {
  if (depth > 0) {
    const header = req.headers['x-forwarded-for']
    const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => s.trim()).filter(Boolean)
    return unmapped(entries[entries.length - depth])
  }
  return unmapped(req.socket.remoteAddress)
}

/** `::ffff:10.0.0.1` is the IPv4 peer 10.0.0.1 on a dual-stack socket. */
function unmapped(address: string | undefined): string | undefined {
  return address?.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

/** Decides whether a request carries an accepted key. */
export type KeyCheck = (req: IncomingMessage) => boolean

/**
 * Builds the key check. Keys are compared as SHA-256 digests with `timingSafeEqual`, against every key without
 * stopping early, so the time taken says nothing about how much of a key matched or which key it was.
 */
export function keyCheck(options: ResolvedAdminOptions): KeyCheck {
  if (options.auth === 'none') return () => true
  const digests = options.keys.map(digest)
  return (req) => {
    const header = req.headers[options.keyHeader]
    if (typeof header !== 'string' || header === '') return false
    const given = digest(header)
    let ok = false
    for (const d of digests) ok = timingSafeEqual(d, given) || ok
    return ok
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}
