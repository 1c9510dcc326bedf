import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGateway, ValidationError, type Gateway } from '../../src/index.js'
import { selfSignedPair } from '../helpers/tls.js'

let gw: Gateway
beforeEach(async () => {
  gw = await createGateway()
})
afterEach(async () => {
  await gw.close()
})

/** Runs a put that must be refused and returns the error, checking that the state version did not move. */
async function refused(put: () => Promise<unknown>): Promise<ValidationError> {
  const before = gw.snapshot
  const error = await put().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ValidationError)
  expect(gw.snapshot).toBe(before)
  return error as ValidationError
}

describe('names', () => {
  it('accepts 1 to 128 characters of letters, digits, ".", "_" and "-"', async () => {
    await gw.namespaces.put({ name: 'a' })
    await gw.namespaces.put({ name: 'Team_1.prod-eu' })
    await gw.namespaces.put({ name: 'x'.repeat(128) })
    expect((await gw.namespaces.list()).map((n) => n.name)).toContain('Team_1.prod-eu')
  })

  it.each([
    ['', 'namespace: name must be 1 to 128 characters of letters, digits, ".", "_" or "-"'],
    ['a/b', 'namespace "a/b": name must be 1 to 128 characters of letters, digits, ".", "_" or "-"'],
    ['x'.repeat(129), `namespace "${'x'.repeat(129)}": name must be 1 to 128 characters of letters, digits, ".", "_" or "-"`],
    ['has space', 'namespace "has space": name must be 1 to 128 characters of letters, digits, ".", "_" or "-"'],
  ])('refuses the name %j', async (name, message) => {
    const error = await refused(() => gw.namespaces.put({ name }))
    expect(error.message).toBe(message)
    expect(error.issues[0]).toMatchObject({ field: 'name' })
  })

  it('refuses a missing name and unknown fields', async () => {
    expect((await refused(() => gw.namespaces.put({} as never))).message).toBe('namespace: name is required')
    expect((await refused(() => gw.services.put({ name: 's', urls: ['http://a'], retires: 2 } as never))).message).toBe('service "s": unknown field "retires"')
  })

  it('ignores the server-set output fields so that a resource read back can be written again', async () => {
    const ns = await gw.namespaces.put({ name: 'n', createdAt: 'x', updated_at: 'y' } as never)
    expect(ns).toEqual({ name: 'n', tags: [] })
  })
})

describe('service', () => {
  it('applies defaults and turns durations into milliseconds', async () => {
    const s = await gw.services.put({ name: 'users', urls: ['http://127.0.0.1:3001'], retryTimeout: '250ms', connectTimeout: '5s', requestTimeout: 1500, tags: ['t'] })
    expect(s).toEqual({
      name: 'users', namespace: 'default', urls: ['http://127.0.0.1:3001'], retries: 3, retryTimeout: 250, connectTimeout: 5000, requestTimeout: 1500,
      tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false, tags: ['t'],
    })
    expect((await gw.services.put({ name: 'm', urls: ['h2c://x:1'], requestTimeout: '1.5m' })).requestTimeout).toBe(90_000)
    expect(await gw.services.get('users')).toEqual(s)
  })

  it.each([
    [{ name: 's', urls: [] }, 'service "s": urls must list 1 to 256 URLs'],
    [{ name: 's' }, 'service "s": urls is required'],
    [{ name: 's', urls: ['http://ok', 'not a url'] }, 'service "s": urls[1] is not a URL: "not a url"'],
    [{ name: 's', urls: ['ftp://host'] }, 'service "s": urls[0] must use http, https, ws, wss or h2c, not "ftp"'],
    [{ name: 's', urls: ['http://u:p@host'] }, 'service "s": urls[0] must not carry credentials (use a module to add auth headers)'],
    [{ name: 's', urls: ['http://a'], retries: -1 }, 'service "s": retries must be an integer from 0 to 100'],
    [{ name: 's', urls: ['http://a'], retries: 1.5 }, 'service "s": retries must be an integer from 0 to 100'],
    [{ name: 's', urls: ['http://a'], connectTimeout: '5 seconds' }, 'service "s": connectTimeout must be milliseconds (a number >= 0) or a duration like "5s" or "250ms"'],
    [{ name: 's', urls: ['http://a'], retryTimeout: -5 }, 'service "s": retryTimeout must be milliseconds (a number >= 0) or a duration like "5s" or "250ms"'],
    [{ name: 's', urls: ['http://a'], tlsSkipVerify: 'yes' }, 'service "s": tlsSkipVerify must be boolean'],
  ])('refuses %j', async (spec, message) => {
    expect((await refused(() => gw.services.put(spec as never))).message).toBe(message)
  })
})

