// An IP-hash load balancer as a module (DGate's README example): three local upstreams behind one service, a
// fetchUpstream hook that picks one by hashing the client's IP, and requests "from" several clients.
// Run: npm run build && node examples/ip-hash/main.js   (add --serve to keep it running)
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createGateway } from 'dgate'

/** An upstream that says which one it is. */
async function upstream(name) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ upstream: name, url: req.url, forwardedFor: req.headers['x-forwarded-for'] }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

const upstreams = [await upstream('a'), await upstream('b'), await upstream('c')]

// Clients reach us through a proxy on this machine in this example, so we trust 127.0.0.1's X-Forwarded-For: the
// upstreams then see the client's address too.
const gw = await createGateway({ proxy: { trustedProxies: ['127.0.0.1'] } })
await gw.modules.put({ name: 'ip-hash', moduleType: 'javascript', payload: readFileSync(new URL('./ip-hash.js', import.meta.url), 'utf8') })
await gw.services.put({ name: 'pool', urls: upstreams.map((u) => u.url) })
await gw.routes.put({ name: 'lb', paths: ['/lb/*'], methods: ['GET'], service: 'pool', modules: ['ip-hash'], stripPath: true })

const listener = await gw.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`gateway listening on ${listener.url}`)

// Each client asks twice: both answers come from the same upstream.
for (const client of ['192.168.0.1', '192.168.0.2', '10.1.2.3', '172.16.0.9', undefined]) {
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${listener.url}/lb/hello`, { headers: client ? { 'x-forwarded-for': client } : {} })
    const body = await res.json()
    console.log(`${client ?? '127.0.0.1 (no X-Forwarded-For)'} -> upstream ${body.upstream}, x-hash: ${res.headers.get('x-hash') ?? '-'}`)
  }
}

if (!process.argv.includes('--serve')) {
  await gw.close()
  for (const u of upstreams) u.server.close()
}
