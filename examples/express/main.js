// dgate inside an Express app: the app keeps its own routes, and everything under /api that a dgate route
// serves is proxied; what no route serves falls through to the app.
// Run: npm run build && node examples/express/main.js   (add --serve to keep it running)
import { createServer } from 'node:http'
import { once } from 'node:events'
import express from 'express'
import { createGateway } from 'dgate'

const upstream = createServer((req, res) => res.end(`catalog says hi to ${req.url}`))
upstream.listen(0, '127.0.0.1')
await once(upstream, 'listening')

const gw = await createGateway()
await gw.services.put({ name: 'catalog', urls: [`http://127.0.0.1:${upstream.address().port}`] })
await gw.routes.put({ name: 'catalog', paths: ['/catalog/*'], methods: ['GET'], service: 'catalog', stripPath: true })

const app = express()
app.get('/health', (_req, res) => res.json({ ok: true }))
app.use('/api', gw.handler)
app.use((req, res) => res.status(404).json({ error: `the app has nothing at ${req.path}` }))
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1')
server.on('upgrade', gw.upgrade)
await once(server, 'listening')
const base = `http://127.0.0.1:${server.address().port}`
console.log(`app listening on ${base}`)

for (const path of ['/health', '/api/catalog/items/1', '/api/unknown']) {
  const res = await fetch(base + path)
  console.log(`GET ${path} -> ${res.status} ${await res.text()}`)
}

if (!process.argv.includes('--serve')) {
  server.close()
  await gw.close()
  upstream.close()
}
