import { ProposalDroppedError } from '../../../../src/cluster/raft/core/errors.js'
import type { Message } from '../../../../src/cluster/raft/core/messages.js'
import { randInt, seededRandom, type Random } from '../../../../src/cluster/raft/core/prng.js'
import { Raft } from '../../../../src/cluster/raft/core/raft.js'
import { bootstrapLog } from '../../../../src/cluster/raft/core/bootstrap.js'
import type { ConfChange } from '../../../../src/cluster/raft/core/confchange.js'
import { MemoryRaftStorage } from '../../../../src/cluster/raft/storage/memory.js'
import type { Operation } from '../linearizability/checker.js'
import type { KvInput, KvOutput } from '../linearizability/kv-model.js'
import { InvariantViolation, Invariants } from './invariants.js'
import { decodeCommand, encodeCommand, KvMachine } from './kv.js'

/** Knobs of one simulated run; every random choice derives from `seed`. */
export interface SimOptions {
  seed: number
  /** Simulated milliseconds of faulty operation (one step = one millisecond). */
  steps: number
  /** Milliseconds allowed, after healing, for a leader to emerge and all members to converge. */
  healBudget?: number
  /** Receives a line per notable event (for debugging a seed). */
  trace?: (line: string) => void
}

interface ClientOp {
  id: string
  client: number
  input: KvInput
  call: number
  node: string
  deadline: number
}

interface SimNode {
  id: string
  storage: MemoryRaftStorage
  raft: Raft
  kv: KvMachine
  alive: boolean
  tickPeriod: number
  lastCommit: number
  lastSnapshot: number
  crashMidReady: boolean
  writes: Map<string, ClientOp>
  reads: Map<string, ClientOp>
  readsWaiting: { index: number; op: ClientOp }[]
}

/** The outcome of one run. */
export interface SimResult {
  seed: number
  history: Operation<KvInput, KvOutput>[]
  acked: number
  elections: number
  stats: { delivered: number; dropped: number; crashes: number; confChanges: number; snapshots: number; ticksToLeader: number }
}

const ELECTION_TICK = 10
/** Election timeouts allowed, once the network heals, for a leader to emerge and commit in its term. */
const LEADER_BOUND = 20
const SNAPSHOT_EVERY = 25
const TRAILING = 5
const CLIENT_TIMEOUT = 150
const KEYS = ['a', 'b', 'c']
const CLIENTS = 8
/** Far above what a healthy cluster of five has in flight: more means messages breed messages. */
const MAX_IN_FLIGHT = 20_000
/** Nemesis actions with repetition as weight: 0 partition, 1 asymmetric, 2 isolate leader, 3 heal, 5 crash, 6 membership, 8 transfer, 9 skew. */
const NEMESIS = [0, 1, 2, 2, 3, 3, 5, 5, 5, 6, 6, 8, 9]

/**
 * A deterministic simulation of a Raft cluster: real cores, memory storage that loses unsynced
 * writes on crash, a network that delays, drops, duplicates and reorders, partitions, clock skew,
 * membership changes, and key-value clients whose history is checked for linearizability.
 */
export class Simulation {
  readonly rng: Random
  readonly inv = new Invariants()
  private readonly nodes = new Map<string, SimNode>()
  private readonly ids: string[]
  private readonly events = new Map<number, (() => void)[]>()
  private now = 0
  /** A logical clock for history timestamps: unique and ordered within a millisecond. */
  private seq = 0
  private readonly blocked = new Set<string>()
  private dropRate: number
  private dupRate: number
  private maxDelay: number
  private readonly history: Operation<KvInput, KvOutput>[] = []
  private opCounter = 0
  private readCounter = 0
  readonly stats = { delivered: 0, dropped: 0, crashes: 0, confChanges: 0, snapshots: 0, ticksToLeader: 0 }
  private elections = 0
  private inFlight = 0
  /** Upper bound of the time between faults: some seeds are calm, some stormy. */
  private readonly nemesisPeriod: number
  private readonly maxMsgEntries: number
  private readonly maxInflight: number

