import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adminFixture, type AdminFixture } from './fixture.js'

let f: AdminFixture
beforeEach(async () => {
  f = await adminFixture()
})
afterEach(async () => {
  await f.close()
})

const DEFAULT_NS = { name: 'default', tags: ['default'] }

describe('namespaces', () => {
  it('are created, listed, read by name with a version and deleted', async () => {
    const put = await f.call('PUT', '/api/v1/namespace', { body: { name: 'team', tags: ['a'] } })
    expect(put.status).toBe(201)
    expect(put.json).toEqual({ status_code: 201, data: [DEFAULT_NS, { name: 'team', tags: ['a'] }], count: 2 })

    expect((await f.call('GET', '/api/v1/namespace')).json).toEqual({ status_code: 200, data: [DEFAULT_NS, { name: 'team', tags: ['a'] }], count: 2 })
    const one = await f.call('GET', '/api/v1/namespace/team')
    expect(one.status).toBe(200)
    expect(one.json).toEqual({ status_code: 200, data: { name: 'team', tags: ['a'] } })
    expect(one.headers.etag).toBe(`"${f.gw.snapshot.versionOf('namespace', 'team', 'team')}"`)
    expect(one.headers['content-type']).toBe('application/json; charset=utf-8')

    const del = await f.call('DELETE', '/api/v1/namespace', { body: { name: 'team' } })
    expect(del.status).toBe(202)
    expect(del.text).toBe('')
    expect(f.gw.snapshot.namespace('team')).toBeUndefined()
  })

  it('refuse bad input naming the field, and change nothing', async () => {
    const version = f.gw.snapshot.version
    expect(await f.call('PUT', '/api/v1/namespace', { body: { name: 'a/b' } })).toMatchObject({
      status: 400,
      json: { error: 'namespace "a/b": name must be 1 to 128 characters of letters, digits, ".", "_" or "-"', status: 400 },
    })
    expect((await f.call('PUT', '/api/v1/namespace', { body: { tags: [] } })).json).toEqual({ error: 'namespace: name is required', status: 400 })
    expect((await f.call('PUT', '/api/v1/namespace', { body: { name: 'x', colour: 'red' } })).json).toEqual({ error: 'namespace "x": unknown field "colour"', status: 400 })
    expect((await f.call('PUT', '/api/v1/namespace', { body: ['x'] })).json).toEqual({ error: 'namespace: body must be a JSON object', status: 400 })
    expect((await f.call('PUT', '/api/v1/namespace', { raw: '{"name":' })).json).toMatchObject({ error: expect.stringMatching(/^request body is not valid JSON: /), status: 400 })
    expect((await f.call('PUT', '/api/v1/namespace', { raw: '' })).json).toEqual({ error: 'request body is empty: send a JSON object', status: 400 })
    expect(f.gw.snapshot.version).toBe(version)
  })

  it('answer 404 for a missing one and 409 for one still in use', async () => {
    expect(await f.call('GET', '/api/v1/namespace/nope')).toMatchObject({ status: 404, json: { error: 'namespace "nope" not found', status: 404 } })
    expect(await f.call('DELETE', '/api/v1/namespace/nope')).toMatchObject({ status: 404, json: { error: 'namespace "nope" not found', status: 404 } })
    await f.gw.namespaces.put({ name: 'team' })
    await f.gw.services.put({ name: 's', namespace: 'team', urls: ['http://127.0.0.1:1'] })
    expect(await f.call('DELETE', '/api/v1/namespace/team')).toMatchObject({
      status: 409,
      json: { error: 'cannot delete namespace "team": still used by service "s"', status: 409 },
    })
    expect((await f.call('DELETE', '/api/v1/namespace', { body: {} })).json).toEqual({ error: 'namespace: name is required', status: 400 })
    expect((await f.call('DELETE', '/api/v1/namespace', { body: { name: 'team', force: true } })).json).toEqual({
      error: 'namespace: unknown field "force" in a delete (name)',
      status: 400,
    })
  })
})

