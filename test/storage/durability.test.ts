import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGateway, FileStorage, MemoryStorage } from '../../src/index.js'
import { bundleForNode } from '../helpers/bundle.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dgate-state-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

async function fill(gw: Awaited<ReturnType<typeof createGateway>>): Promise<void> {
  await gw.namespaces.put({ name: 'team', tags: ['a'] })
  await gw.services.put({ name: 'users', namespace: 'team', urls: ['http://127.0.0.1:3001'], requestTimeout: '2s' })
  await gw.modules.put({ name: 'auth', namespace: 'team', payload: 'export const requestModifier = () => {}' })
  await gw.routes.put({ name: 'users', namespace: 'team', paths: ['/users/*'], methods: ['*'], service: 'users', modules: ['auth'], stripPath: true })
  await gw.collections.put({ name: 'links', namespace: 'team', schema: { type: 'object', required: ['url'] } })
  await gw.documents.put({ namespace: 'team', collection: 'links', id: 'a', data: { url: 'https://a' } })
  await gw.secrets.put({ name: 'token', namespace: 'team', data: 'hunter2' })
  await gw.services.delete('users', { namespace: 'team' }).catch(() => {}) // refused: still used; must not be logged
  await gw.routes.delete('users', { namespace: 'team' })
}

describe('file storage', () => {
  it('restores exactly the acknowledged state after a restart', async () => {
    const gw = await createGateway({ storage: { dir } })
    await fill(gw)
    const before = gw.snapshot
    await gw.close()

    const again = await createGateway({ storage: { dir } })
    expect(again.snapshot.version).toBe(before.version)
    expect(again.snapshot.listNamespaces()).toEqual(before.listNamespaces())
    for (const kind of ['service', 'module', 'route', 'collection', 'secret', 'domain'] as const) {
      expect(again.snapshot.list(kind)).toEqual(before.list(kind))
    }
    expect(again.snapshot.listDocuments('team', 'links')).toEqual(before.listDocuments('team', 'links'))
    expect(again.snapshot.get('secret', 'team', 'token')?.data).toBe('hunter2')
    // And it keeps going from there.
    await again.services.put({ name: 'more', urls: ['http://x'] })
    expect(again.snapshot.version).toBe(before.version + 1)
    await again.close()
  })

  it('writes a snapshot after the configured number of changes and drops the log it covers', async () => {
    const gw = await createGateway({ storage: { dir }, snapshotEvery: 10 })
    for (let i = 0; i < 25; i++) await gw.services.put({ name: `s${i}`, urls: [`http://h${i}`] })
    const before = gw.snapshot
    await gw.close()

    const storage = new FileStorage(dir)
    const stored = await storage.load()
    await storage.close()
    expect(stored.snapshot?.index).toBe(20)
    expect(stored.entries.map((e) => e.index)).toEqual([21, 22, 23, 24, 25])

    const again = await createGateway({ storage: { dir }, snapshotEvery: 10 })
    expect(again.snapshot.version).toBe(25)
    expect(again.snapshot.list('service')).toEqual(before.list('service'))
    await again.close()
  })

  it('keeps every acknowledged write when the process is killed with SIGKILL', async () => {
    const script = await bundleForNode(fileURLToPath(new URL('./kill-writer.ts', import.meta.url)))
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acknowledged: string[] = []
    await new Promise<void>((resolve, reject) => {
      let buffered = ''
      child.on('error', reject)
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited with ${code}`))))
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) if (line.startsWith('s')) acknowledged.push(line)
        // Enough writes to have crossed several snapshots; then pull the plug mid-stream.
        if (acknowledged.length >= 150) child.kill('SIGKILL')
      })
    })
    expect(acknowledged.length).toBeGreaterThanOrEqual(150)

    const gw = await createGateway({ storage: { dir } })
    const names = new Set(gw.snapshot.list('service').map((s) => s.name))
    const lost = acknowledged.filter((name) => !names.has(name))
    expect(lost).toEqual([])
    expect(gw.snapshot.version).toBe(names.size)
    await gw.close()
  })
})

describe('recovery', () => {
  it('refuses to start on a log entry the state refuses, saying which', async () => {
    const storage = new MemoryStorage()
    await storage.append([{ index: 1, change: { kind: 'route', op: 'put', namespace: 'default', name: 'r', item: { name: 'r', namespace: 'default', paths: ['/'], methods: ['*'], service: 'gone', modules: [], stripPath: false, preserveHost: false, tags: [] } } }])
    await expect(createGateway({ storage })).rejects.toThrow('cannot recover state: log entry 1 (put route "r") is refused: route "r": service "gone" does not exist in namespace "default"')
  })

  it('restarts from the same memory storage instance', async () => {
    const storage = new MemoryStorage()
    const gw = await createGateway({ storage, snapshotEvery: 3 })
    await fill(gw)
    const version = gw.snapshot.version
    await gw.close()
    const again = await createGateway({ storage })
    expect(again.snapshot.version).toBe(version)
    expect(again.snapshot.list('module')).toEqual(gw.snapshot.list('module'))
    await again.close()
  })

  it('refuses writes after close', async () => {
    const gw = await createGateway()
    await gw.close()
    await expect(gw.namespaces.put({ name: 'x' })).rejects.toThrow('the gateway is closed')
    await gw.close()
  })
})

describe('seed resources', () => {
  const resources = {
    namespaces: [{ name: 'team' }],
    services: [{ name: 'api', namespace: 'team', urls: ['http://127.0.0.1:9'] }],
    routes: [{ name: 'api', namespace: 'team', paths: ['/api/*'], methods: ['*'], service: 'api' }],
    collections: [{ name: 'c', namespace: 'team' }],
    documents: [{ namespace: 'team', collection: 'c', id: 'd', data: { x: 1 } }],
    secrets: [{ name: 'k', namespace: 'team', data: 'v' }],
  }

  it('are applied at start, and starting again with the same seed changes nothing', async () => {
    const gw = await createGateway({ storage: { dir }, resources })
    expect(gw.snapshot.get('route', 'team', 'api')?.service).toBe('api')
    const version = gw.snapshot.version
    expect(version).toBe(6)
    await gw.close()
    const again = await createGateway({ storage: { dir }, resources })
    expect(again.snapshot.version).toBe(version)
    await again.close()
  })

  it('fail the start with the resource named when one is invalid', async () => {
    await expect(createGateway({ resources: { routes: [{ name: 'r', paths: ['x'], methods: ['GET'] }] } })).rejects.toThrow('resources: route "r": paths[0] must start with "/"')
    await expect(createGateway({ resources: { routes: [{ name: 'r', paths: ['/x'], methods: ['GET'], service: 'none' }] } })).rejects.toThrow('resources: route "r": service "none" does not exist in namespace "default"')
  })
})