  constructor(readonly opts: SimOptions) {
    this.rng = seededRandom(opts.seed)
    const total = randInt(this.rng, 3, 6)
    const voters = total === 3 ? 3 : randInt(this.rng, 3, total + 1)
    this.ids = Array.from({ length: total }, (_, i) => `n${i + 1}`)
    this.dropRate = [0, 0.02, 0.1, 0.25][randInt(this.rng, 0, 4)] ?? 0
    this.dupRate = [0, 0.02, 0.1][randInt(this.rng, 0, 3)] ?? 0
    this.maxDelay = [2, 6, 15, 40][randInt(this.rng, 0, 4)] ?? 6
    this.nemesisPeriod = [60, 150, 300][randInt(this.rng, 0, 3)] ?? 150
    // One entry per message makes partial replication (the Figure 8 situations) common.
    this.maxMsgEntries = [1, 2, 8][randInt(this.rng, 0, 3)] ?? 8
    this.maxInflight = [1, 4][randInt(this.rng, 0, 2)] ?? 4
    const skew = this.rng() < 0.5
    const founders = bootstrapLog(this.ids.slice(0, voters))
    for (const id of this.ids) {
      const storage = new MemoryRaftStorage()
      // Nodes outside the founding membership start empty and join through membership changes.
      if (this.ids.indexOf(id) < voters) {
        storage.write(founders.entries, founders.hardState)
        storage.sync()
      }
      const node: SimNode = {
        id,
        storage,
        raft: this.newRaft(id, storage),
        kv: new KvMachine(),
        alive: true,
        tickPeriod: skew ? randInt(this.rng, 3, 8) : 5,
        lastCommit: 0,
        lastSnapshot: 0,
        crashMidReady: false,
        writes: new Map(),
        reads: new Map(),
        readsWaiting: [],
      }
      this.nodes.set(id, node)
      this.scheduleTick(node)
    }
  }

  private newRaft(id: string, storage: MemoryRaftStorage): Raft {
    return new Raft(
      {
        id,
        random: seededRandom(Math.floor(this.rng() * 2 ** 32)),
        electionTick: ELECTION_TICK,
        heartbeatTick: 1,
        maxMsgEntries: this.maxMsgEntries,
        maxInflightMsgs: this.maxInflight,
        snapshotChunkBytes: 64,
      },
      storage.loadNow(),
    )
  }

  private at(time: number, fn: () => void): void {
    let list = this.events.get(time)
    if (!list) this.events.set(time, (list = []))
    list.push(fn)
  }

  private scheduleTick(node: SimNode): void {
    this.at(this.now + node.tickPeriod, () => {
      if (!node.alive) return
      node.raft.tick()
      this.afterEvent(node)
      this.scheduleTick(node)
    })
  }

  /** Runs the faulty phase, then heals and checks liveness and convergence. */
  run(): SimResult {
    for (let c = 0; c < CLIENTS; c++) this.at(randInt(this.rng, 1, 50), () => this.clientStep(c))
    this.at(randInt(this.rng, 50, 200), () => this.nemesis())
    for (; this.now < this.opts.steps; this.now++) this.runEvents()
    this.heal()
    this.checkHealed()
    for (const op of [...this.pendingOps.values()]) this.timeout(op)
    this.settleIndeterminate()
    return {
      seed: this.opts.seed,
      history: this.history,
      acked: this.inv.ackedCount,
      elections: this.elections,
      stats: this.stats,
    }
  }

  private runEvents(): void {
    const list = this.events.get(this.now)
    if (!list) return
    this.events.delete(this.now)
    for (let i = 0; i < list.length; i++) list[i]?.()
  }

  // ------------------------------------------------------------------ network

