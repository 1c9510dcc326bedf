import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminApiError, createAdminClient, type AdminClient } from '../../src/index.js'
import { listen, type Running } from '../helpers/servers.js'
import { adminFixture, type AdminFixture } from './fixture.js'

let f: AdminFixture
let client: AdminClient
beforeAll(async () => {
  f = await adminFixture({ admin: { keys: ['client-key-1'] } })
  client = createAdminClient(f.url, { key: 'client-key-1' })
})
afterAll(async () => {
  await f.close()
})

async function refusal(promise: Promise<unknown>): Promise<AdminApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AdminApiError)
  return error as AdminApiError
}

describe('createAdminClient', () => {
  it('puts, gets, lists and deletes every kind', async () => {
    expect(await client.namespaces.put({ name: 'team' })).toEqual({ name: 'team', tags: [] })
    expect(await client.namespaces.get('team')).toEqual({ name: 'team', tags: [] })
    expect((await client.namespaces.list()).map((n) => n.name)).toEqual(['default', 'team'])

    expect(await client.services.put({ name: 's', namespace: 'team', urls: ['http://127.0.0.1:1'] })).toMatchObject({ name: 's', namespace: 'team', retries: 3 })
    expect(await client.modules.put({ name: 'm', namespace: 'team', payload: 'aGVsbG8gd29ybGQh' })).toMatchObject({ payload: 'aGVsbG8gd29ybGQh' })
    expect(await client.routes.put({ name: 'r', namespace: 'team', paths: ['/r'], methods: ['GET'], service: 's', modules: ['m'] })).toMatchObject({ modules: ['m'] })
    expect(await client.domains.put({ name: 'd', namespace: 'team', patterns: ['team.test'] })).toMatchObject({ patterns: ['team.test'] })
    expect(await client.collections.put({ name: 'c', namespace: 'team' })).toMatchObject({ visibility: 'public' })
    expect(await client.secrets.put({ name: 'k', namespace: 'team', data: 'value' })).toEqual({ name: 'k', namespace: 'team', tags: [] })
    expect(await client.documents.put({ id: 'doc', namespace: 'team', collection: 'c', data: { a: 1 } })).toMatchObject({ id: 'doc', data: { a: 1 } })

    expect(await client.routes.get('r', { namespace: 'team' })).toMatchObject({ service: 's' })
    expect(await client.modules.get('m', { namespace: 'team', consistent: true })).toMatchObject({ payload: 'aGVsbG8gd29ybGQh', moduleType: 'typescript' })
    expect((await client.secrets.list({ namespace: 'team' }))[0]).not.toHaveProperty('data')
    expect(await client.documents.get('c', 'doc', { namespace: 'team' })).toMatchObject({ data: { a: 1 } })
    expect(await client.documents.list('c', { namespace: 'team', limit: 10 })).toMatchObject({ total: 1, documents: [{ id: 'doc' }] })

    await client.documents.delete('c', 'doc', { namespace: 'team' })
    for (const api of [client.routes, client.services, client.modules, client.domains, client.collections, client.secrets]) {
      const [item] = await api.list({ namespace: 'team' })
      await api.delete(item!.name, { namespace: 'team' })
      expect(await api.list({ namespace: 'team' })).toEqual([])
    }
    await client.namespaces.delete('team')
    expect(await client.namespaces.get('team')).toBeUndefined()
  })

  it('rejects with the server\'s message and status', async () => {
    const bad = await refusal(client.routes.put({ name: 'bad', paths: ['x'], methods: ['GET'] }))
    expect(bad).toMatchObject({ status: 400, message: 'route "bad": paths[0] must start with "/"', method: 'PUT', path: '/api/v1/route' })
    expect(await refusal(client.services.delete('nope'))).toMatchObject({ status: 404, message: 'service "nope" not found in namespace "default"' })
    expect(await client.services.get('nope')).toBeUndefined()
    const unauthorized = await refusal(createAdminClient(f.url, { key: 'wrong' }).namespaces.list())
    expect(unauthorized).toMatchObject({ status: 401, message: 'unauthorized: send a valid API key in x-dgate-key' })
  })

  it('does conditional writes with getVersioned and ifMatch', async () => {
    await client.services.put({ name: 'v', urls: ['http://127.0.0.1:1'] })
    const first = (await client.services.getVersioned('v'))!
    expect(first.version).toBe(f.gw.snapshot.versionOf('service', 'default', 'v'))
    await client.services.put({ name: 'v', urls: ['http://127.0.0.1:2'] }, { ifMatch: first.version })
    const stale = await refusal(client.services.put({ name: 'v', urls: ['http://127.0.0.1:3'] }, { ifMatch: first.version }))
    expect(stale.status).toBe(412)
    await refusal(client.services.delete('v', { ifMatch: first.version }))
    const second = (await client.services.getVersioned('v'))!
    await client.services.delete('v', { ifMatch: second.version })
  })

  it('reads cluster, health and readiness', async () => {
    expect(await client.cluster()).toMatchObject({ role: 'standalone', members: [{ id: 'standalone' }] })
    expect(await client.health()).toEqual({ status: 'ok' })
    expect(await client.ready()).toBe(true)
  })

  it('works under a path prefix', async () => {
    let mounted: Running | undefined
    try {
      mounted = await listen((req, res) => {
        if (!req.url?.startsWith('/admin/')) return void res.writeHead(404).end()
        req.url = req.url.slice('/admin'.length)
        f.gw.admin.handler(req, res)
      })
      const prefixed = createAdminClient(`${mounted.url}/admin/`, { key: 'client-key-1' })
      expect((await prefixed.namespaces.list()).map((n) => n.name)).toContain('default')
    } finally {
      await mounted?.close()
    }
  })
})
