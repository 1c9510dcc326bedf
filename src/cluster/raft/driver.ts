import { randomUUID } from 'node:crypto'
import type { ApplyResult, ClusterAdapter, ClusterEvents, ClusterMember, ClusterRole, ClusterStatus, StateMachine } from '../adapter.js'
import type { Change } from '../../state/change.js'
import { bootstrapLog } from './core/bootstrap.js'
import type { ConfChange } from './core/confchange.js'
import type { RaftConfig } from './core/config.js'
import { ProposalDroppedError } from './core/errors.js'
import { seededRandom } from './core/prng.js'
import { Raft } from './core/raft.js'
import type { Ready } from './core/ready.js'
import type { Entry } from './core/types.js'
import { decodeProposal, encodeProposal } from './proposal.js'
import type { RaftStorage } from './storage/types.js'
import type { RaftTransport } from './transport/types.js'
import { Waiters } from './waiters.js'

/**
 * Options of {@link raftCluster}.
 * @public
 */
export interface RaftClusterOptions {
  /** This node's id, unique in the cluster. */
  id: string
  /** Durable log, hard state and snapshots of this node; closed by {@link RaftCluster.close}. */
  storage: RaftStorage
  /** Carries messages to and from the other nodes; closed by {@link RaftCluster.close}. */
  transport: RaftTransport
  /**
   * Founding voters, used only when storage is empty. Omit on a node that joins an existing cluster
   * (the leader adds it with `addLearner`, then `addVoter`).
   */
  members?: string[]
  /** Milliseconds per Raft tick. Default 50. */
  tickMs?: number
  /** Ticks before a follower without a leader campaigns. Default 10. */
  electionTicks?: number
  /** Ticks between leader heartbeats. Default 1. */
  heartbeatTicks?: number
  /** Take a state machine snapshot and compact the log every this many applied entries. Default 1000. */
  snapshotEvery?: number
  /** Entries kept before a snapshot so slow followers catch up without one. Default 100. */
  trailingEntries?: number
  /** How long a proposal or barrier may wait for a leader and for its entry to apply. Default 5000 ms. */
  timeoutMs?: number
  /** Further core tuning (batching, inflight window, snapshot chunk size). */
  raft?: Partial<Omit<RaftConfig, 'id' | 'random' | 'electionTick' | 'heartbeatTick'>>
}

interface PendingProposal {
  resolve(v: { index: number }): void
  reject(e: Error): void
  /** Known when proposed on the leader: another entry applied at this index means the proposal was lost. */
  index: number | undefined
}

interface PendingRead {
  resolve(): void
  reject(e: Error): void
  /** Set once the leader granted the read: wait for `applied >= index`. */
  index: number | undefined
}

/**
 * A {@link ClusterAdapter} backed by the Raft core: it persists each Ready before sending its
 * messages, applies committed changes to the gateway's {@link StateMachine}, forwards follower
 * proposals to the leader, and serves barriers with ReadIndex.
 *
 * @public
 */
export class RaftCluster implements ClusterAdapter {
  private core: Raft | undefined
  private sm: StateMachine | undefined
  private readonly opts: Required<Omit<RaftClusterOptions, 'members' | 'raft'>> & Pick<RaftClusterOptions, 'members' | 'raft'>
  private applied = 0
  /** Entries at or below this index are already in the state machine (it recovered them itself). */
  private skipUntil = 0
  private lastSnapshot = 0
  private readonly nonce = randomUUID().slice(0, 8)
  private counter = 0
  private readonly proposals = new Map<string, PendingProposal>()
  private readonly reads = new Map<string, PendingRead>()
  private readonly listeners: { [E in keyof ClusterEvents]: Set<ClusterEvents[E]> } = { applied: new Set(), leader: new Set() }
  private readonly leaderKnown = new Waiters()
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> | undefined
  private again = false
  private fatal: Error | undefined
  private closed = false
  private closing: Promise<void> | undefined
  private lastLead: string | undefined

  constructor(options: RaftClusterOptions) {
    this.opts = {
      tickMs: 50,
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotEvery: 1000,
      trailingEntries: 100,
      timeoutMs: 5000,
      ...options,
    }
  }