  private send(m: Message): void {
    if (this.blocked.has(`${m.from}>${m.to}`) || this.rng() < this.dropRate) {
      this.stats.dropped++
      return
    }
    const copies = this.rng() < this.dupRate ? 2 : 1
    if (this.inFlight > MAX_IN_FLIGHT) throw new InvariantViolation(`message storm: more than ${MAX_IN_FLIGHT} messages in flight`)
    for (let i = 0; i < copies; i++) {
      this.inFlight++
      this.at(this.now + randInt(this.rng, 1, this.maxDelay + 1), () => {
        this.inFlight--
        const to = this.nodes.get(m.to)
        if (!to?.alive || this.blocked.has(`${m.from}>${m.to}`)) {
          this.stats.dropped++
          return
        }
        this.stats.delivered++
        if (this.opts.trace && m.type !== 'heartbeat' && m.type !== 'heartbeatResp') this.trace(`${m.from}->${m.to} ${describe(m)}`)
        to.raft.step(m)
        this.afterEvent(to)
      })
    }
  }

  // ------------------------------------------------------------------ the Ready loop

  private afterEvent(node: SimNode): void {
    const r = node.raft
    while (node.alive && r.hasReady()) {
      const rd = r.ready()
      if (this.opts.trace) {
        if (rd.softState) this.trace(`${r.id} becomes ${rd.softState.role} t${r.term} lead=${rd.softState.lead} conf=${JSON.stringify(r.members)}`)
        if (rd.hardState) this.trace(`${r.id} hs t${rd.hardState.term} v=${rd.hardState.vote} c${rd.hardState.commit}`)
        if (rd.entries.length) this.trace(`${r.id} writes ${rd.entries.map((e) => `${e.index}/${e.term}${e.type[0]}`).join(',')}`)
      }
      this.checkCommit(node)
      if (rd.softState?.role === 'leader') {
        this.elections++
        this.inv.leaderElected(r.id, r.term)
        this.inv.checkLeaderCompleteness(r)
      }
      if (rd.snapshot) {
        node.storage.writeSnapshot(rd.snapshot)
        node.kv.restore(rd.snapshot.data)
      }
      node.storage.write(rd.entries, rd.hardState)
      this.inv.entriesWritten(r, rd.entries)
      if (node.crashMidReady) {
        // Power loss after the write reached the page cache but before fsync.
        this.crash(node)
        return
      }
      if (rd.mustSync) node.storage.sync()
      for (const m of rd.messages) this.send(m)
      for (const e of rd.committedEntries) {
        if (e.index <= node.kv.applied) continue
        this.inv.applied(r.id, e)
        const cmd = e.type === 'normal' && e.data.byteLength > 0 ? decodeCommand(e.data) : undefined
        const out = node.kv.apply(e.index, cmd)
        if (cmd && out && !this.firstApplied.has(cmd.op)) {
          this.firstApplied.set(cmd.op, { output: out, at: this.stamp() })
          if (this.opts.trace) this.trace(`${r.id} first applies ${e.index} ${cmd.op} ${JSON.stringify(cmd.input)} -> ${JSON.stringify(out)}`)
        }
        const op = cmd && node.writes.get(cmd.op)
        if (op && out) {
          node.writes.delete(cmd.op)
          this.inv.acknowledged(e)
          this.complete(op, out)
        }
      }
      for (const rs of rd.readStates) {
        const op = node.reads.get(rs.context)
        if (!op) continue
        node.reads.delete(rs.context)
        node.readsWaiting.push({ index: rs.index, op })
      }
      r.advance(rd)
      this.serveReads(node)
      this.maybeSnapshot(node)
    }
    if (node.alive) this.checkCommit(node)
  }

  /** Commit indexes never go back within a node's lifetime, and committed entries agree everywhere. */
  private checkCommit(node: SimNode): void {
    const r = node.raft
    if (r.log.committed < node.lastCommit) throw new InvariantViolation(`${r.id} commit went back from ${node.lastCommit} to ${r.log.committed}`)
    if (r.log.committed > node.lastCommit) {
      this.inv.committed(r, node.lastCommit + 1, r.log.committed)
      node.lastCommit = r.log.committed
    }
  }

  private serveReads(node: SimNode): void {
    if (node.readsWaiting.length === 0) return
    const still: typeof node.readsWaiting = []
    for (const w of node.readsWaiting) {
      if (node.kv.applied >= w.index && w.op.input.kind === 'get') this.complete(w.op, { value: node.kv.get(w.op.input.key) })
      else still.push(w)
    }
    node.readsWaiting = still
  }