describe('services', () => {
  const service = { name: 'users', namespace: 'default', urls: ['http://127.0.0.1:3001'], retries: 3, tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false, tags: [] }

  it('PUT answers 201 with the namespace\'s services; the default namespace is filled in; list and get agree', async () => {
    const put = await f.call('PUT', '/api/v1/service', { body: { name: 'users', urls: ['http://127.0.0.1:3001'] } })
    expect(put.json).toEqual({ status_code: 201, data: [service], count: 1 })
    expect((await f.call('GET', '/api/v1/service')).json).toEqual({ status_code: 200, data: [service], count: 1 })
    expect((await f.call('GET', '/api/v1/service?namespace=default')).json).toEqual({ status_code: 200, data: [service], count: 1 })
    expect((await f.call('GET', '/api/v1/service/users')).json).toEqual({ status_code: 200, data: service })
    expect((await f.call('GET', '/api/v1/service/users?consistent=true')).json).toEqual({ status_code: 200, data: service })
  })

  it('accepts DGate durations and keeps hideDGateHeaders and disableQueryParams', async () => {
    const put = await f.call('PUT', '/api/v1/service', { body: { name: 's', urls: ['http://a.test'], requestTimeout: '5s', retryTimeout: 250, hideDGateHeaders: true, disableQueryParams: true } })
    expect(put.json).toMatchObject({ data: [{ requestTimeout: 5000, retryTimeout: 250, hideDGateHeaders: true, disableQueryParams: true }] })
  })

  it('refuses bad urls naming the index', async () => {
    expect(await f.call('PUT', '/api/v1/service', { body: { name: 's', urls: ['ftp://x'] } })).toMatchObject({
      status: 400,
      json: { error: 'service "s": urls[0] must use http, https, ws, wss or h2c, not "ftp"', status: 400 },
    })
    expect((await f.call('PUT', '/api/v1/service', { body: { name: 's', urls: [] } })).json).toEqual({ error: 'service "s": urls must list 1 to 256 URLs', status: 400 })
    expect((await f.call('PUT', '/api/v1/service', { body: { name: 's', namespace: 'nope', urls: ['http://a'] } })).json).toEqual({
      error: 'service "s": namespace "nope" does not exist',
      status: 400,
    })
  })

  it('answers 404 for a missing namespace or service and deletes with 202 by body or path', async () => {
    expect(await f.call('GET', '/api/v1/service?namespace=nope')).toMatchObject({ status: 404, json: { error: 'namespace "nope" not found', status: 404 } })
    expect(await f.call('GET', '/api/v1/service/nope')).toMatchObject({ status: 404, json: { error: 'service "nope" not found in namespace "default"', status: 404 } })
    await f.gw.services.put({ name: 'a', urls: ['http://a'] })
    await f.gw.services.put({ name: 'b', urls: ['http://b'] })
    expect((await f.call('DELETE', '/api/v1/service', { body: { name: 'a', namespace: 'default' } })).status).toBe(202)
    expect((await f.call('DELETE', '/api/v1/service/b?namespace=default')).status).toBe(202)
    expect(f.gw.snapshot.list('service', 'default')).toEqual([])
    expect(await f.call('DELETE', '/api/v1/service/b')).toMatchObject({ status: 404, json: { error: 'service "b" not found in namespace "default"', status: 404 } })
  })
})

describe('routes', () => {
  it('are written and read with their references checked; lists answer 200', async () => {
    await f.gw.services.put({ name: 's', urls: ['http://a'] })
    const route = { name: 'r', namespace: 'default', paths: ['/x', '/y/{id}'], methods: ['GET'], service: 's', modules: [], stripPath: false, preserveHost: false, tags: [] }
    expect((await f.call('PUT', '/api/v1/route', { body: { name: 'r', paths: ['/x', '/y/{id}'], methods: ['GET'], service: 's' } })).json).toEqual({ status_code: 201, data: [route], count: 1 })
    expect(await f.call('GET', '/api/v1/route')).toMatchObject({ status: 200, json: { status_code: 200, data: [route], count: 1 } })
    expect((await f.call('GET', '/api/v1/route/r')).json).toEqual({ status_code: 200, data: route })
  })

  it('refuses bad paths, methods and dangling references', async () => {
    expect((await f.call('PUT', '/api/v1/route', { body: { name: 'r', paths: ['x'], methods: ['GET'] } })).json).toEqual({ error: 'route "r": paths[0] must start with "/"', status: 400 })
    expect((await f.call('PUT', '/api/v1/route', { body: { name: 'r', paths: ['/x'], methods: ['get'] } })).json).toEqual({
      error: 'route "r": methods[0] must be "*" or one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE, not "get"',
      status: 400,
    })
    expect((await f.call('PUT', '/api/v1/route', { body: { name: 'r', paths: ['/x'], methods: ['GET'], service: 'nope' } })).json).toEqual({
      error: 'route "r": service "nope" does not exist in namespace "default"',
      status: 400,
    })
    await f.gw.routes.put({ name: 'a', paths: ['/x'], methods: ['GET'] })
    expect(await f.call('PUT', '/api/v1/route', { body: { name: 'b', paths: ['/x'], methods: ['GET'] } })).toMatchObject({
      status: 409,
      json: { error: 'route "b": GET /x is already served by route "a" in namespace "default"', status: 409 },
    })
  })
})

