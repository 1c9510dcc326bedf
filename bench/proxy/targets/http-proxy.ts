// node-http-proxy with a keep-alive http.Agent upstream (without one it opens a connection per request, which is
// how some published benchmarks made it look 40x slower). xfwd off, as in its defaults.
import http from 'node:http'
import httpProxy from 'http-proxy'
import { listen } from '../upstream.js'

export async function startHttpProxy(upstream: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 })
  const proxy = httpProxy.createProxyServer({ target: upstream, agent })
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502, { 'content-length': 11 }).end('Bad Gateway')
    else res.destroy()
  })
  return listen(http.createServer((req, res) => proxy.web(req, res)))
}