  /**
   * Loads storage (writing the founding log first when storage is empty and `members` is set), restores
   * `sm` from the snapshot if it is behind, and starts ticking. Throws if called twice.
   */
  async start(sm: StateMachine): Promise<void> {
    if (this.core) throw new Error('raft: already started')
    this.sm = sm
    let state = await this.opts.storage.load()
    if (state.hardState.term === 0 && state.entries.length === 0 && !state.snapshot && this.opts.members?.length) {
      const boot = bootstrapLog(this.opts.members)
      await this.opts.storage.append(boot.entries, boot.hardState, { sync: true })
      state = await this.opts.storage.load()
    }
    const seed = Number.parseInt(randomUUID().slice(0, 8), 16)
    this.core = new Raft(
      { ...this.opts.raft, id: this.opts.id, random: seededRandom(seed), electionTick: this.opts.electionTicks, heartbeatTick: this.opts.heartbeatTicks },
      state,
    )
    if (state.snapshot && sm.appliedIndex < state.snapshot.meta.index) sm.restore(state.snapshot.data)
    this.applied = state.snapshot?.meta.index ?? 0
    this.lastSnapshot = this.applied
    this.skipUntil = sm.appliedIndex
    this.opts.transport.onMessage((m) => {
      if (this.closed || this.fatal || !this.core) return
      this.guard(() => this.core?.step(m))
      this.kick()
    })
    this.timer = setInterval(() => {
      this.guard(() => this.core?.tick())
      this.kick()
    }, this.opts.tickMs)
    this.timer.unref?.()
    this.kick()
    await this.running
  }

  /**
   * Replicates `change` through the leader (forwarding from a follower) and resolves with its log index
   * once applied here; rejects with the state machine's refusal, or after `timeoutMs` (it may still commit).
   */
  async propose(change: Change): Promise<{ index: number }> {
    const id = `${this.opts.id}/${this.nonce}/${++this.counter}`
    const data = encodeProposal(id, change)
    const deadline = Date.now() + this.opts.timeoutMs
    return this.retrying(deadline, (core) => this.proposeOnce(core, id, data, deadline))
  }

  /**
   * Resolves once this node has applied everything committed before the call (ReadIndex confirmed by a
   * heartbeat quorum); rejects after `timeoutMs`.
   */
  async barrier(): Promise<void> {
    const deadline = Date.now() + this.opts.timeoutMs
    return this.retrying(deadline, (core) => this.readOnce(core, `${this.opts.id}/${this.nonce}/r${++this.counter}`, deadline))
  }

  /** Runs `attempt` once a leader is known, again while the core drops it (no leader yet, transfer) until `deadline`. */
  private async retrying<T>(deadline: number, attempt: (core: Raft) => Promise<T>): Promise<T> {
    for (;;) {
      const core = await this.ready(deadline)
      try {
        return await attempt(core)
      } catch (e) {
        if (!(e instanceof ProposalDroppedError) || Date.now() + this.opts.tickMs >= deadline) throw e
        await new Promise((r) => setTimeout(r, this.opts.tickMs))
      }
    }
  }