describe('route', () => {
  beforeEach(async () => {
    await gw.services.put({ name: 'users', urls: ['http://127.0.0.1:3001'] })
  })

  it('applies defaults and keeps the module order as given', async () => {
    await gw.modules.put({ name: 'b', payload: 'export {}' })
    await gw.modules.put({ name: 'a', payload: 'export {}' })
    const r = await gw.routes.put({ name: 'users', paths: ['/users/{id}', '/users/*'], methods: ['GET', 'POST'], service: 'users', modules: ['b', 'a'] })
    expect(r).toEqual({ name: 'users', namespace: 'default', paths: ['/users/{id}', '/users/*'], methods: ['GET', 'POST'], service: 'users', modules: ['b', 'a'], stripPath: false, preserveHost: false, tags: [] })
  })

  it.each([
    [{ paths: ['/a', 'users'] }, 'route "r": paths[1] must start with "/"'],
    [{ paths: [] }, 'route "r": paths must list 1 to 256 paths'],
    [{ paths: ['/a/{id'] }, /^route "r": paths\[0\] unclosed "\{"/],
    [{ paths: ['/a/*/b'] }, /^route "r": paths\[0\] .*"\*"/],
    [{ paths: ['/a', '/a'] }, 'route "r": paths[1] duplicates "/a"'],
    [{ methods: ['get'] }, 'route "r": methods[0] must be "*" or one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE, not "get"'],
    [{ methods: ['*', 'GET'] }, 'route "r": methods[0] "*" must be the only method'],
    [{ methods: [] }, 'route "r": methods must list 1 to 16 methods'],
    [{ methods: ['GET', 'GET'] }, 'route "r": methods[1] duplicates "GET"'],
    [{ stripPath: 1 }, 'route "r": stripPath must be boolean'],
  ])('refuses %j', async (patch, message) => {
    const error = await refused(() => gw.routes.put({ name: 'r', paths: ['/x'], methods: ['GET'], ...patch } as never))
    if (typeof message === 'string') expect(error.message).toBe(message)
    else expect(error.message).toMatch(message)
  })
})

describe('module', () => {
  it('defaults to typescript and refuses other types and empty payloads', async () => {
    expect((await gw.modules.put({ name: 'm', payload: 'export const x = 1' })).moduleType).toBe('typescript')
    expect((await refused(() => gw.modules.put({ name: 'm', payload: 'x', moduleType: 'python' } as never))).message).toBe('module "m": moduleType must be "typescript" or "javascript"')
    expect((await refused(() => gw.modules.put({ name: 'm', payload: '' }))).message).toBe('module "m": payload must be non-empty source text of at most 1048576 characters')
  })
})

describe('domain', () => {
  it('accepts every pattern form and hides the key on reads', async () => {
    const { cert, key } = selfSignedPair('example.com')
    const d = await gw.domains.put({ name: 'd', patterns: ['*', '*.example.com', 'api.*', '*internal*', '/^[a-z]+\\.test$/', 'exact.org'], priority: 10, cert, key })
    expect(d).not.toHaveProperty('key')
    expect(d).toMatchObject({ priority: 10, cert })
    expect(await gw.domains.get('d')).not.toHaveProperty('key')
    expect(gw.snapshot.get('domain', 'default', 'd')?.key).toBe(key)
  })

  it.each([
    [{ patterns: [] }, 'domain "d": patterns must list 1 to 256 host patterns'],
    [{ patterns: ['ok', ''] }, /^domain "d": patterns\[1\] /],
    [{ patterns: ['/(unclosed/'] }, /^domain "d": patterns\[0\] .*regular expression/],
    [{ patterns: ['a'], priority: 1.5 }, 'domain "d": priority must be an integer from -1000000 to 1000000'],
    [{ patterns: ['a'], cert: 'x' }, 'domain "d": key is required when cert is set'],
    [{ patterns: ['a'], key: 'x' }, 'domain "d": cert is required when key is set'],
    [{ patterns: ['a'], cert: 'not pem', key: 'not pem' }, 'domain "d": cert must be a PEM certificate'],
  ])('refuses %j', async (patch, message) => {
    const error = await refused(() => gw.domains.put({ name: 'd', ...patch } as never))
    if (typeof message === 'string') expect(error.message).toBe(message)
    else expect(error.message).toMatch(message)
  })

  it('refuses a key that does not belong to the certificate, without echoing the key', async () => {
    const a = selfSignedPair('a.test')
    const b = selfSignedPair('b.test')
    const error = await refused(() => gw.domains.put({ name: 'd', patterns: ['a.test'], cert: a.cert, key: b.key }))
    expect(error.message).toBe('domain "d": key does not match cert')
    const bad = await refused(() => gw.domains.put({ name: 'd', patterns: ['a.test'], cert: a.cert, key: 'SECRET-KEY-TEXT' }))
    expect(bad.message).toBe('domain "d": key must be a PEM private key')
    expect(bad.message).not.toContain('SECRET')
  })
})

