// The upstream of bench/modules: GET /json answers a small fixed JSON document (the body the responseModifier
// target rewrites). Asked with `x-bench-echo` (the check before measuring), it also echoes the request's `x-bench`
// header as `x-bench-seen`, so the check can see that a requestModifier's header reached the upstream; measured
// requests get the same answer whatever the target, so no target relays a header the others do not.
import http from 'node:http'
import { listen } from '../proxy/upstream.js'

/** The JSON document every request gets (about 100 bytes). */
export const DOCUMENT = { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'dev'], active: true }

export function startJsonUpstream(): Promise<number> {
  const body = Buffer.from(JSON.stringify(DOCUMENT))
  const server = http.createServer((req, res) => {
    const seen = req.headers['x-bench']
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': body.length }
    if (req.headers['x-bench-echo'] !== undefined) headers['x-bench-seen'] = typeof seen === 'string' ? seen : 'none'
    // Drain any request body before answering, so keep-alive connections stay usable.
    req.resume()
    req.on('end', () => {
      res.writeHead(200, headers)
      res.end(body)
    })
  })
  // Longer than the gateway's pool idle timeout, so upstream connections are kept between runs.
  server.keepAliveTimeout = 65_000
  return listen(server)
}