describe('modules', () => {
  const source = 'export const requestHandler = (ctx) => ctx.response().json({ ok: true })\n'
  const base64 = Buffer.from(source).toString('base64')

  it('take base64 as DGate sends it, or plain text, and return text (base64 when asked) with moduleType', async () => {
    const put = await f.call('PUT', '/api/v1/module', { body: { name: 'm', payload: base64, moduleType: 'javascript' } })
    expect(put.json).toEqual({ status_code: 201, data: [{ name: 'm', namespace: 'default', payload: source, moduleType: 'javascript', tags: [] }], count: 1 })
    await f.call('PUT', '/api/v1/module', { body: { name: 't', payload: source } })
    expect(f.gw.snapshot.get('module', 'default', 't')?.payload).toBe(source)
    expect((await f.call('GET', '/api/v1/module/m?payloadEncoding=base64')).json).toMatchObject({ data: { payload: base64, moduleType: 'javascript' } })
    expect((await f.call('GET', '/api/v1/module?payloadEncoding=base64')).json).toMatchObject({ data: [{ payload: base64 }, { payload: base64 }] })
    expect((await f.call('GET', '/api/v1/module/t')).json).toMatchObject({ data: { payload: source, moduleType: 'typescript' } })
  })

  it('honour an explicit payloadEncoding and refuse a bad one', async () => {
    await f.call('PUT', '/api/v1/module', { body: { name: 'lit', payload: 'aGVsbG8gd29ybGQh', payloadEncoding: 'text' } })
    expect(f.gw.snapshot.get('module', 'default', 'lit')?.payload).toBe('aGVsbG8gd29ybGQh')
    expect((await f.call('PUT', '/api/v1/module', { body: { name: 'b', payload: 'not base64!', payloadEncoding: 'base64' } })).json).toEqual({
      error: 'module "b": payload must be padded standard base64 of UTF-8 text',
      status: 400,
    })
    expect((await f.call('PUT', '/api/v1/module', { body: { name: 'b', payload: 'x', payloadEncoding: 'hex' } })).json).toEqual({ error: 'module "b": payloadEncoding must be "base64" or "text"', status: 400 })
    expect((await f.call('PUT', '/api/v1/module', { body: { name: 'b' } })).json).toEqual({ error: 'module "b": payload is required', status: 400 })
    expect((await f.call('GET', '/api/v1/service?payloadEncoding=base64')).json).toEqual({ error: 'payloadEncoding must be "text" or "base64" (modules only)', status: 400 })
  })
})

describe('domains', () => {
  it('are read in the same shape by list and by name, with their priority', async () => {
    const domain = { name: 'd', namespace: 'default', patterns: ['*.example.com'], priority: 5, tags: [] }
    expect((await f.call('PUT', '/api/v1/domain', { body: { name: 'd', patterns: ['*.example.com'], priority: 5 } })).json).toEqual({ status_code: 201, data: [domain], count: 1 })
    expect((await f.call('GET', '/api/v1/domain')).json).toEqual({ status_code: 200, data: [domain], count: 1 })
    expect((await f.call('GET', '/api/v1/domain/d')).json).toEqual({ status_code: 200, data: domain })
    expect((await f.call('PUT', '/api/v1/domain', { body: { name: 'e', patterns: ['/[/'] } })).json).toMatchObject({ error: expect.stringMatching(/^domain "e": patterns\[0\] /), status: 400 })
    expect((await f.call('PUT', '/api/v1/domain', { body: { name: 'e', patterns: ['a'], key: 'k' } })).json).toEqual({ error: 'domain "e": cert is required when key is set', status: 400 })
  })
})

