// Compose a gateway in code on the embedded defaults (memory storage, standalone): two services and their
// routes, a module, a collection with a document and a secret; then show what the gateway holds.
import { createGateway } from 'dgate'

const gw = await createGateway()
await gw.services.put({ name: 'users', urls: ['http://127.0.0.1:3001'], requestTimeout: '5s' })
await gw.services.put({ name: 'orders', urls: ['http://127.0.0.1:3002', 'http://127.0.0.1:3003'], retries: 2 })
await gw.modules.put({
  name: 'auth',
  payload: `export const requestModifier = (ctx) => {
  if (!ctx.request().headers.get('x-key')) ctx.response().status(401).json({ error: 'no key' })
}`,
})
await gw.routes.put({ name: 'users', paths: ['/users/*'], methods: ['*'], service: 'users', modules: ['auth'], stripPath: true })
await gw.routes.put({ name: 'orders', paths: ['/orders/{id}', '/orders'], methods: ['GET', 'POST'], service: 'orders' })
await gw.collections.put({ name: 'links', schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } })
await gw.documents.put({ collection: 'links', id: 'home', data: { url: 'https://example.com' } })
await gw.secrets.put({ name: 'api-token', data: 'never shown' })

// Bad input is refused with the field and the reason, and changes nothing.
const version = gw.snapshot.version
await gw.routes.put({ name: 'broken', paths: ['users'], methods: ['GET'] }).catch((e) => console.log(`refused: ${e.message}`))
await gw.services.delete('users').catch((e) => console.log(`refused: ${e.message}`))
console.log(`state version still ${gw.snapshot.version === version ? 'unchanged' : 'CHANGED'} at ${version}`)

for (const route of await gw.routes.list()) console.log(`route ${route.name}: ${route.methods.join(',')} ${route.paths.join(' ')} -> ${route.service}`)
console.log('secrets (write-only):', await gw.secrets.list())
console.log('documents:', await gw.documents.list('links'))
await gw.close()
