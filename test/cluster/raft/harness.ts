import type { RaftConfig } from '../../../src/cluster/raft/core/config.js'
import type { Message, MessageType } from '../../../src/cluster/raft/core/messages.js'
import { seededRandom } from '../../../src/cluster/raft/core/prng.js'
import { Raft } from '../../../src/cluster/raft/core/raft.js'
import type { Entry, EntryType, RaftPersistedState, ReadState, Snapshot } from '../../../src/cluster/raft/core/types.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const bytes = (s: string): Uint8Array => encoder.encode(s)
export const text = (b: Uint8Array): string => decoder.decode(b)

/** An entry for building logs in tests. */
export function ent(index: number, term: number, data = '', type: EntryType = 'normal'): Entry {
  return { index, term, type, data: bytes(data) }
}

/**
 * A core with membership `voters` (plus `learners`) at index 0 and an optional pre-existing log,
 * pre-vote off by default so the paper's plain election is what runs.
 */
export function newRaft(
  id: string,
  voters: string[],
  opts: Partial<RaftConfig> & { learners?: string[]; entries?: Entry[]; term?: number; vote?: string; commit?: number } = {},
): Raft {
  const snapshot: Snapshot = { meta: { index: 0, term: 0, confState: { voters, learners: opts.learners ?? [] } }, data: new Uint8Array(0) }
  const state: RaftPersistedState = {
    hardState: { term: opts.term ?? 0, vote: opts.vote, commit: opts.commit ?? 0 },
    snapshot,
    entries: opts.entries ?? [],
  }
  return new Raft({ id, random: seededRandom(hash(id)), electionTick: 10, heartbeatTick: 1, preVote: false, checkQuorum: false, ...opts }, state)
}

function hash(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

/** Takes the pending Ready (if any), acknowledges it at once, and returns its messages. */
export function drain(r: Raft): Message[] {
  if (!r.hasReady()) return []
  const rd = r.ready()
  r.advance(rd)
  return rd.messages
}

/** Committed entries of normal type handed out by one Ready, as text. */
export function applyAll(r: Raft): string[] {
  const out: string[] = []
  while (r.hasReady()) {
    const rd = r.ready()
    for (const e of rd.committedEntries) if (e.type === 'normal') out.push(text(e.data))
    r.advance(rd)
  }
  return out
}

/** Ticks `r` until it has run through its randomized election timeout. */
export function tickElection(r: Raft): void {
  for (let i = 0; i < 2 * 10; i++) r.tick()
}

/**
 * A synchronous in-process network of cores (etcd's test `network`): messages are delivered in
 * order until none are left, except across cut links or of ignored types.
 */
export class Net {
  readonly nodes = new Map<string, Raft>()
  private readonly cut = new Set<string>()
  private readonly ignored = new Set<MessageType>()
  /** Every message delivered, for assertions. */
  readonly delivered: Message[] = []
  /** Entries applied per node, in order. */
  readonly applied = new Map<string, string[]>()
  /** ReadIndex answers per node. */
  readonly reads = new Map<string, ReadState[]>()
  /** Snapshots installed per node. */
  readonly installed = new Map<string, Snapshot[]>()

  constructor(rafts: Raft[]) {
    for (const r of rafts) {
      this.nodes.set(r.id, r)
      this.applied.set(r.id, [])
      this.reads.set(r.id, [])
      this.installed.set(r.id, [])
    }
  }

  get(id: string): Raft {
    const r = this.nodes.get(id)
    if (!r) throw new Error(`no node ${id}`)
    return r
  }

  cutLink(a: string, b: string): void {
    this.cut.add(`${a}>${b}`).add(`${b}>${a}`)
  }

  isolate(id: string): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other)
  }

  heal(): void {
    this.cut.clear()
    this.ignored.clear()
  }

  ignore(t: MessageType): void {
    this.ignored.add(t)
  }

  /** Delivers everything until the cluster is quiet. */
  stabilize(): void {
    for (let round = 0; round < 10_000; round++) {
      const queue: Message[] = []
      for (const r of this.nodes.values()) {
        while (r.hasReady()) {
          const rd = r.ready()
          const applied = this.applied.get(r.id)
          for (const e of rd.committedEntries) if (e.type === 'normal') applied?.push(text(e.data))
          this.reads.get(r.id)?.push(...rd.readStates)
          if (rd.snapshot) this.installed.get(r.id)?.push(rd.snapshot)
          queue.push(...rd.messages)
          r.advance(rd)
        }
      }
      if (queue.length === 0) return
      for (const m of queue) this.deliver(m)
    }
    throw new Error('network did not stabilize')
  }

  /** Delivers one message (subject to cuts and ignores). */
  deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`) || this.ignored.has(m.type)) return
    const to = this.nodes.get(m.to)
    if (!to) return
    this.delivered.push(m)
    to.step(m)
  }

  /** Starts an election on `id` and lets it finish. */
  campaign(id: string): void {
    this.get(id).campaign()
    this.stabilize()
  }

  propose(id: string, data: string): void {
    this.get(id).propose(bytes(data))
    this.stabilize()
  }
}