describe('collections and documents', () => {
  beforeEach(async () => {
    await f.gw.collections.put({ name: 'people', schema: { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] } })
  })

  it('collections are read by name in the default namespace, like lists', async () => {
    const collection = { name: 'people', namespace: 'default', schema: { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] }, visibility: 'public', type: 'document', tags: [] }
    expect((await f.call('GET', '/api/v1/collection/people')).json).toEqual({ status_code: 200, data: collection })
    expect((await f.call('GET', '/api/v1/collection')).json).toEqual({ status_code: 200, data: [collection], count: 1 })
    expect((await f.call('GET', '/api/v1/collection?namespace=nope')).status).toBe(404)
    expect((await f.call('PUT', '/api/v1/collection', { body: { name: 'c', visibility: 'secret' } })).json).toEqual({ error: 'collection "c": visibility must be "public" or "private"', status: 400 })
  })

  it('documents are put with the data as the body, validated, read, paged and deleted', async () => {
    const put = await f.call('PUT', '/api/v1/document/ann?collection=people', { body: { age: 30 } })
    expect(put.status).toBe(201)
    expect(put.json).toEqual({ status_code: 201, data: { id: 'ann', namespace: 'default', collection: 'people', data: { age: 30 }, createdAt: expect.any(String), updatedAt: expect.any(String) } })
    await f.call('PUT', '/api/v1/document', { body: { id: 'bob', collection: 'people', data: { age: 40 } } })
    await f.call('PUT', '/api/v1/document/cat?collection=people&namespace=default', { body: { age: 50 } })

    const got = await f.call('GET', '/api/v1/document/ann?collection=people')
    expect(got.json).toMatchObject({ status_code: 200, data: { id: 'ann', data: { age: 30 } } })
    expect(got.headers.etag).toBe(`"${f.gw.snapshot.versionOf('document', 'default', 'ann', 'people')}"`)

    const page = await f.call('GET', '/api/v1/document?collection=people&limit=2&offset=1')
    expect(page.json).toMatchObject({ status_code: 200, count: 2, limit: 2, offset: 1, total: 3 })
    expect((page.json as { data: { id: string }[] }).data.map((d) => d.id)).toEqual(['bob', 'cat'])
    const all = await f.call('GET', '/api/v1/document?collection=people')
    expect((all.json as { data: { id: string }[] }).data.map((d) => d.id)).toEqual(['ann', 'bob', 'cat'])
    expect(all.json).toMatchObject({ count: 3, limit: 100, offset: 0, total: 3 })

    expect((await f.call('DELETE', '/api/v1/document/ann?collection=people')).status).toBe(202)
    expect((await f.call('DELETE', '/api/v1/document', { body: { id: 'bob', collection: 'people' } })).status).toBe(202)
    expect(f.gw.snapshot.listDocuments('default', 'people').map((d) => d.id)).toEqual(['cat'])
  })

  it('document errors name the problem with consistent status codes', async () => {
    expect((await f.call('PUT', '/api/v1/document/ann?collection=people', { body: { age: 'old' } })).json).toEqual({ error: 'document "ann": data.age must be integer', status: 400 })
    expect((await f.call('PUT', '/api/v1/document/ann', { body: { age: 1 } })).json).toEqual({ error: 'collection is required', status: 400 })
    expect((await f.call('PUT', '/api/v1/document/ann?collection=nope', { body: {} })).json).toEqual({ error: 'document "ann": collection "nope" does not exist in namespace "default"', status: 400 })
    expect((await f.call('GET', '/api/v1/document')).json).toEqual({ error: 'collection is required', status: 400 })
    expect((await f.call('GET', '/api/v1/document?collection=nope')).json).toEqual({ error: 'collection "nope" not found in namespace "default"', status: 404 })
    expect((await f.call('GET', '/api/v1/document/zed?collection=people')).json).toEqual({ error: 'document "zed" not found in collection "people" of namespace "default"', status: 404 })
    expect((await f.call('GET', '/api/v1/document?collection=people&limit=x')).json).toEqual({ error: 'limit must be an integer from 0 to 1000', status: 400 })
    expect((await f.call('GET', '/api/v1/document?collection=people&offset=-1')).json).toEqual({ error: 'offset must be an integer from 0 to 1000000000', status: 400 })
    expect((await f.call('DELETE', '/api/v1/document/zed?collection=people')).json).toEqual({ error: 'document "zed" not found in collection "people" of namespace "default"', status: 404 })
    expect((await f.call('DELETE', '/api/v1/document', { body: { id: 'zed' } })).json).toEqual({ error: 'document: collection is required', status: 400 })
    await f.gw.documents.put({ id: 'ann', collection: 'people', data: { age: 1 } })
    expect(await f.call('DELETE', '/api/v1/collection/people')).toMatchObject({ status: 409, json: { error: 'cannot delete collection "people": still used by 1 document', status: 409 } })
  })

  it('private collections hide their documents from admin reads (403) but take writes', async () => {
    await f.gw.collections.put({ name: 'vault', visibility: 'private' })
    expect((await f.call('PUT', '/api/v1/document/k?collection=vault', { body: { v: 1 } })).status).toBe(201)
    expect(await f.call('GET', '/api/v1/document/k?collection=vault')).toMatchObject({ status: 403, json: { error: 'collection "vault" is private', status: 403 } })
    expect(await f.call('GET', '/api/v1/document?collection=vault')).toMatchObject({ status: 403, json: { error: 'collection "vault" is private', status: 403 } })
  })
})

