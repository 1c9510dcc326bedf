import { describe, expect, it } from 'vitest'
import { createGateway, PreconditionFailedError } from '../../src/index.js'
import { decodeSnapshot, encodeSnapshot } from '../../src/state/codec.js'

describe('resource versions', () => {
  it('are the log index of the change that last wrote each resource', async () => {
    const gw = await createGateway()
    await gw.services.put({ name: 's', urls: ['http://127.0.0.1:1'] })
    const first = gw.snapshot.version
    await gw.routes.put({ name: 'r', paths: ['/r'], methods: ['GET'], service: 's' })
    await gw.services.put({ name: 's', urls: ['http://127.0.0.1:2'] })
    const snap = gw.snapshot
    expect(snap.versionOf('route', 'default', 'r')).toBe(first + 1)
    expect(snap.versionOf('service', 'default', 's')).toBe(first + 2)
    expect(snap.versionOf('namespace', 'default', 'default')).toBe(0)
    expect(snap.versionOf('route', 'default', 'missing')).toBeUndefined()
    await gw.collections.put({ name: 'c' })
    await gw.documents.put({ id: 'd', collection: 'c', data: 1 })
    expect(gw.snapshot.versionOf('document', 'default', 'd', 'c')).toBe(gw.snapshot.version)
    await gw.documents.delete('c', 'd')
    expect(gw.snapshot.versionOf('document', 'default', 'd', 'c')).toBeUndefined()
    await gw.close()
  })

  it('survive a snapshot round trip, routes included', async () => {
    const gw = await createGateway()
    await gw.namespaces.put({ name: 'team' })
    await gw.services.put({ name: 's', namespace: 'team', urls: ['http://127.0.0.1:1'] })
    await gw.routes.put({ name: 'r', namespace: 'team', paths: ['/r'], methods: ['GET'], service: 's' })
    await gw.namespaces.put({ name: 'other' })
    const before = gw.snapshot
    const { snapshot } = decodeSnapshot(encodeSnapshot(before, before.version))
    for (const [kind, ns, name] of [['namespace', 'team', 'team'], ['service', 'team', 's'], ['route', 'team', 'r'], ['namespace', 'other', 'other']] as const) {
      expect(snapshot.versionOf(kind, ns, name)).toBe(before.versionOf(kind, ns, name))
    }
    expect(snapshot.versionOf('route', 'team', 'r')).toBe(3)
    await gw.close()
  })

  it('refuse a conditional write at another version and change nothing', async () => {
    const gw = await createGateway()
    await gw.services.put({ name: 's', urls: ['http://127.0.0.1:1'] })
    const v = gw.snapshot.versionOf('service', 'default', 's')!
    await expect(gw.services.put({ name: 's', urls: ['http://127.0.0.1:2'] }, { expectedVersion: v + 5 })).rejects.toThrow(
      new PreconditionFailedError(`service "s" in namespace "default" is at version ${v}, not ${v + 5}`),
    )
    await expect(gw.services.delete('missing', { expectedVersion: 1 })).rejects.toThrow(/service "missing" does not exist in namespace "default", so it is not at version 1/)
    expect(gw.snapshot.version).toBe(v)
    await gw.services.put({ name: 's', urls: ['http://127.0.0.1:2'] }, { expectedVersion: v })
    expect((await gw.services.get('s'))?.urls).toEqual(['http://127.0.0.1:2'])
    await gw.close()
  })

  it('let exactly one of two racing writers with the same version win', async () => {
    const gw = await createGateway()
    await gw.services.put({ name: 's', urls: ['http://127.0.0.1:1'] })
    const v = gw.snapshot.versionOf('service', 'default', 's')!
    const results = await Promise.allSettled([
      gw.services.put({ name: 's', urls: ['http://127.0.0.1:2'] }, { expectedVersion: v }),
      gw.services.put({ name: 's', urls: ['http://127.0.0.1:3'] }, { expectedVersion: v }),
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(PreconditionFailedError)
    await gw.close()
  })
})
