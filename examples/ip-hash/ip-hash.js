// DGate's IP-hash load balancer: the same client always reaches the same upstream of the service (sticky without
// cookies), and different clients spread over all of them. Ported from DGate's iphash_load_balancer_test.ts.
import { createHash } from 'dgate/crypto'
/** @import { ModuleContext } from 'dgate' */

/**
 * Picks the upstream from a hash of the client's address. Hooks may be async; this one doesn't need to be.
 * @param {ModuleContext} ctx
 * @returns {string}
 */
export function fetchUpstream(ctx) {
  const req = ctx.request()
  // Behind a proxy or load balancer the peer is that proxy, so the client is the first X-Forwarded-For entry. A
  // client can send its own X-Forwarded-For; that only chooses its upstream, which is harmless for balancing.
  const client = req.headers.get('X-Forwarded-For').split(',')[0].trim() || req.remoteAddress
  const hash = createHash('sha1').update(client).digest('hex')
  const urls = /** @type {string[]} */ (ctx.service()?.urls)
  // The first 16 bits of the hash, modulo the number of upstreams (as DGate's example).
  const index = parseInt(hash.slice(0, 4), 16) % urls.length
  // Headers set on ctx.response() in fetchUpstream go out with the proxied response: handy to see the choice.
  ctx.response().headers.set('X-Hash', hash).set('X-Remote-Address', client)
  return /** @type {string} */ (urls[index])
}
