import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adminFixture, type AdminFixture } from './fixture.js'

let f: AdminFixture
beforeEach(async () => {
  f = await adminFixture()
  await f.gw.services.put({ name: 's', urls: ['http://127.0.0.1:1'] })
})
afterEach(async () => {
  await f.close()
})

async function etagOf(path: string): Promise<string> {
  const res = await f.call('GET', path)
  expect(res.status).toBe(200)
  return res.headers.etag as string
}

describe('If-Match', () => {
  it('applies a PUT whose If-Match is the current ETag, and the ETag moves on', async () => {
    const tag = await etagOf('/api/v1/service/s')
    expect((await f.call('PUT', '/api/v1/service', { body: { name: 's', urls: ['http://127.0.0.1:2'] }, headers: { 'if-match': tag } })).status).toBe(201)
    const next = await etagOf('/api/v1/service/s')
    expect(next).not.toBe(tag)
    expect(next).toBe(`"${f.gw.snapshot.version}"`)
  })

  it('answers 412 to a stale version and changes nothing', async () => {
    const tag = await etagOf('/api/v1/service/s')
    await f.gw.services.put({ name: 's', urls: ['http://127.0.0.1:3'] })
    const version = f.gw.snapshot.version
    const stale = await f.call('PUT', '/api/v1/service', { body: { name: 's', urls: ['http://127.0.0.1:9'] }, headers: { 'if-match': tag } })
    expect(stale.status).toBe(412)
    expect(stale.json).toEqual({ error: `service "s" in namespace "default" is at version ${version}, not ${tag.slice(1, -1)}`, status: 412 })
    expect((await f.call('DELETE', '/api/v1/service/s', { headers: { 'if-match': tag } })).status).toBe(412)
    expect(f.gw.snapshot.version).toBe(version)
    expect(f.gw.snapshot.get('service', 'default', 's')?.urls).toEqual(['http://127.0.0.1:3'])
  })

  it('answers 412 when the resource does not exist, and deletes with the right version', async () => {
    expect(await f.call('PUT', '/api/v1/route', { body: { name: 'new', paths: ['/'], methods: ['GET'] }, headers: { 'if-match': '"1"' } })).toMatchObject({
      status: 412,
      json: { error: 'route "new" does not exist in namespace "default", so it is not at version 1', status: 412 },
    })
    expect(f.gw.snapshot.get('route', 'default', 'new')).toBeUndefined()
    const tag = await etagOf('/api/v1/service/s')
    expect((await f.call('DELETE', '/api/v1/service', { body: { name: 's' }, headers: { 'if-match': tag } })).status).toBe(202)
  })

  it('works for namespaces and documents too', async () => {
    await f.gw.namespaces.put({ name: 'team' })
    const ns = await etagOf('/api/v1/namespace/team')
    expect((await f.call('PUT', '/api/v1/namespace', { body: { name: 'team', tags: ['x'] }, headers: { 'if-match': '"999"' } })).status).toBe(412)
    expect((await f.call('PUT', '/api/v1/namespace', { body: { name: 'team', tags: ['x'] }, headers: { 'if-match': ns } })).status).toBe(201)
    await f.gw.collections.put({ name: 'c' })
    await f.gw.documents.put({ id: 'd', collection: 'c', data: 1 })
    const doc = await etagOf('/api/v1/document/d?collection=c')
    expect((await f.call('PUT', '/api/v1/document/d?collection=c', { body: 2, headers: { 'if-match': '"1"' } })).status).toBe(412)
    expect((await f.call('PUT', '/api/v1/document/d?collection=c', { body: 2, headers: { 'if-match': doc } })).status).toBe(201)
    expect((await f.call('DELETE', '/api/v1/document/d?collection=c', { headers: { 'if-match': doc } })).status).toBe(412)
  })

  it('lets exactly one of two racing writers with the same version win', async () => {
    for (let round = 0; round < 5; round++) {
      const tag = await etagOf('/api/v1/service/s')
      const answers = await Promise.all(
        [1, 2].map((n) => f.call('PUT', '/api/v1/service', { body: { name: 's', urls: [`http://127.0.0.1:${round * 10 + n}`] }, headers: { 'if-match': tag } })),
      )
      expect(answers.map((a) => a.status).sort()).toEqual([201, 412])
    }
  })

  it.each(['*', 'W/"3"', '"3", "4"', '"3', 'abc'])('refuses If-Match %j with a 400', async (header) => {
    expect(await f.call('DELETE', '/api/v1/service/s', { headers: { 'if-match': header } })).toMatchObject({
      status: 400,
      json: { error: `If-Match must be one version as sent in ETag, like "12", not ${JSON.stringify(header)}`, status: 400 },
    })
    expect(f.gw.snapshot.get('service', 'default', 's')).toBeDefined()
  })

  it('accepts a bare number', async () => {
    const tag = await etagOf('/api/v1/service/s')
    expect((await f.call('DELETE', '/api/v1/service/s', { headers: { 'if-match': tag.slice(1, -1) } })).status).toBe(202)
  })
})
