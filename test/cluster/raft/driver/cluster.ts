import { RaftCluster, type RaftClusterOptions } from '../../../../src/cluster/raft/driver.js'
import type { RaftStorage } from '../../../../src/cluster/raft/storage/types.js'
import { MemoryNetwork } from '../../../../src/cluster/raft/transport/memory.js'
import { KvStateMachine } from './kv-state-machine.js'

export interface TestNode {
  id: string
  adapter: RaftCluster
  sm: KvStateMachine
  storage: RaftStorage
}

/** Polls `cond` until it holds or `ms` pass. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Several drivers over one in-memory network, each with storage from `makeStorage`. */
export class TestCluster {
  readonly net = new MemoryNetwork()
  readonly nodes = new Map<string, TestNode>()

  constructor(
    private readonly makeStorage: (id: string) => RaftStorage,
    private readonly options: Partial<RaftClusterOptions> = {},
  ) {}

  async start(id: string, members: string[] | undefined, storage = this.makeStorage(id)): Promise<TestNode> {
    const sm = new KvStateMachine()
    const adapter = new RaftCluster({ id, storage, transport: this.net.connect(id), members, tickMs: 5, electionTicks: 20, timeoutMs: 3000, ...this.options })
    await adapter.start(sm)
    const node = { id, adapter, sm, storage }
    this.nodes.set(id, node)
    return node
  }

  get(id: string): TestNode {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no node ${id}`)
    return n
  }

  async leader(ms = 5000): Promise<TestNode> {
    let found: TestNode | undefined
    await waitFor(
      () => {
        found = [...this.nodes.values()].find((n) => n.adapter.status().role === 'leader')
        return found !== undefined && [...this.nodes.values()].every((n) => n === found || n.adapter.status().leader === found?.id || n.adapter.status().role === 'learner')
      },
      ms,
      'a leader known to all',
    )
    if (!found) throw new Error('no leader')
    return found
  }

  followers(leader: TestNode): TestNode[] {
    return [...this.nodes.values()].filter((n) => n !== leader)
  }

  async stop(id: string): Promise<void> {
    await this.get(id).adapter.close()
    this.nodes.delete(id)
  }

  async closeAll(): Promise<void> {
    for (const n of this.nodes.values()) await n.adapter.close()
    this.nodes.clear()
  }
}
