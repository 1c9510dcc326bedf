import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryRaftStorage } from '../../../src/cluster/raft/storage/memory.js'
import { FileRaftStorage } from '../../../src/cluster/raft/storage/file.js'
import type { RaftStorage } from '../../../src/cluster/raft/storage/types.js'
import { TestCluster, waitFor } from './driver/cluster.js'
import { deleteNs, putNs } from './driver/kv-state-machine.js'

const ids = ['a', 'b', 'c']
const dirs: string[] = []
let cluster: TestCluster | undefined

afterEach(async () => {
  await cluster?.closeAll()
  cluster = undefined
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'dgate-raft-'))
  dirs.push(d)
  return d
}

const storages: [string, () => Promise<(id: string) => RaftStorage>][] = [
  ['memory storage', async () => () => new MemoryRaftStorage()],
  [
    'file storage',
    async () => {
      const root = await tempDir()
      return (id: string) => new FileRaftStorage(join(root, id))
    },
  ],
]

for (const [name, makeFactory] of storages) {
  describe(`raftCluster over MemoryTransport with ${name}`, () => {
    async function three(): Promise<TestCluster> {
      cluster = new TestCluster(await makeFactory())
      for (const id of ids) await cluster.start(id, ids)
      return cluster
    }

    it('elects a leader and reports it in status', async () => {
      const c = await three()
      const leader = await c.leader()
      const s = leader.adapter.status()
      expect(s).toMatchObject({ role: 'leader', id: leader.id, leader: leader.id })
      expect(s.term).toBeGreaterThan(1)
      expect(s.members.map((m) => [m.id, m.voter])).toEqual([['a', true], ['b', true], ['c', true]])
      for (const f of c.followers(leader)) expect(f.adapter.status()).toMatchObject({ role: 'follower', leader: leader.id })
    })

    it('a proposal on the leader resolves after commit and local apply, and reaches every node', async () => {
      const c = await three()
      const leader = await c.leader()
      const { index } = await leader.adapter.propose(putNs('one', ['x']))
      expect(leader.sm.items.get('one')).toEqual(['x'])
      expect(leader.adapter.status().appliedIndex).toBeGreaterThanOrEqual(index)
      for (const f of c.followers(leader)) await waitFor(() => f.sm.items.has('one'), 3000, `apply on ${f.id}`)
    })

    it('a proposal on a follower is forwarded and resolves once applied on that follower', async () => {
      const c = await three()
      const leader = await c.leader()
      const f = c.followers(leader)[0]
      if (!f) throw new Error('no follower')
      const { index } = await f.adapter.propose(putNs('via-follower'))
      expect(f.sm.items.has('via-follower')).toBe(true)
      expect(f.sm.appliedIndex).toBeGreaterThanOrEqual(index)
    })

    it('a refused change rejects with the state machine error, on the leader and on a follower', async () => {
      const c = await three()
      const leader = await c.leader()
      await expect(leader.adapter.propose(deleteNs('missing'))).rejects.toThrow('namespace missing does not exist')
      const f = c.followers(leader)[0]
      await expect(f?.adapter.propose(deleteNs('missing-too'))).rejects.toThrow('namespace missing-too does not exist')
      // The refusal changed nothing and the log keeps working.
      await leader.adapter.propose(putNs('after'))
      expect(leader.sm.items.has('after')).toBe(true)
    })

    it('barrier makes a follower reflect every change committed before it', async () => {
      const c = await three()
      const leader = await c.leader()
      for (let i = 0; i < 5; i++) await leader.adapter.propose(putNs(`n${i}`))
      for (const f of c.followers(leader)) {
        await f.adapter.barrier()
        expect(f.sm.items.has('n4')).toBe(true)
      }
      await leader.adapter.barrier()
    })

    it('after the leader crashes the others elect a new leader and keep every acknowledged write', async () => {
      const c = await three()
      const old = await c.leader()
      const acked: string[] = []
      for (let i = 0; i < 10; i++) {
        await old.adapter.propose(putNs(`w${i}`))
        acked.push(`w${i}`)
      }
      c.net.isolate(old.id)
      await c.stop(old.id)
      const fresh = await c.leader()
      expect(fresh.id).not.toBe(old.id)
      await fresh.adapter.barrier()
      for (const k of acked) expect(fresh.sm.items.has(k)).toBe(true)
      await fresh.adapter.propose(putNs('under-new-leader'))
      for (const f of c.followers(fresh)) {
        await f.adapter.barrier()
        expect([...f.sm.items.keys()]).toEqual([...fresh.sm.items.keys()])
      }
    })

    it('a proposal to a leader cut off from the majority is rejected as lost once it learns the new leader', async () => {
      const c = await three()
      const old = await c.leader()
      c.net.isolate(old.id)
      const stranded = old.adapter.propose(putNs('stranded'))
      const rejected = expect(stranded).rejects.toThrow(/lost in a leader change/)
      await waitFor(() => c.followers(old).some((n) => n.adapter.status().role === 'leader'), 3000, 'a new leader')
      const fresh = c.followers(old).find((n) => n.adapter.status().role === 'leader')
      await fresh?.adapter.propose(putNs('winner'))
      c.net.heal()
      await rejected
      await waitFor(() => old.sm.items.has('winner'))
      expect(old.sm.items.has('stranded')).toBe(false)
    })

    it('a restarted node recovers its log from storage and catches up', async () => {
      const c = await three()
      const leader = await c.leader()
      await leader.adapter.propose(putNs('before'))
      const victim = c.followers(leader)[0]
      if (!victim) throw new Error('no follower')
      await waitFor(() => victim.sm.items.has('before'))
      const storage = victim.storage
      await c.stop(victim.id)
      await leader.adapter.propose(putNs('while-down'))
      const again = await c.start(victim.id, ids, name === 'memory storage' ? storage : undefined)
      await again.adapter.barrier()
      expect(again.sm.items.has('before')).toBe(true)
      expect(again.sm.items.has('while-down')).toBe(true)
    })

    it('without a reachable quorum, a proposal fails clearly within the timeout', async () => {
      cluster = new TestCluster(await makeFactory(), { timeoutMs: 300 })
      const lonely = await cluster.start('a', ids)
      const t = Date.now()
      await expect(lonely.adapter.propose(putNs('nope'))).rejects.toThrow(/no leader known within 300 ms/)
      expect(Date.now() - t).toBeLessThan(2000)
    })
  })
}

