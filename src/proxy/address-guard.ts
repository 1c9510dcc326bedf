import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { buildConnector } from 'undici'

/**
 * Addresses an upstream or a module fetch must not reach when `disablePrivateIps` is on: loopback, private,
 * shared (CGNAT), link-local (cloud metadata lives at 169.254.169.254), unspecified, multicast and reserved.
 */
const BLOCKED = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) BLOCKED.addSubnet(net, bits, 'ipv6')

/** Whether `address` (an IP literal) is one a guarded request may not connect to. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return BLOCKED.check(address, 'ipv4')
  if (family !== 6) return true
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4')
  return BLOCKED.check(address, 'ipv6')
}

/** The error a guarded connection fails with; carries a code so callers can map it. */
export class BlockedAddressError extends Error {
  readonly code = 'EDGATE_BLOCKED_ADDRESS'
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, which is not allowed (disablePrivateIps)`)
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `dns.lookup` replacement for `net.connect` that refuses blocked addresses, checked on the resolved address
 * (so a public name pointing at 127.0.0.1 is refused too).
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '')
    const list = addresses as LookupAddress[]
    const bad = list.find((a) => isBlockedAddress(a.address))
    if (bad) return callback(Object.assign(new BlockedAddressError(hostname, bad.address), { errno: 0 }) as NodeJS.ErrnoException, '')
    if (options.all) return callback(null, list)
    const first = list[0]
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '')
    callback(null, first.address, first.family)
  })
}

/**
 * An undici connector that refuses blocked addresses (`disablePrivateIps`): names through the guarded lookup, and
 * IP literals before connecting, since `net.connect` never calls `lookup` for those. Upstream pools and module
 * fetches both connect through it.
 */
export function guardedConnector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guardedLookup } as buildConnector.BuildOptions)
  return (opts, callback) => {
    const literal = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname
    if (isIP(literal) !== 0 && isBlockedAddress(literal)) return callback(new BlockedAddressError(opts.hostname, literal), null)
    return connect(opts, callback)
  }
}
