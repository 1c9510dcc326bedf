// A URL shortener as a module (DGate's README example): a collection with a JSON Schema for the links, and a route
// without a service whose requestHandler creates short ids and redirects them.
// Run: npm run build && node examples/url-shortener/main.js   (add --serve to keep it running)
import { readFileSync } from 'node:fs'
import { createGateway } from 'dgate'

const gw = await createGateway()
// Every write to the collection, from the module or the admin API, is validated against its JSON Schema: links
// are http(s) URLs and nothing else.
await gw.collections.put({
  name: 'short_link',
  type: 'document',
  visibility: 'private', // the links are the module's business: the admin API doesn't list them
  schema: JSON.parse(readFileSync(new URL('./short_link.schema.json', import.meta.url), 'utf8')),
})
await gw.modules.put({ name: 'shortener', moduleType: 'javascript', payload: readFileSync(new URL('./shortener.js', import.meta.url), 'utf8') })
await gw.routes.put({ name: 'shortener', paths: ['/', '/{id}'], methods: ['GET', 'POST'], modules: ['shortener'] })

const listener = await gw.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
console.log(`gateway listening on ${listener.url}`)

async function show(method, path) {
  // redirect: 'manual' so we print the 307 rather than follow it
  const res = await fetch(listener.url + path, { method, redirect: 'manual' })
  const location = res.headers.get('location')
  const text = await res.text()
  console.log(`${method} ${path} -> ${res.status}${location ? ` Location: ${location}` : ''} ${text.trim()}`)
  return text
}

const { id } = JSON.parse(await show('POST', `/?url=${encodeURIComponent('https://github.com/dgate-io/dgate')}`))
await show('GET', `/${id}`)
await show('GET', '/nope1234')
await show('POST', `/?url=${encodeURIComponent('javascript:alert(1)')}`)

if (!process.argv.includes('--serve')) await gw.close()
