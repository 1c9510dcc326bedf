import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { createModuleHarness, type ModuleHarnessOptions } from '../../src/testing/index.js'

// examples/url-shortener: DGate's URL shortener on documents, through a live gateway (realm runtime).
const dir = new URL('../../examples/url-shortener/', import.meta.url)
const payload = readFileSync(new URL('shortener.js', dir), 'utf8')
const schema = JSON.parse(readFileSync(new URL('short_link.schema.json', dir), 'utf8')) as Record<string, unknown>

let gw: Gateway
let front: Listener

beforeAll(async () => {
  gw = await createGateway({ modules: { runtime: 'realm' }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.collections.put({ name: 'short_link', type: 'document', visibility: 'private', schema })
  await gw.modules.put({ name: 'shortener', moduleType: 'javascript', payload })
  await gw.routes.put({ name: 'shortener', paths: ['/', '/{id}'], methods: ['GET', 'POST'], modules: ['shortener'] })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw?.close()
})

/** The example's id: the last 8 characters of the URL's SHA-1 in unpadded base64url. */
const idOf = (url: string) => createHash('sha1').update(url).digest('base64url').slice(-8)

async function shorten(url: string): Promise<{ status: number; body: unknown }> {
  const res = await request(`${front.url}/?url=${encodeURIComponent(url)}`, { method: 'POST' })
  return { status: res.statusCode, body: await res.body.json() }
}

describe('examples/url-shortener through a live gateway', () => {
  it('round-trips: POST stores the link under its hash id, GET /{id} redirects there with 307', async () => {
    const url = 'https://github.com/dgate-io/dgate?tab=readme#modules'
    const id = idOf(url)
    expect(await shorten(url)).toEqual({ status: 201, body: { id } })
    // The document went through the change path into the collection, with server timestamps.
    const doc = await gw.documents.get('short_link', id)
    expect(doc).toMatchObject({ id, collection: 'short_link', data: { url } })
    expect(doc?.createdAt).toEqual(expect.any(String))

    const res = await request(`${front.url}/${id}`)
    expect(res.statusCode).toBe(307)
    expect(res.headers.location).toBe(url)
    await res.body.dump()
    // Shortening the same URL again gives the same id (and one document).
    expect(await shorten(url)).toEqual({ status: 201, body: { id } })
    expect((await gw.documents.list('short_link')).filter((d) => d.id === id)).toHaveLength(1)
  })

  it('answers 404 for an unknown id and 400 without a url', async () => {
    const missing = await request(`${front.url}/nope1234`)
    expect([missing.statusCode, await missing.body.json()]).toEqual([404, { error: 'no such link' }])
    const root = await request(`${front.url}/`)
    expect([root.statusCode, await root.body.json()]).toEqual([404, { error: 'no such link' }])
    const empty = await request(`${front.url}/`, { method: 'POST' })
    expect([empty.statusCode, await empty.body.json()]).toEqual([400, { error: 'url is required' }])
  })

  it("refuses a link the collection's JSON Schema does not allow, and stores nothing", async () => {
    const before = await gw.documents.list('short_link')
    for (const bad of ['javascript:alert(1)', 'ftp://example.com/file', 'https://exa mple.com', `https://example.com/${'x'.repeat(2048)}`]) {
      const { status, body } = await shorten(bad)
      expect(status, bad).toBe(400)
      expect((body as { error: string }).error, bad).toMatch(new RegExp(`^document "${idOf(bad)}": data\\.url must `))
      expect(await gw.documents.get('short_link', idOf(bad))).toBeUndefined()
    }
    expect(await gw.documents.list('short_link')).toEqual(before)
  })
})

describe('examples/url-shortener in the module harness', () => {
  const collections: ModuleHarnessOptions['collections'] = [{ name: 'short_link', type: 'document', schema }]

  it('POST stores the link and answers 201 with its id; the schema refuses a bad one and nothing is stored', async () => {
    const harness = await createModuleHarness({ module: payload, moduleType: 'javascript', collections })
    try {
      const url = 'https://example.com/a?b=c'
      const created = await harness.run({ method: 'POST', url: `/?url=${encodeURIComponent(url)}` })
      expect([created.response.status, created.response.from, created.response.json()]).toEqual([201, 'requestHandler', { id: idOf(url) }])
      expect(created.documents).toEqual({ short_link: { [idOf(url)]: { url } } })
      expect(created.upstreamRequest).toBeUndefined()

      const refused = await harness.run({ method: 'POST', url: '/?url=data:text/html,hi' })
      expect(refused.response.status).toBe(400)
      expect(refused.response.json<{ error: string }>().error).toMatch(/data\.url must match pattern/)
      expect(refused.documents).toEqual(created.documents)
    } finally {
      await harness.close()
    }
  })

  it('GET /{id} redirects to the stored URL with 307, and an unknown id is 404', async () => {
    const url = 'https://example.com/long/path'
    const id = idOf(url)
    // Path parameters are harness options, so one harness per id.
    const found = await createModuleHarness({ module: payload, moduleType: 'javascript', collections, params: { id }, documents: [{ collection: 'short_link', id, data: { url } }] })
    const missing = await createModuleHarness({ module: payload, moduleType: 'javascript', collections, params: { id: 'nope1234' } })
    try {
      const hit = await found.run({ url: `/${id}` })
      expect([hit.response.status, hit.response.headers.get('location')]).toEqual([307, url])
      const miss = await missing.run({ url: '/nope1234' })
      expect([miss.response.status, miss.response.json()]).toEqual([404, { error: 'no such link' }])
    } finally {
      await Promise.all([found.close(), missing.close()])
    }
  })
})
