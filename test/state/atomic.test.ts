import { describe, expect, it } from 'vitest'
import { createGateway, MemoryStorage } from '../../src/index.js'
import { GatewayState } from '../../src/state/state.js'
import { decodeSnapshot, encodeSnapshot } from '../../src/state/codec.js'

describe('a refused change', () => {
  it('leaves the version, the snapshot and the log exactly as they were', async () => {
    const storage = new MemoryStorage()
    const gw = await createGateway({ storage })
    await gw.services.put({ name: 's', urls: ['http://a'] })
    const before = gw.snapshot
    const logBefore = await storage.load()
    await expect(gw.routes.put({ name: 'r', paths: ['/'], methods: ['*'], service: 'missing' })).rejects.toThrow('does not exist')
    await expect(gw.services.delete('missing')).rejects.toThrow('not found')
    expect(gw.snapshot).toBe(before)
    expect(gw.snapshot.version).toBe(1)
    expect(await storage.load()).toEqual(logBefore)
    await gw.close()
  })

  it('does not disturb the valid changes committed in the same batch', async () => {
    const gw = await createGateway()
    // Proposed together, these share one group commit: the middle one is refused, the others land in order.
    const results = await Promise.allSettled([
      gw.services.put({ name: 'a', urls: ['http://a'] }),
      gw.routes.put({ name: 'r', paths: ['/'], methods: ['*'], service: 'nope' }),
      gw.routes.put({ name: 'ok', paths: ['/'], methods: ['*'], service: 'a' }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(gw.snapshot.version).toBe(2)
    expect(gw.snapshot.list('route', 'default').map((r) => r.name)).toEqual(['ok'])
    await gw.close()
  })

  it('that depends on an earlier refused change in its batch is refused too', async () => {
    const gw = await createGateway()
    const results = await Promise.allSettled([
      gw.services.put({ name: 'bad', urls: ['ftp://x'] }),
      gw.routes.put({ name: 'r', paths: ['/'], methods: ['*'], service: 'bad' }),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(gw.snapshot.version).toBe(0)
    await gw.close()
  })
})

describe('snapshots', () => {
  it('are immutable: an old snapshot keeps seeing its own version', async () => {
    const gw = await createGateway()
    await gw.services.put({ name: 's', urls: ['http://one'] })
    const old = gw.snapshot
    await gw.services.put({ name: 's', urls: ['http://two'] })
    expect(old.get('service', 'default', 's')?.urls).toEqual(['http://one'])
    expect(gw.snapshot.get('service', 'default', 's')?.urls).toEqual(['http://two'])
    expect(gw.snapshot.version).toBe(old.version + 1)
    await gw.close()
  })

  it('share untouched namespaces between versions', async () => {
    const gw = await createGateway()
    await gw.namespaces.put({ name: 'a' })
    await gw.namespaces.put({ name: 'b' })
    const before = gw.snapshot
    await gw.services.put({ name: 's', namespace: 'a', urls: ['http://x'] })
    expect(gw.snapshot.namespaces.get('b')).toBe(before.namespaces.get('b'))
    expect(gw.snapshot.namespaces.get('a')).not.toBe(before.namespaces.get('a'))
    await gw.close()
  })

  it('serialize to bytes and restore to an equal state', async () => {
    const gw = await createGateway()
    await gw.namespaces.put({ name: 'n', tags: ['t'] })
    await gw.services.put({ name: 's', namespace: 'n', urls: ['http://x'], connectTimeout: '1s' })
    await gw.secrets.put({ name: 'k', data: 'v' })
    await gw.collections.put({ name: 'c', schema: { type: 'object' } })
    await gw.documents.put({ collection: 'c', id: 'd', data: { a: [1, 'b', null] } })
    const source = new GatewayState()
    source.restore(encodeSnapshot(gw.snapshot, gw.snapshot.version))
    expect(source.appliedIndex).toBe(gw.snapshot.version)
    expect(source.current.version).toBe(gw.snapshot.version)
    for (const kind of ['service', 'secret', 'collection'] as const) {
      expect(source.current.list(kind)).toEqual(gw.snapshot.list(kind))
    }
    expect(source.current.listNamespaces()).toEqual(gw.snapshot.listNamespaces())
    expect(source.current.listDocuments('default', 'c')).toEqual(gw.snapshot.listDocuments('default', 'c'))
    await gw.close()
  })

  it('refuse bytes that are not a snapshot, with a clear error', () => {
    const state = new GatewayState()
    expect(() => state.restore(Buffer.from('{"format":99}'))).toThrow('snapshot has format 99; this version reads format 1')
    expect(() => state.restore(Buffer.from('garbage'))).toThrow(/^snapshot is not readable/)
    expect(() => decodeSnapshot(Buffer.from('null'))).toThrow(/format/)
  })
})

