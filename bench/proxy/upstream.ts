// The upstream every target proxies to: a plain node:http server with keep-alive.
//   GET  /bytes/<n>  -> 200 with a fixed body of n bytes (preallocated, so the upstream's cost stays flat)
//   POST /upload     -> reads the whole body, answers `received <n>` so a check can see the body went through
import http from 'node:http'

const bodies = new Map<number, Buffer>()
function bodyOf(size: number): Buffer {
  let body = bodies.get(size)
  if (!body) bodies.set(size, (body = Buffer.alloc(size, 'a')))
  return body
}

export function startUpstream(): Promise<number> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (req.method === 'POST') {
      let received = 0
      req.on('data', (chunk: Buffer) => (received += chunk.length))
      req.on('end', () => {
        const body = `received ${received}`
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      })
      return
    }
    const size = url.startsWith('/bytes/') ? Number(url.slice(7)) : NaN
    if (!Number.isInteger(size) || size < 0 || size > 64 * 1024 * 1024) {
      res.writeHead(404, { 'content-length': 0 }).end()
      return
    }
    const body = bodyOf(size)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    res.end(body)
  })
  // Longer than any proxy's pool idle timeout, so proxies keep their upstream connections between runs.
  server.keepAliveTimeout = 65_000
  return listen(server)
}

export function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : 0)
    })
  })
}