describe('collection', () => {
  it('defaults to public documents with any data', async () => {
    expect(await gw.collections.put({ name: 'c' })).toEqual({ name: 'c', namespace: 'default', schema: {}, visibility: 'public', type: 'document', tags: [] })
  })

  it.each([
    [{ visibility: 'secret' }, 'collection "c": visibility must be "public" or "private"'],
    [{ type: 'fetcher' }, 'collection "c": type must be "document"'],
    [{ schema: { type: 'nonsense' } }, 'collection "c": schema.type must be one of null, boolean, object, array, number, integer, string (or a list of them)'],
    [{ schema: { properties: { a: { minLength: -1 } } } }, 'collection "c": schema.properties.a.minLength must be an integer >= 0'],
    [{ schema: { pattern: '(' } }, /^collection "c": schema.pattern is not a valid regular expression/],
    [{ schema: { $ref: 'http://evil/schema' } }, 'collection "c": schema.$ref must be a local reference starting with "#"'],
    [{ schema: 'string' }, 'collection "c": schema must be a JSON Schema (an object or a boolean)'],
  ])('refuses %j', async (patch, message) => {
    const error = await refused(() => gw.collections.put({ name: 'c', ...patch } as never))
    if (typeof message === 'string') expect(error.message).toBe(message)
    else expect(error.message).toMatch(message)
  })
})

describe('document', () => {
  beforeEach(async () => {
    await gw.collections.put({ name: 'links', schema: { type: 'object', properties: { url: { type: 'string' }, hits: { type: 'integer' } }, required: ['url'] } })
  })

  it('validates data against the collection schema and sets timestamps', async () => {
    const doc = await gw.documents.put({ collection: 'links', id: 'abc', data: { url: 'https://x', hits: 1 } })
    expect(doc.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(doc.updatedAt).toBe(doc.createdAt)
    expect((await refused(() => gw.documents.put({ collection: 'links', id: 'b', data: { hits: 1 } }))).message).toBe('document "b": data.url is required')
    expect((await refused(() => gw.documents.put({ collection: 'links', id: 'b', data: { url: 'x', hits: 'many' } }))).message).toBe('document "b": data.hits must be integer')
    expect((await refused(() => gw.documents.put({ collection: 'links', id: 'b' } as never))).message).toBe('document "b": data is required')
    expect((await refused(() => gw.documents.put({ collection: 'links', id: 'b', data: { url: 'x', when: new Date() } as never }))).message).toBe('document "b": data must be plain JSON (no functions, cycles or undefined values)')
  })

  it('keeps createdAt when a document is replaced', async () => {
    const first = await gw.documents.put({ collection: 'links', id: 'abc', data: { url: 'a' } })
    await new Promise((r) => setTimeout(r, 5))
    const second = await gw.documents.put({ collection: 'links', id: 'abc', data: { url: 'b' } })
    expect(second.createdAt).toBe(first.createdAt)
    expect(second.updatedAt > first.updatedAt).toBe(true)
    expect(await gw.documents.get('links', 'abc')).toEqual(second)
  })

  it('lists by id with limit and offset', async () => {
    for (const id of ['c', 'a', 'e', 'b', 'd']) await gw.documents.put({ collection: 'links', id, data: { url: id } })
    expect((await gw.documents.list('links')).map((d) => d.id)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect((await gw.documents.list('links', { limit: 2, offset: 1 })).map((d) => d.id)).toEqual(['b', 'c'])
    expect((await gw.documents.list('links', { offset: 4 })).map((d) => d.id)).toEqual(['e'])
    expect(await gw.documents.list('links', { limit: 0 })).toEqual([])
  })
})

describe('secret', () => {
  it('is write-only: put, get and list never return data', async () => {
    const put = await gw.secrets.put({ name: 'token', data: 's3cr3t-value' })
    expect(put).toEqual({ name: 'token', namespace: 'default', tags: [] })
    expect(await gw.secrets.get('token')).toEqual({ name: 'token', namespace: 'default', tags: [] })
    expect(JSON.stringify(await gw.secrets.list())).not.toContain('s3cr3t')
    expect((await refused(() => gw.secrets.put({ name: 'token', data: '' }))).message).toBe('secret "token": data must be a non-empty string of at most 65536 characters')
  })
})

describe('namespaces', () => {
  it('requires an explicit namespace when the default one is disabled', async () => {
    const strict = await createGateway({ disableDefaultNamespace: true })
    try {
      expect(await strict.namespaces.list()).toEqual([])
      const error = await strict.services.put({ name: 's', urls: ['http://a'] }).catch((e: unknown) => e)
      expect((error as Error).message).toBe('service "s": namespace is required (the default namespace is disabled)')
    } finally {
      await strict.close()
    }
  })
})