describe('raftCluster over file storage after a crash mid-write', () => {
  it('a node whose last log record was torn restarts, cuts it, and catches up from the leader', async () => {
    const root = await tempDir()
    cluster = new TestCluster((id) => new FileRaftStorage(join(root, id)))
    for (const id of ids) await cluster.start(id, ids)
    const leader = await cluster.leader()
    for (let i = 0; i < 5; i++) await leader.adapter.propose(putNs(`t${i}`))
    const victim = cluster.followers(leader)[0]
    if (!victim) throw new Error('no follower')
    await waitFor(() => victim.sm.items.has('t4'))
    await cluster.stop(victim.id)
    const dir = join(root, victim.id)
    const seg = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort().at(-1) ?? ''
    const torn = Buffer.alloc(20)
    torn.writeUInt32LE(4096, 0)
    await appendFile(join(dir, seg), torn)
    await leader.adapter.propose(putNs('while-down'))
    const again = await cluster.start(victim.id, ids)
    await again.adapter.barrier()
    expect([...again.sm.items.keys()].sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 'while-down'])
  })
})

describe('raftCluster membership and snapshots', () => {
  it('a node joining later receives a snapshot, restores it, and can be promoted to voter', async () => {
    cluster = new TestCluster(() => new MemoryRaftStorage(), { snapshotEvery: 5, trailingEntries: 2 })
    for (const id of ids) await cluster.start(id, ids)
    const leader = await cluster.leader()
    for (let i = 0; i < 20; i++) await leader.adapter.propose(putNs(`s${i}`))
    const joiner = await cluster.start('d', undefined)
    await leader.adapter.addLearner('d')
    await waitFor(() => joiner.sm.items.has('s19'), 5000, 'the learner to catch up')
    expect(joiner.sm.restores).toBeGreaterThan(0)
    expect(joiner.adapter.status().role).toBe('learner')
    await leader.adapter.addVoter('d')
    await waitFor(() => joiner.adapter.status().role === 'follower')
    expect(leader.adapter.status().members.find((m) => m.id === 'd')).toMatchObject({ voter: true })
    await joiner.adapter.propose(putNs('from-d'))
    expect(joiner.sm.items.has('from-d')).toBe(true)
  })

  it('transfers leadership on request', async () => {
    cluster = new TestCluster(() => new MemoryRaftStorage())
    for (const id of ids) await cluster.start(id, ids)
    const leader = await cluster.leader()
    const target = cluster.followers(leader)[0]?.id ?? ''
    await leader.adapter.transferLeadership(target)
    await waitFor(() => cluster?.get(target).adapter.status().role === 'leader')
  })

  it('membership changes are refused on a follower', async () => {
    cluster = new TestCluster(() => new MemoryRaftStorage())
    for (const id of ids) await cluster.start(id, ids)
    const leader = await cluster.leader()
    const f = cluster.followers(leader)[0]
    await expect(f?.adapter.addLearner('z')).rejects.toThrow(/not the leader/)
  })

  it('fails closed when storage fails: the pending proposal and every later call reject with the storage error', async () => {
    const storage = new MemoryRaftStorage()
    let broken = false
    const append = storage.append.bind(storage)
    storage.append = async (...args) => {
      if (broken) throw new Error('EIO: fsync failed')
      return append(...args)
    }
    cluster = new TestCluster(() => storage)
    const a = await cluster.start('a', ['a'])
    await waitFor(() => a.adapter.status().role === 'leader')
    await a.adapter.propose(putNs('ok'))
    broken = true
    await expect(a.adapter.propose(putNs('lost'))).rejects.toThrow('EIO: fsync failed')
    await expect(a.adapter.propose(putNs('later'))).rejects.toThrow('EIO: fsync failed')
    await expect(a.adapter.barrier()).rejects.toThrow('EIO: fsync failed')
    expect(a.sm.items.has('lost')).toBe(false)
  })

  it('emits leader and applied events, and close is idempotent', async () => {
    cluster = new TestCluster(() => new MemoryRaftStorage())
    const a = await cluster.start('a', ['a'])
    const leaders: (string | undefined)[] = []
    const applied: number[] = []
    a.adapter.on('leader', (l) => leaders.push(l))
    const off = a.adapter.on('applied', (e) => applied.push(e.index))
    await waitFor(() => a.adapter.status().role === 'leader')
    expect(leaders).toEqual(['a'])
    const { index } = await a.adapter.propose(putNs('one'))
    expect(applied).toEqual([index])
    off()
    await a.adapter.propose(putNs('two'))
    expect(applied).toEqual([index])
    await a.adapter.close()
    await a.adapter.close()
    await expect(a.adapter.propose(putNs('late'))).rejects.toThrow(/closed/)
  })
})
