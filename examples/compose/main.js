// Compose a gateway in code on the embedded defaults (memory storage, standalone): two local upstreams, two
// services and their routes, then real requests through the gateway's own listener.
// Run: npm run example            (add --serve to keep it running)
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createGateway } from 'dgate'

/** A small upstream that says who it is and what it was asked. */
async function upstream(name) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ upstream: name, method: req.method, url: req.url, forwardedFor: req.headers['x-forwarded-for'] }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

const users = await upstream('users')
const ordersA = await upstream('orders-a')
const ordersB = await upstream('orders-b')

const gw = await createGateway()
await gw.services.put({ name: 'users', urls: [users.url], requestTimeout: '5s' })
await gw.services.put({ name: 'orders', urls: [ordersA.url, ordersB.url], retries: 2 })
await gw.routes.put({ name: 'users', paths: ['/users/*'], methods: ['GET'], service: 'users', stripPath: true })
await gw.routes.put({ name: 'orders', paths: ['/orders/{id}', '/orders'], methods: ['GET', 'POST'], service: 'orders' })

// Bad input is refused with the field and the reason, and changes nothing.
await gw.routes.put({ name: 'broken', paths: ['users'], methods: ['GET'] }).catch((e) => console.log(`refused: ${e.message}`))

const listener = await gw.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`gateway listening on ${listener.url}`)

for (const path of ['/users/42?fields=name', '/orders/1', '/orders/2', '/nowhere']) {
  const res = await fetch(listener.url + path) // a client of the example; the gateway itself proxies with undici
  console.log(`GET ${path} -> ${res.status} ${await res.text()}`)
}

if (!process.argv.includes('--serve')) {
  await gw.close()
  for (const u of [users, ordersA, ordersB]) u.server.close()
}