  private maybeSnapshot(node: SimNode): void {
    const applied = node.raft.log.applied
    if (applied - node.lastSnapshot < SNAPSHOT_EVERY) return
    const snap = node.raft.compact(applied, node.kv.snapshot(), TRAILING)
    node.storage.writeSnapshot(snap)
    node.storage.compactNow(applied - TRAILING + 1)
    node.lastSnapshot = applied
    this.stats.snapshots++
  }

  // ------------------------------------------------------------------ faults

  private trace(line: string): void {
    this.opts.trace?.(`${this.now} ${line}`)
  }

  private crash(node: SimNode): void {
    this.trace(`${node.id} CRASH`)
    node.alive = false
    node.crashMidReady = false
    node.storage.crash()
    node.writes.clear()
    node.reads.clear()
    node.readsWaiting = []
    this.stats.crashes++
  }

  private restart(node: SimNode): void {
    if (node.alive) return
    this.trace(`${node.id} RESTART`)
    const state = node.storage.loadNow()
    node.raft = this.newRaft(node.id, node.storage)
    node.kv = new KvMachine()
    if (state.snapshot) node.kv.restore(state.snapshot.data)
    node.lastCommit = node.raft.log.committed
    node.lastSnapshot = state.snapshot?.meta.index ?? 0
    node.alive = true
    this.scheduleTick(node)
    this.afterEvent(node)
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.nodes.values()) {
      if (n.alive && n.raft.role === 'leader' && (!best || n.raft.term > best.raft.term)) best = n
    }
    return best
  }

  private pick<T>(list: T[]): T | undefined {
    return list[randInt(this.rng, 0, list.length)]
  }

  private nemesis(): void {
    if (this.now >= this.opts.steps) return
    this.at(this.now + randInt(this.rng, 10, this.nemesisPeriod), () => this.nemesis())
    const action = NEMESIS[randInt(this.rng, 0, NEMESIS.length)] ?? 3
    this.trace(`nemesis ${action}`)
    const alive = [...this.nodes.values()].filter((n) => n.alive)
    switch (action) {
      case 0: {
        // Symmetric partition into two sides.
        this.blocked.clear()
        const side = new Set(this.ids.filter(() => this.rng() < 0.5))
        for (const a of this.ids) for (const b of this.ids) if (side.has(a) !== side.has(b)) this.blocked.add(`${a}>${b}`)
        return
      }
      case 1: {
        // Asymmetric: some directed links fail.
        this.blocked.clear()
        for (const a of this.ids) for (const b of this.ids) if (a !== b && this.rng() < 0.3) this.blocked.add(`${a}>${b}`)
        return
      }
      case 2: {
        const l = this.leader()
        if (!l) return
        for (const b of this.ids) {
          this.blocked.add(`${l.id}>${b}`)
          this.blocked.add(`${b}>${l.id}`)
        }
        return
      }
      case 3:
      case 4:
        this.blocked.clear()
        return
      case 5: {
        const n = this.rng() < 0.5 ? this.leader() : this.pick(alive)
        if (!n) return
        if (this.rng() < 0.5) n.crashMidReady = true
        else this.crash(n)
        this.at(this.now + randInt(this.rng, 5, 300), () => this.restart(n))
        return
      }
      case 6:
      case 7:
        this.changeMembership()
        return
      case 8: {
        const l = this.leader()
        const to = l && this.pick(l.raft.members.voters)
        if (l && to) l.raft.transferLeader(to)
        if (l) this.afterEvent(l)
        return
      }
      case 9: {
        const n = this.pick(alive)
        if (n) n.tickPeriod = randInt(this.rng, 3, 8)
        return
      }
    }
  }

  private changeMembership(): void {
    const l = this.leader()
    if (!l) return
    const cs = l.raft.members
    const outside = this.ids.filter((id) => !cs.voters.includes(id) && !cs.learners.includes(id))
    const options: ConfChange[] = []
    for (const id of outside) options.push({ type: 'addLearner', node: id })
    for (const id of cs.learners) options.push({ type: 'addVoter', node: id }, { type: 'remove', node: id })
    if (cs.voters.length > 3) for (const id of cs.voters) options.push({ type: 'remove', node: id })
    const cc = this.pick(options)
    if (!cc) return
    this.trace(`${l.id} proposes ${cc.type} ${cc.node}`)
    try {
      l.raft.proposeConfChange(cc)
      this.stats.confChanges++
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e
    }
    this.afterEvent(l)
  }

  // ------------------------------------------------------------------ clients

  private clientStep(client: number): void {
    if (this.now >= this.opts.steps) return
    const node = this.pick([...this.nodes.values()].filter((n) => n.alive))
    if (!node) {
      this.at(this.now + 10, () => this.clientStep(client))
      return
    }
    const key = this.pick(KEYS) ?? 'a'
    const roll = this.rng()
    const value = `${client}.${this.opCounter}`
    const input: KvInput =
      roll < 0.4
        ? { kind: 'get', key }
        : roll < 0.7
          ? { kind: 'put', key, value }
          : { kind: 'cas', key, expected: this.pick([undefined, ...(this.written.get(key) ?? [])]), value }
    if (input.kind !== 'get') this.written.set(key, [...(this.written.get(key) ?? []).slice(-3), value])
    const op: ClientOp = { id: `op${this.opCounter++}`, client, input, call: this.stamp(), node: node.id, deadline: this.now + CLIENT_TIMEOUT }
    try {
      if (input.kind === 'get') {
        const ctx = `${node.id}/r${this.readCounter++}`
        node.reads.set(ctx, op)
        node.raft.readIndex(ctx)
      } else {
        node.writes.set(op.id, op)
        node.raft.propose(encodeCommand({ op: op.id, input }))
      }
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e
      // Refused before anything happened: not part of the history.
      node.writes.delete(op.id)
      this.at(this.now + 5, () => this.clientStep(client))
      return
    }
    this.pendingOps.set(op.id, op)
    this.at(op.deadline, () => this.timeout(op))
    this.afterEvent(node)
  }

  private readonly pendingOps = new Map<string, ClientOp>()
  /** Recent values written per key, so compare-and-set sometimes expects the current value. */
  private readonly written = new Map<string, string[]>()

  /** A history timestamp: strictly increasing, ordered by simulated time first. */
  private stamp(): number {
    if (this.stampMs !== this.now) {
      this.stampMs = this.now
      this.seq = 0
    }
    return this.now * 1_000_000 + this.seq++
  }

  private stampMs = -1

  private complete(op: ClientOp, output: KvOutput): void {
    if (!this.pendingOps.delete(op.id)) return
    this.history.push({ client: op.client, input: op.input, output, call: op.call, ret: this.stamp() })
    this.at(this.now + randInt(this.rng, 0, 10), () => this.clientStep(op.client))
  }

  private timeout(op: ClientOp): void {
    if (!this.pendingOps.delete(op.id)) return
    // A read that timed out had no effect; a write may still take effect later.
    if (op.input.kind !== 'get') this.indeterminate.push(op)
    this.at(this.now + 1, () => this.clientStep(op.client))
  }

  /**
   * Writes whose client gave up enter the history as they really happened. One never applied by
   * the end of the converged run had no effect and is left out. One that was applied took effect
   * when it was first applied: the leader applies an entry in the same step that commits it, which
   * is the write's linearization point in Raft. Pinning it there (rather than anywhere since its
   * call) is a stricter check, and it keeps the search small when a long outage leaves dozens of
   * writes pending together.
   */
  private settleIndeterminate(): void {
    for (const op of this.indeterminate) {
      const applied = this.firstApplied.get(op.id)
      if (!applied) continue
      this.history.push({ client: op.client, input: op.input, output: applied.output, call: Math.max(op.call, applied.at - 0.5), ret: applied.at })
    }
    this.indeterminate.length = 0
  }

  private readonly indeterminate: ClientOp[] = []
  private readonly firstApplied = new Map<string, { output: KvOutput; at: number }>()

  // ------------------------------------------------------------------ healing and liveness

  private heal(): void {
    this.blocked.clear()
    this.dropRate = 0
    this.dupRate = 0
    // Raft's timing requirement (broadcast time well below the election timeout) holds again on a
    // healed network; the longest delays only serve to stress safety during the faulty phase.
    this.maxDelay = Math.min(this.maxDelay, 6)
    for (const n of this.nodes.values()) {
      n.crashMidReady = false
      this.restart(n)
    }
  }

  /**
   * After healing, a leader followed by a quorum must emerge within {@link LEADER_BOUND} election
   * timeouts (counted on the slowest clock); it must then commit in its term and every member must
   * converge within the heal budget.
   */
  private checkHealed(): void {
    const budget = this.opts.healBudget ?? 100 * ELECTION_TICK * 8
    const start = this.now
    const end = start + budget
    const slowest = Math.max(...[...this.nodes.values()].map((n) => n.tickPeriod))
    const leaderDeadline = start + LEADER_BOUND * ELECTION_TICK * slowest
    let leaderAt: number | undefined
    for (; this.now < end; this.now++) {
      this.runEvents()
      const l = this.leader()
      if (l && leaderAt === undefined && this.followedByQuorum(l)) leaderAt = this.now
      if (leaderAt === undefined && this.now > leaderDeadline) {
        throw new InvariantViolation(`liveness: no leader within ${LEADER_BOUND} election timeouts (${LEADER_BOUND * ELECTION_TICK} ticks) of healing`)
      }
      if (!l || l.raft.log.term(l.raft.log.committed) !== l.raft.term) continue
      const cs = l.raft.members
      const members = [...cs.voters, ...cs.learners].map((id) => this.nodes.get(id))
      if (members.every((n) => n && n.kv.applied >= l.raft.log.committed && n.raft.log.committed === l.raft.log.committed)) {
        this.stats.ticksToLeader = Math.ceil(((leaderAt ?? this.now) - start) / slowest)
        for (const n of members) if (n) this.inv.checkAckedApplied(n.id, n.kv.applied)
        return
      }
    }
    const desc = [...this.nodes.values()].map((n) => `${n.id}:${n.raft.role}/t${n.raft.term}/c${n.raft.log.committed}/a${n.kv.applied}`).join(' ')
    throw new InvariantViolation(
      leaderAt === undefined ? `liveness: no leader within ${budget} ms of healing (${desc})` : `liveness: members did not converge within ${budget} ms (${desc})`,
    )
  }

  /** Whether a quorum of `l`'s voters (itself included) are alive and know it as leader of its term. */
  private followedByQuorum(l: SimNode): boolean {
    const voters = l.raft.members.voters
    const following = voters.filter((v) => {
      const n = this.nodes.get(v)
      return n?.alive && n.raft.term === l.raft.term && n.raft.lead === l.id
    })
    return following.length >= Math.floor(voters.length / 2) + 1
  }

  /** Time of the run, for failure messages. */
  get time(): number {
    return this.now
  }
}

function describe(m: Message): string {
  switch (m.type) {
    case 'app':
      return `app t${m.term} prev=${m.index}/${m.logTerm} [${m.entries.map((e) => `${e.index}/${e.term}`).join(',')}] c${m.commit}`
    case 'appResp':
      return `appResp t${m.term} i${m.index}${m.reject ? ` REJECT hint ${m.rejectHint}/${m.logTerm}` : ''}`
    case 'vote':
    case 'preVote':
      return `${m.type} t${m.term} last=${m.index}/${m.logTerm}${m.force ? ' force' : ''}`
    case 'voteResp':
    case 'preVoteResp':
      return `${m.type} t${m.term}${m.reject ? ' REJECT' : ' grant'}`
    case 'snap':
      return `snap t${m.term} ${m.meta.index}/${m.meta.term} @${m.offset}/${m.total}`
    case 'snapResp':
      return `snapResp t${m.term} ${m.index} @${m.offset}`
    default:
      return `${m.type} t${m.term}`
  }
}
