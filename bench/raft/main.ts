// Proposals committed per second by a 3-node Raft cluster in one process: the same Ready loop over
// memory storage (no I/O: the baseline) and over file storage with fsync, plus their ratio.
// Run: node bench/run.mjs bench/raft/main.ts [--seconds 3] [--window 64]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootstrapLog } from '../../src/cluster/raft/core/bootstrap.js'
import type { Message } from '../../src/cluster/raft/core/messages.js'
import { seededRandom } from '../../src/cluster/raft/core/prng.js'
import { Raft } from '../../src/cluster/raft/core/raft.js'
import { FileRaftStorage } from '../../src/cluster/raft/storage/file.js'
import { MemoryRaftStorage } from '../../src/cluster/raft/storage/memory.js'
import type { RaftStorage } from '../../src/cluster/raft/storage/types.js'

const ids = ['n1', 'n2', 'n3']

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN
  return Number.isFinite(v) && v > 0 ? v : fallback
}

interface Node {
  core: Raft
  storage: RaftStorage
  applied: number
}

async function cluster(makeStorage: (id: string) => RaftStorage): Promise<Node[]> {
  const boot = bootstrapLog(ids)
  const nodes: Node[] = []
  for (const [i, id] of ids.entries()) {
    const storage = makeStorage(id)
    await storage.load()
    await storage.append(boot.entries, boot.hardState, { sync: true })
    const core = new Raft({ id, random: seededRandom(i + 1), maxMsgEntries: 256, maxInflightMsgs: 64 }, await storage.load())
    nodes.push({ core, storage, applied: 0 })
  }
  return nodes
}

/** Runs every node's Ready loop and delivers messages until the cluster is quiet. */
async function pump(nodes: Node[]): Promise<void> {
  const byId = new Map(nodes.map((n) => [n.core.id, n]))
  for (;;) {
    const outbox: Message[] = []
    // Nodes persist in parallel, as separate machines would.
    await Promise.all(
      nodes.map(async (n) => {
        while (n.core.hasReady()) {
          const rd = n.core.ready()
          if (rd.entries.length > 0 || rd.hardState) await n.storage.append(rd.entries, rd.hardState, { sync: rd.mustSync })
          outbox.push(...rd.messages)
          n.applied += rd.committedEntries.filter((e) => e.type === 'normal').length
          n.core.advance(rd)
        }
      }),
    )
    if (outbox.length === 0) return
    for (const m of outbox) byId.get(m.to)?.core.step(m)
  }
}

/** Keeps `window` proposals outstanding for `seconds`; returns proposals applied on the leader per second. */
async function measure(makeStorage: (id: string) => RaftStorage, seconds: number, window: number): Promise<number> {
  const nodes = await cluster(makeStorage)
  const leader = nodes[0]
  if (!leader) throw new Error('no nodes')
  leader.core.campaign()
  await pump(nodes)
  if (leader.core.role !== 'leader') throw new Error('n1 did not become leader')
  const payload = new TextEncoder().encode(JSON.stringify({ id: 'bench', change: { kind: 'namespace', op: 'put', name: 'x', item: { name: 'x', tags: [] } } }))
  let proposed = 0
  const start = performance.now()
  const end = start + seconds * 1000
  while (performance.now() < end) {
    while (proposed - leader.applied < window) {
      leader.core.propose(payload)
      proposed++
    }
    await pump(nodes)
  }
  const elapsed = (performance.now() - start) / 1000
  for (const n of nodes) await n.storage.close()
  return leader.applied / elapsed
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 3)
  for (const window of [1, arg('window', 64)]) {
    const memory = await measure(() => new MemoryRaftStorage(), seconds, window)
    const dir = await mkdtemp(join(tmpdir(), 'dgate-raft-bench-'))
    try {
      const file = await measure((id) => new FileRaftStorage(join(dir, id)), seconds, window)
      console.log(`window ${String(window).padStart(3)}: memory ${fmt(memory)}/s, file+fsync ${fmt(file)}/s, ratio file/memory ${(file / memory).toFixed(4)} (1/${(memory / file).toFixed(0)})`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

await main()