  private proposeOnce(core: Raft, id: string, data: Uint8Array, deadline: number): Promise<{ index: number }> {
    return new Promise<{ index: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.proposals.delete(id)) reject(new Error(`raft: change not applied within ${this.opts.timeoutMs} ms; it may still commit`))
      }, Math.max(1, deadline - Date.now()))
      const pending: PendingProposal = {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
        index: undefined,
      }
      try {
        core.propose(data)
      } catch (e) {
        pending.reject(e instanceof Error ? e : new Error(String(e)))
        return
      }
      if (core.role === 'leader') {
        pending.index = core.log.lastIndex()
      }
      this.proposals.set(id, pending)
      this.kick()
    })
  }

  private readOnce(core: Raft, ctx: string, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.reads.delete(ctx)) reject(new Error(`raft: no linearizable read point within ${this.opts.timeoutMs} ms`))
      }, Math.max(1, deadline - Date.now()))
      const pending: PendingRead = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
        index: undefined,
      }
      try {
        core.readIndex(ctx)
      } catch (e) {
        pending.reject(e instanceof Error ? e : new Error(String(e)))
        return
      }
      this.reads.set(ctx, pending)
      this.kick()
    })
  }

  /** Adds `node` as a learner: it receives the log but does not vote (leader only). */
  addLearner(node: string): Promise<{ index: number }> {
    return this.changeMembership({ type: 'addLearner', node })
  }

  /** Adds `node` as a voter, or promotes a learner (leader only). */
  addVoter(node: string): Promise<{ index: number }> {
    return this.changeMembership({ type: 'addVoter', node })
  }

  /** Removes `node` from the cluster (leader only). */
  removeMember(node: string): Promise<{ index: number }> {
    return this.changeMembership({ type: 'remove', node })
  }

  /** Hands leadership to `node` (leader only); resolves once this node knows the new leader. */
  async transferLeadership(node: string): Promise<void> {
    const core = this.mustBeLeader()
    core.transferLeader(node)
    this.kick()
    const deadline = Date.now() + this.opts.timeoutMs
    while (core.lead !== node) {
      if (Date.now() >= deadline) throw new Error(`raft: leadership did not move to ${node} within ${this.opts.timeoutMs} ms`)
      await this.leaderKnown.wait(deadline - Date.now())
    }
  }

  /** This node's role, term, commit and applied indexes, and the membership (with match indexes on the leader). */
  status(): ClusterStatus {
    const core = this.core
    if (!core) return { role: 'follower', id: this.opts.id, term: 0, commitIndex: 0, appliedIndex: 0, members: [] }
    const s = core.status()
    const members: ClusterMember[] = [
      ...s.confState.voters.map((id) => ({ id, voter: true, matchIndex: s.progress?.get(id)?.match })),
      ...s.confState.learners.map((id) => ({ id, voter: false, matchIndex: s.progress?.get(id)?.match })),
    ]
    for (const m of members) if (m.matchIndex === undefined) delete m.matchIndex
    let role: ClusterRole = s.role === 'preCandidate' ? 'candidate' : s.role
    if (role === 'follower' && s.confState.learners.includes(this.opts.id)) role = 'learner'
    const status: ClusterStatus = { role, id: this.opts.id, term: s.term, commitIndex: s.commit, appliedIndex: this.applied, members }
    if (s.lead !== undefined) status.leader = s.lead
    return status
  }

  /** Calls `fn` on every `event` (`applied` after each change applied successfully, `leader` when the known leader changes); returns the unsubscribe function. */
  on<E extends keyof ClusterEvents>(event: E, fn: ClusterEvents[E]): () => void {
    const set = this.listeners[event] as Set<ClusterEvents[E]>
    set.add(fn)
    return () => set.delete(fn)
  }

  /** Stops ticking, rejects pending calls, then closes the transport and storage. Safe to call twice. */
  async close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  // ------------------------------------------------------------------ internals

  private async shutdown(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    await this.running
    this.failAll(new Error('raft: cluster adapter closed'))
    await this.opts.transport.close()
    await this.opts.storage.close()
  }

  /** Waits until a leader is known; returns the core. */
  private async ready(deadline: number): Promise<Raft> {
    for (;;) {
      if (this.fatal) throw this.fatal
      if (this.closed) throw new Error('raft: cluster adapter closed')
      const core = this.core
      if (!core) throw new Error('raft: not started')
      if (core.lead !== undefined) return core
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`raft: no leader known within ${this.opts.timeoutMs} ms`)
      await this.leaderKnown.wait(left)
    }
  }

  private mustBeLeader(): Raft {
    if (this.fatal) throw this.fatal
    const core = this.core
    if (!core || core.role !== 'leader') throw new ProposalDroppedError(`raft: ${this.opts.id} is not the leader (leader: ${core?.lead ?? 'unknown'})`)
    return core
  }

  private async changeMembership(cc: ConfChange): Promise<{ index: number }> {
    const core = this.mustBeLeader()
    core.proposeConfChange(cc)
    const index = core.log.lastIndex()
    const term = core.term
    this.kick()
    const deadline = Date.now() + this.opts.timeoutMs
    while (this.applied < index) {
      if (this.fatal) throw this.fatal
      if (Date.now() >= deadline) throw new Error(`raft: membership change not applied within ${this.opts.timeoutMs} ms`)
      await this.appliedAdvanced.wait(deadline - Date.now())
    }
    if (core.log.term(index) !== undefined && core.log.term(index) !== term) throw new Error('raft: membership change lost in a leader change')
    return { index }
  }

  private readonly appliedAdvanced = new Waiters()

  private guard(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.die(e instanceof Error ? e : new Error(String(e)))
    }
  }

  /** Schedules the Ready loop; one run at a time, so persistence and apply stay in order. */
  private kick(): void {
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.loop().finally(() => {
      this.running = undefined
      if (this.again && !this.closed && !this.fatal) {
        this.again = false
        this.kick()
      }
    })
  }

  private async loop(): Promise<void> {
    const core = this.core
    if (!core) return
    try {
      while (!this.fatal && core.hasReady()) {
        this.again = false
        const rd = core.ready()
        await this.handle(core, rd)
        core.advance(rd)
        await this.maybeSnapshot(core)
      }
    } catch (e) {
      this.die(e instanceof Error ? e : new Error(String(e)))
    }
  }

  private async handle(core: Raft, rd: Ready): Promise<void> {
    // 1. Durability first: nothing below may depend on state that could still be lost.
    if (rd.snapshot) await this.opts.storage.saveSnapshot(rd.snapshot)
    if (rd.entries.length > 0 || rd.hardState) await this.opts.storage.append(rd.entries, rd.hardState, { sync: rd.mustSync })
    // 2. Messages may now acknowledge what was persisted.
    if (rd.messages.length > 0) this.opts.transport.send(rd.messages)
    // 3. Apply.
    if (rd.snapshot) {
      this.sm?.restore(rd.snapshot.data)
      this.applied = rd.snapshot.meta.index
      this.lastSnapshot = this.applied
      this.skipUntil = 0
      for (const [id, p] of this.proposals) {
        if (p.index !== undefined && p.index <= this.applied) {
          this.proposals.delete(id)
          p.reject(new Error('raft: outcome unknown: the state was replaced by a snapshot that may include this change'))
        }
      }
    }
    for (const e of rd.committedEntries) this.apply(e)
    if (rd.committedEntries.length > 0) this.appliedAdvanced.wakeAll()
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.context)
      if (r) r.index = rs.index
    }
    this.serveReads()
    if (rd.softState) {
      const lead = rd.softState.lead
      if (lead !== undefined) this.leaderKnown.wakeAll()
      if (rd.softState.role !== 'leader') this.abandonLeaderReads(core)
      if (lead !== this.lastLead) {
        this.lastLead = lead
        for (const fn of this.listeners.leader) fn(lead)
      }
    }
  }

  private apply(e: Entry): void {
    if (e.index <= this.applied) return
    this.applied = e.index
    if (e.type === 'normal' && e.index > this.skipUntil) this.applyChange(e)
    this.failProposalsUpTo(e.index)
  }

  private applyChange(e: Entry): void {
    const { id, change } = decodeProposal(e.data)
    const entry = { index: e.index, change }
    const result: ApplyResult = this.sm?.apply(entry) ?? { ok: true }
    if (result.ok) for (const fn of this.listeners.applied) fn(entry)
    const pending = this.proposals.get(id)
    if (pending) {
      this.proposals.delete(id)
      if (result.ok) pending.resolve({ index: e.index })
      else pending.reject(result.error)
    }
  }

  /** Proposals made on the leader whose index is now taken by another entry were lost. */
  private failProposalsUpTo(index: number): void {
    for (const [id, p] of this.proposals) {
      if (p.index !== undefined && p.index <= index) {
        this.proposals.delete(id)
        p.reject(new Error('raft: change lost in a leader change; it was not applied'))
      }
    }
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index !== undefined && this.applied >= r.index) {
        this.reads.delete(ctx)
        r.resolve()
      }
    }
  }

  /** Reads granted by nobody yet cannot complete after losing leadership; callers may retry. */
  private abandonLeaderReads(core: Raft): void {
    if (core.role === 'leader') return
    for (const [ctx, r] of this.reads) {
      if (r.index === undefined && ctx.startsWith(`${this.opts.id}/`)) {
        this.reads.delete(ctx)
        r.reject(new ProposalDroppedError('raft: leadership changed before the read point was confirmed; retry'))
      }
    }
  }

  private async maybeSnapshot(core: Raft): Promise<void> {
    const sm = this.sm
    if (!sm || this.applied - this.lastSnapshot < this.opts.snapshotEvery || this.applied < this.skipUntil) return
    if (core.log.applied !== this.applied) return
    const snap = core.compact(this.applied, sm.snapshot(), this.opts.trailingEntries)
    await this.opts.storage.saveSnapshot(snap)
    await this.opts.storage.compact(snap.meta.index - this.opts.trailingEntries + 1)
    this.lastSnapshot = snap.meta.index
  }

  private die(e: Error): void {
    if (this.fatal) return
    // Fail closed: after a storage error nothing this node says can be trusted (fsyncgate).
    this.fatal = e
    if (this.timer) clearInterval(this.timer)
    this.failAll(e)
  }

  private failAll(e: Error): void {
    for (const p of this.proposals.values()) p.reject(e)
    this.proposals.clear()
    for (const r of this.reads.values()) r.reject(e)
    this.reads.clear()
    this.leaderKnown.wakeAll()
    this.appliedAdvanced.wakeAll()
  }
}

/**
 * Creates a Raft-backed cluster adapter.
 * @public
 */
export function raftCluster(options: RaftClusterOptions): RaftCluster {
  return new RaftCluster(options)
}
