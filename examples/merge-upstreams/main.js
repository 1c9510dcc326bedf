// Several upstream calls merged in one answer, as a module (DGate's README example): three local upstreams
// (profile, orders, recommendations) and a route without a service whose requestHandler calls them all.
// Run: npm run build && node examples/merge-upstreams/main.js   (add --serve to keep it running)
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createGateway } from 'dgate'

/** An upstream serving GET /{user} from `data`, 404 for anyone else. */
async function upstream(data) {
  const server = createServer((req, res) => {
    const found = data[decodeURIComponent(req.url.slice(1))]
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' })
    res.end(JSON.stringify(found ?? { error: 'unknown user' }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${server.address().port}` }
}

const profile = await upstream({ ada: { name: 'Ada Lovelace', plan: 'pro' }, alan: { name: 'Alan Turing', plan: 'free' } })
const orders = await upstream({ ada: [{ id: 'o-1', total: 42 }], alan: [] })
const recommendations = await upstream({ ada: ['difference engine'] }) // nothing for alan: a 404, so a partial answer

const gw = await createGateway() // modules run in the default runtime: SES in worker threads
// The module imports its sources from this sibling module, generated from the upstreams' addresses.
const sources = { profile: profile.url, orders: orders.url, recommendations: recommendations.url }
await gw.modules.put({ name: 'sources', moduleType: 'javascript', payload: `export const sources = ${JSON.stringify(sources)}` })
await gw.modules.put({ name: 'merge', moduleType: 'javascript', payload: readFileSync(new URL('./merge.js', import.meta.url), 'utf8') })
await gw.routes.put({ name: 'dashboard', paths: ['/dashboard/{user}'], methods: ['GET'], modules: ['merge'] })

const listener = await gw.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`gateway listening on ${listener.url}`)

for (const user of ['ada', 'alan', 'nobody']) {
  const res = await fetch(`${listener.url}/dashboard/${user}`)
  console.log(`GET /dashboard/${user} -> ${res.status} ${await res.text()}`)
}

if (!process.argv.includes('--serve')) {
  await gw.close()
  for (const u of [profile, orders, recommendations]) u.server.close()
}