describe('secrets', () => {
  it('are written and listed without their data', async () => {
    const info = { name: 'token', namespace: 'default', tags: ['t'] }
    expect((await f.call('PUT', '/api/v1/secret', { body: { name: 'token', data: 'hunter2-value', tags: ['t'] } })).json).toEqual({ status_code: 201, data: [info], count: 1 })
    expect((await f.call('GET', '/api/v1/secret')).json).toEqual({ status_code: 200, data: [info], count: 1 })
    expect((await f.call('GET', '/api/v1/secret/token')).json).toEqual({ status_code: 200, data: info })
    expect((await f.call('PUT', '/api/v1/secret', { body: { name: 'e', data: '' } })).json).toEqual({ error: 'secret "e": data must be a non-empty string of at most 65536 characters', status: 400 })
    expect((await f.call('DELETE', '/api/v1/secret/token')).status).toBe(202)
  })
})

describe('health, readiness, cluster and unknown paths', () => {
  it('answers health, readiness and the standalone cluster view', async () => {
    expect(await f.call('GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } })
    expect(await f.call('GET', '/readyz')).toMatchObject({ status: 200, json: { status: 'ok' }, headers: { 'x-dgate-role': 'standalone' } })
    const cluster = await f.call('GET', '/api/v1/cluster')
    expect(cluster.json).toEqual({ status_code: 200, data: { role: 'standalone', id: 'standalone', leader: 'standalone', term: 0, commitIndex: expect.any(Number), appliedIndex: expect.any(Number), members: [{ id: 'standalone', voter: true, matchIndex: expect.any(Number) }] } })
    expect((await f.call('GET', '/')).text).toBe('DGate Admin API\n')
  })

  it('answers 404 for unknown paths and kinds and 405 with Allow for unsupported methods', async () => {
    expect(await f.call('GET', '/api/v1/widget')).toMatchObject({ status: 404, json: { error: 'unknown resource kind "widget" (namespace, domain, service, module, route, collection, secret, document, or cluster)', status: 404 } })
    expect(await f.call('GET', '/nope')).toMatchObject({ status: 404, json: { error: 'not found', status: 404 } })
    expect(await f.call('GET', '/api/v1/route/a/b')).toMatchObject({ status: 404 })
    expect(await f.call('POST', '/api/v1/route')).toMatchObject({ status: 405, headers: { allow: 'GET, PUT, DELETE' }, json: { error: 'method POST is not allowed here (GET, PUT, DELETE)', status: 405 } })
    expect(await f.call('PUT', '/api/v1/route/r', { body: {} })).toMatchObject({ status: 405, headers: { allow: 'GET, DELETE' } })
    expect(await f.call('DELETE', '/api/v1/cluster')).toMatchObject({ status: 405, headers: { allow: 'GET' } })
    expect(await f.call('GET', '/api/v1/route/%E0%A4%A')).toMatchObject({ status: 400, json: { error: 'the path is not valid percent-encoding', status: 400 } })
    expect(await f.call('GET', '/api/v1/route?consistent=maybe')).toMatchObject({ status: 400, json: { error: 'consistent must be true or false', status: 400 } })
  })
})

describe('with the default namespace disabled', () => {
  it('requires a namespace everywhere', async () => {
    const g = await adminFixture({ disableDefaultNamespace: true })
    try {
      expect((await g.call('GET', '/api/v1/route')).json).toEqual({ error: 'namespace is required (the default namespace is disabled)', status: 400 })
      expect((await g.call('GET', '/api/v1/route/r')).json).toEqual({ error: 'namespace is required (the default namespace is disabled)', status: 400 })
      expect((await g.call('DELETE', '/api/v1/route', { body: { name: 'r' } })).json).toEqual({ error: 'namespace is required (the default namespace is disabled)', status: 400 })
      expect((await g.call('PUT', '/api/v1/route', { body: { name: 'r', paths: ['/'], methods: ['GET'] } })).json).toEqual({
        error: 'route "r": namespace is required (the default namespace is disabled)',
        status: 400,
      })
      expect((await g.call('GET', '/api/v1/namespace')).json).toEqual({ status_code: 200, data: [], count: 0 })
    } finally {
      await g.close()
    }
  })
})
