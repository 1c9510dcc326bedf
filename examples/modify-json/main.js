// JSON modification of a request and of a response as a module (DGate's README example): a local "users v2"
// upstream, and a route whose module lets v1 clients use it by rewriting the JSON both ways.
// Run: npm run build && node examples/modify-json/main.js   (add --serve to keep it running)
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createGateway } from 'dgate'

/** A users API that only knows v2 field names, and keeps a field it should not show. */
const users = new Map()
const upstream = createServer(async (req, res) => {
  let text = ''
  for await (const chunk of req) text += chunk
  console.log(`  upstream got ${req.method} ${req.url} content-length=${req.headers['content-length'] ?? '-'} ${text}`)
  const answer = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  if (req.method === 'POST' && req.url === '/users') {
    const { name, email } = JSON.parse(text)
    if (!name || !email) return answer(422, { error: 'name and email are required' })
    const user = { id: users.size + 1, name, email, passwordHash: '$2b$10$notforyoureyes' }
    users.set(String(user.id), user)
    return answer(201, user)
  }
  const user = users.get(req.url.replace('/users/', ''))
  return user ? answer(200, user) : answer(404, { error: 'no such user' })
})
upstream.listen(0, '127.0.0.1')
await once(upstream, 'listening')

const gw = await createGateway()
await gw.modules.put({ name: 'v1-compat', moduleType: 'typescript', payload: readFileSync(new URL('./modify-json.ts', import.meta.url), 'utf8') })
// stripPath removes what the route matched before its `*` and the service URL's path is prepended, so
// /v1/users/1 reaches the upstream as /users/1.
await gw.services.put({ name: 'users', urls: [`http://127.0.0.1:${upstream.address().port}/users`] })
await gw.routes.put({ name: 'users-v1', paths: ['/v1/users', '/v1/users/*'], methods: ['GET', 'POST'], service: 'users', modules: ['v1-compat'], stripPath: true })

const listener = await gw.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`gateway listening on ${listener.url}`)

async function show(method, path, body) {
  const res = await fetch(listener.url + path, { method, body, headers: body ? { 'content-type': 'application/json' } : {} })
  console.log(`${method} ${path} ${body ?? ''}\n  -> ${res.status} content-length=${res.headers.get('content-length')} ${await res.text()}`)
}

await show('POST', '/v1/users', JSON.stringify({ user_name: 'Zoë', e_mail: 'zoe@example.com' }))
await show('GET', '/v1/users/1')
await show('GET', '/v1/users/2')
await show('POST', '/v1/users', '{"user_name": ')

if (!process.argv.includes('--serve')) {
  await gw.close()
  upstream.close()
}
