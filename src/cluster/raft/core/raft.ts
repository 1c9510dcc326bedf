import { applyConfChange, decodeConfChange, encodeConfChange, type ConfChange } from './confchange.js'
import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js'
import { ProposalDroppedError } from './errors.js'
import { entrySize, RaftLog } from './log.js'
import type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatResponseMessage,
  Message,
  Outgoing,
  ProposeMessage,
  ReadIndexMessage,
  SnapshotMessage,
  SnapshotResponseMessage,
  VoteMessage,
} from './messages.js'
import { Progress, type ProgressState } from './progress.js'
import { committedIndex, quorumSize, voteResult } from './quorum.js'
import { ReadOnly } from './readonly.js'
import { randInt } from './prng.js'
import type { ConfState, Entry, EntryType, HardState, RaftPersistedState, RaftRole, ReadState, Snapshot } from './types.js'
import type { Ready } from './ready.js'

/**
 * Per-follower replication state as the leader sees it.
 * @public
 */
export interface ProgressStatus {
  /** Highest index known to be replicated on the follower (matchIndex). */
  match: number
  /** Index of the next entry to send to the follower (nextIndex). */
  next: number
  /** How the leader currently replicates to the follower. */
  state: ProgressState
  /** Whether the follower is a learner (non-voting). */
  learner: boolean
  /** Whether the leader heard from the follower within the current check-quorum period. */
  recentActive: boolean
}

/**
 * A point-in-time view of one core.
 * @public
 */
export interface RaftStatus {
  /** This node's id. */
  id: string
  /** This node's current role. */
  role: RaftRole
  /** Current term. */
  term: number
  /** The node voted for in `term`; undefined when none. */
  vote: string | undefined
  /** The known leader of `term`; undefined when none. */
  lead: string | undefined
  /** Highest log index known to be committed. */
  commit: number
  /** Highest log index the application has acknowledged applying (via {@link Raft.advance}). */
  applied: number
  /** Index of the last entry in the log. */
  lastIndex: number
  /** Index of the first entry still held (one past the snapshot or compaction point). */
  firstIndex: number
  /** The membership currently in force (changes count once appended). */
  confState: ConfState
  /** Per-follower replication state, by node id. Only on the leader. */
  progress: Map<string, ProgressStatus> | undefined
  /** The node leadership is being transferred to, while a transfer is in progress (leader only). */
  leadTransferee: string | undefined
}

interface SnapshotReceive {
  meta: SnapshotMessage['meta']
  chunks: Uint8Array[]
  size: number
}

type CampaignKind = 'preElection' | 'election' | 'transfer'

/** Snapshot chunks in flight per follower. */
const SNAPSHOT_WINDOW = 4

/**
 * A pure, tick-driven Raft state machine (etcd-io/raft's design): no clock, no I/O, no randomness
 * except the injected source. Drive it with {@link Raft.tick}, {@link Raft.step} and
 * {@link Raft.propose}; collect work with {@link Raft.ready}, persist entries and hard state, send
 * the messages, apply the committed entries, then call {@link Raft.advance}.
 *
 * @public
 */
export class Raft {
  /** This node's id. */
  readonly id: string
  private readonly cfg: ResolvedRaftConfig
  /** The in-memory log with its stabled, committed and applied indexes. Read it; do not mutate it. */
  readonly log: RaftLog
  /** Current term. */
  term = 0
  /** The node voted for in `term`; undefined when none. */
  vote: string | undefined
  /** The known leader of `term`; undefined when none. */
  lead: string | undefined
  /** This node's current role. */
  role: RaftRole = 'follower'
  private confState: ConfState
  private progress = new Map<string, Progress>()
  private votes = new Map<string, boolean>()
  private msgs: Message[] = []
  private readStates: ReadState[] = []
  private readonly readOnly = new ReadOnly()
  private pendingReadIndex: ReadIndexMessage[] = []
  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  /** Membership before the first entry ever (empty: founding members are log entries, see bootstrapLog). */
  private baseConf: ConfState
  /** Index of the last membership change in the log; 0 when none. A change takes effect once appended. */
  private lastConfIndex = 0
  private leadTransferee: string | undefined
  private snapRecv: SnapshotReceive | undefined
  private prevHardState: HardState
  private prevSoft: { lead: string | undefined; role: RaftRole }
  private readyInFlight = false
  private appendsPending = false

  constructor(config: RaftConfig, state: RaftPersistedState) {
    this.cfg = resolveConfig(config)
    this.id = this.cfg.id
    this.log = new RaftLog(state.snapshot, state.entries, state.hardState.commit)
    this.term = state.hardState.term
    this.vote = state.hardState.vote
    this.baseConf = { voters: [], learners: [] }
    this.confState = cloneConf(state.snapshot?.meta.confState ?? this.baseConf)
    this.refreshConf()
    this.prevHardState = this.hardState()
    this.becomeFollower(this.term, undefined)
    this.prevSoft = { lead: this.lead, role: this.role }
  }

  // ---------------------------------------------------------------- public API

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.hup('election')
  }

  /** Feeds a message received from a peer. */
  step(m: Message): void {
    if (m.term === 0) {
      // Forwarded proposals and read requests carry no term.
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.cfg.checkQuorum && this.lead !== undefined && this.electionElapsed < this.cfg.electionTick
        // Leader stickiness: a live leader makes higher-term vote requests from disruptive nodes moot.
        if (!m.force && inLease) return
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // Granted pre-votes carry the term we would campaign in.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from)
      } else {
        this.becomeFollower(m.term, undefined)
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader learns our term from this and steps down.
        this.send({ type: 'appResp', to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 })
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, reject: true })
      }
      return
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVote(m)
      return
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m)
        break
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m)
        break
      case 'follower':
        this.stepFollower(m)
        break
    }
  }

  /**
   * Proposes an entry. On the leader it is appended; on a follower it is forwarded to the leader.
   * @throws ProposalDroppedError when no leader is known, a transfer is in progress, or a
   * membership change is refused.
   */
  propose(data: Uint8Array, type: 'normal' | 'confChange' = 'normal'): void {
    this.stepProposal({ type: 'prop', from: this.id, to: this.id, term: 0, entries: [{ type, data }] }, true)
  }

  /** Proposes a single-server membership change. */
  proposeConfChange(cc: ConfChange): void {
    this.propose(encodeConfChange(cc), 'confChange')
  }

  /**
   * Requests a linearizable read point; a {@link ReadState} with the same `context` appears in a
   * later Ready. `context` must be unique.
   */
  readIndex(context: string): void {
    const m: ReadIndexMessage = { type: 'readIndex', from: this.id, to: this.id, term: 0, context }
    if (this.role === 'leader') {
      this.leaderReadIndex(m)
    } else if (this.lead !== undefined) {
      this.send({ type: 'readIndex', to: this.lead, context, term: 0 })
    } else {
      throw new ProposalDroppedError('raft: no leader to serve a read index')
    }
  }

  /** Asks the leader to hand leadership to `to` (leader only). */
  transferLeader(to: string): void {
    if (this.role !== 'leader') throw new ProposalDroppedError('raft: only the leader can transfer leadership')
    if (to === this.id) return
    if (!this.confState.voters.includes(to)) throw new ProposalDroppedError(`raft: ${to} is not a voter`)
    if (this.leadTransferee === to) return
    this.leadTransferee = to
    // The transfer must finish within one election timeout or it is abandoned.
    this.electionElapsed = 0
    const pr = this.progress.get(to)
    if (pr && pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to })
    else this.sendAppend(to)
  }

  /**
   * Records a snapshot the application took at `index` (at most the applied index) and compacts the
   * log, keeping `trailing` entries before it so slow followers can catch up without a snapshot.
   */
  compact(index: number, data: Uint8Array, trailing: number): Snapshot {
    if (index > this.log.applied) throw new Error(`raft: snapshot index ${index} beyond applied ${this.log.applied}`)
    const term = this.log.term(index)
    if (term === undefined) throw new Error(`raft: snapshot index ${index} is already compacted`)
    const snapshot: Snapshot = { meta: { index, term, confState: this.confAt(index) }, data }
    this.log.compact(snapshot, index - trailing + 1)
    return snapshot
  }

  /** Whether {@link Raft.ready} would return work: state to persist, messages, entries to apply, read states or a leader/role change. */
  hasReady(): boolean {
    if (this.appendsPending && this.role === 'leader') return true
    if (this.msgs.length > 0 || this.readStates.length > 0) return true
    if (this.log.unstableSnapshot || this.log.lastIndex() > this.log.stabled) return true
    if (!sameHardState(this.hardState(), this.prevHardState)) return true
    if (this.lead !== this.prevSoft.lead || this.role !== this.prevSoft.role) return true
    return !this.log.unstableSnapshot && this.log.committed > this.log.applied
  }

  /** Collects everything the application must do now. Call {@link Raft.advance} after doing it. */
  ready(): Ready {
    if (this.readyInFlight) throw new Error('raft: ready() called again before advance()')
    this.readyInFlight = true
    this.flushAppends()
    const hs = this.hardState()
    const hardState = sameHardState(hs, this.prevHardState) ? undefined : hs
    const entries = this.log.unstableEntries()
    const snapshot = this.log.unstableSnapshot
    const soft =
      this.lead !== this.prevSoft.lead || this.role !== this.prevSoft.role ? { lead: this.lead, role: this.role } : undefined
    const rd: Ready = {
      softState: soft,
      hardState,
      entries,
      snapshot,
      committedEntries: this.log.nextCommitted(this.cfg.maxApplyEntries),
      messages: this.msgs,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        (hardState !== undefined && (hardState.term !== this.prevHardState.term || hardState.vote !== this.prevHardState.vote)),
    }
    this.msgs = []
    this.readStates = []
    if (hardState) this.prevHardState = hardState
    if (soft) this.prevSoft = soft
    return rd
  }

  /** Acknowledges that a Ready was fully handled: persisted, sent and applied. */
  advance(rd: Ready): void {
    this.readyInFlight = false
    if (rd.snapshot) {
      if (this.log.unstableSnapshot === rd.snapshot) this.log.unstableSnapshot = undefined
      this.log.applied = Math.max(this.log.applied, rd.snapshot.meta.index)
      this.log.stabled = Math.max(this.log.stabled, rd.snapshot.meta.index)
    }
    const last = rd.entries[rd.entries.length - 1]
    if (last) this.log.stableTo(last.index, last.term)
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastApplied) this.log.applied = Math.max(this.log.applied, lastApplied.index)
  }

  /** A point-in-time copy of this node's state. */
  status(): RaftStatus {
    let progress: Map<string, ProgressStatus> | undefined
    if (this.role === 'leader') {
      progress = new Map()
      for (const [id, pr] of this.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, learner: pr.isLearner, recentActive: pr.recentActive })
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      confState: cloneConf(this.confState),
      progress,
      leadTransferee: this.leadTransferee,
    }
  }

  /** The current term, vote and commit index (what must be durable). */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  /** A copy of the membership currently in force. */
  get members(): ConfState {
    return cloneConf(this.confState)
  }

  /** The randomized election timeout currently in force (exposed for tests). */
  get electionTimeout(): number {
    return this.randomizedElectionTimeout
  }

  // ---------------------------------------------------------------- roles

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term
      this.vote = undefined
    }
    this.lead = undefined
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTimeout = randInt(this.cfg.random, this.cfg.electionTick, 2 * this.cfg.electionTick)
    this.leadTransferee = undefined
    this.appendsPending = false
    this.votes.clear()
    this.readOnly.reset()
    this.progress = new Map()
    const last = this.log.lastIndex()
    const add = (id: string, learner: boolean): void => {
      const pr = new Progress(last + 1, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes, learner)
      if (id === this.id) pr.match = last
      this.progress.set(id, pr)
    }
    for (const v of this.confState.voters) add(v, false)
    for (const l of this.confState.learners) add(l, true)
  }

  private becomeFollower(term: number, lead: string | undefined): void {
    this.reset(term)
    this.lead = lead
    this.role = 'follower'
  }

  private becomePreCandidate(): void {
    // Pre-vote keeps term and vote: a failed pre-election leaves no trace.
    this.votes.clear()
    this.lead = undefined
    this.role = 'preCandidate'
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  private becomeLeader(): void {
    this.reset(this.term)
    this.lead = this.id
    this.role = 'leader'
    this.progress.get(this.id)?.becomeReplicate()
    // The empty entry lets this term commit, and with it every earlier entry (the Figure 8 rule).
    this.appendEntries([{ type: 'empty', data: new Uint8Array(0) }])
  }

  private promotable(): boolean {
    return this.confState.voters.includes(this.id)
  }

  private hup(kind: CampaignKind): void {
    if (this.role === 'leader' || !this.promotable()) return
    this.campaignAs(kind === 'election' && this.cfg.preVote ? 'preElection' : kind)
  }

  private campaignAs(kind: CampaignKind): void {
    let term: number
    let type: VoteMessage['type']
    if (kind === 'preElection') {
      this.becomePreCandidate()
      type = 'preVote'
      term = this.term + 1
    } else {
      this.becomeCandidate()
      type = 'vote'
      term = this.term
    }
    if (this.poll(this.id, true) === 'won') {
      if (kind === 'preElection') this.campaignAs('election')
      else this.becomeLeader()
      return
    }
    for (const v of this.confState.voters) {
      if (v === this.id) continue
      this.send({ type, to: v, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), force: kind === 'transfer' })
    }
  }

  private poll(from: string, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted)
    return voteResult(this.confState.voters, this.votes)
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      this.hup('election')
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0
      if (this.cfg.checkQuorum) this.checkQuorum()
      if (this.role === 'leader') this.leadTransferee = undefined
    }
    if (this.role !== 'leader') return
    for (const [id, pr] of this.progress) {
      if (pr.state !== 'snapshot') continue
      // A lost chunk or ack stalls a transfer; resend from the acknowledged offset.
      if (++pr.snapIdleTicks >= this.cfg.electionTick) {
        pr.snapIdleTicks = 0
        // Resume from what the receiver last said it holds.
        pr.snapOffset = pr.snapReported
        pr.snapSent = pr.snapReported
        this.sendSnapshotChunks(id, pr)
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0
      this.bcastHeartbeat(this.readOnly.lastPendingContext())
    }
  }

  private checkQuorum(): void {
    let active = 0
    for (const v of this.confState.voters) {
      const pr = this.progress.get(v)
      if (v === this.id || pr?.recentActive) active++
    }
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false
    if (active < quorumSize(this.confState.voters.length)) this.becomeFollower(this.term, undefined)
  }

  // ---------------------------------------------------------------- votes

  private handleVote(m: VoteMessage): void {
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp'
    const canVote =
      this.vote === m.from ||
      (this.vote === undefined && this.lead === undefined) ||
      (m.type === 'preVote' && m.term > this.term)
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers in the term the candidate would use.
      this.send({ type: respType, to: m.from, term: m.term, reject: false })
      if (m.type === 'vote') {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true })
    }
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'prop':
        this.stepProposal(m, false)
        return
      case 'readIndex':
        this.leaderReadIndex(m)
        return
      case 'appResp':
        this.handleAppendResponse(m)
        return
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m)
        return
      case 'snapResp':
        this.handleSnapshotResponse(m)
        return
      default:
        return
    }
  }

  private stepProposal(m: ProposeMessage, local: boolean): void {
    if (this.role !== 'leader') {
      if (this.lead === undefined) {
        if (local) throw new ProposalDroppedError('raft: no leader')
        return
      }
      this.send({ type: 'prop', to: this.lead, term: 0, entries: m.entries })
      return
    }
    const fail = (why: string): void => {
      if (local) throw new ProposalDroppedError(why)
    }
    if (!this.progress.has(this.id)) return fail('raft: this leader was removed from the cluster')
    if (this.leadTransferee !== undefined) return fail('raft: leadership transfer in progress')
    for (const e of m.entries) {
      if (e.type !== 'confChange') continue
      if (this.lastConfIndex > this.log.committed) return fail('raft: a membership change is already pending')
      // Single-server changes are only safe once this leader committed an entry of its own term.
      if (this.log.term(this.log.committed) !== this.term) return fail('raft: leader has not committed an entry of its term yet')
      const next = applyConfChange(this.confState, decodeConfChange(e.data))
      if (next instanceof Error) return fail(next.message)
    }
    if (m.entries.filter((e) => e.type === 'confChange').length > 1) return fail('raft: one membership change at a time')
    this.appendEntries(m.entries)
    // Batching: proposals arriving before the next Ready go out together.
    this.appendsPending = true
  }

  /** Sends what proposals appended since the last Ready, filling each follower's inflight window. */
  private flushAppends(): void {
    if (!this.appendsPending) return
    this.appendsPending = false
    if (this.role !== 'leader') return
    for (const id of this.progress.keys()) {
      if (id === this.id) continue
      this.sendAppend(id)
      this.sendAppendsWhileOpen(id)
    }
  }

  private appendEntries(ents: { type: EntryType; data: Uint8Array }[]): void {
    let index = this.log.lastIndex()
    const entries: Entry[] = ents.map((e) => ({ index: ++index, term: this.term, type: e.type, data: e.data }))
    this.log.append(entries)
    if (entries.some((e) => e.type === 'confChange')) this.refreshConf()
    this.progress.get(this.id)?.maybeUpdate(this.log.lastIndex())
    this.maybeCommit()
  }

  private maybeCommit(): boolean {
    const matches: number[] = []
    for (const v of this.confState.voters) matches.push(this.progress.get(v)?.match ?? 0)
    const mci = committedIndex(matches)
    // Only entries of the current term are committed by counting replicas.
    if (mci > this.log.committed && this.log.term(mci) === this.term) {
      this.log.commitTo(mci)
      this.releasePendingReadIndex()
      // A leader that removed itself leads until that change commits, then steps down (thesis §4.2.2).
      if (!this.promotable() && this.log.committed >= this.lastConfIndex) this.becomeFollower(this.term, undefined)
      return true
    }
    return false
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id)
  }

  private bcastHeartbeat(context: string | undefined): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue
      this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), context })
    }
  }

  /** Sends entries (or a snapshot) to `to`; returns whether a message was sent. */
  private sendAppend(to: string, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) {
      this.startSnapshot(to, pr)
      return true
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.cfg.maxMsgEntries, this.cfg.maxMsgBytes)
    if (entries.length === 0 && !sendIfEmpty) return false
    let bytes = 0
    for (const e of entries) bytes += entrySize(e)
    this.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed })
    pr.sentEntries(entries.length, prevIndex + entries.length, bytes)
    return true
  }

  /** Fills the pipeline to `to` up to its inflight window. */
  private sendAppendsWhileOpen(to: string): void {
    if (!this.sendAppend(to, false)) return
    const pr = this.progress.get(to)
    while (pr?.state === 'replicate' && this.sendAppend(to, false)) {
      // keep pipelining
    }
  }

  private startSnapshot(to: string, pr: Progress): void {
    const snap = this.log.snapshot
    if (!snap) throw new Error(`raft: entries for ${to} are compacted but no snapshot exists`)
    pr.becomeSnapshot(snap.meta.index)
    this.sendSnapshotChunks(to, pr)
  }

  /**
   * Sends snapshot chunks from `pr.snapSent` while fewer than the chunk window are unacknowledged:
   * a transfer takes a round trip per window, not per chunk.
   */
  private sendSnapshotChunks(to: string, pr: Progress): void {
    const snap = this.log.snapshot
    if (!snap) return
    if (snap.meta.index !== pr.pendingSnapshot) {
      // A newer snapshot replaced the one in flight: restart the transfer with it.
      pr.pendingSnapshot = snap.meta.index
      pr.snapOffset = 0
      pr.snapSent = 0
    }
    const total = snap.data.byteLength
    const size = this.cfg.snapshotChunkBytes
    const limit = pr.snapOffset + SNAPSHOT_WINDOW * size
    do {
      const offset = Math.min(pr.snapSent, total)
      const chunk = snap.data.subarray(offset, offset + size)
      this.send({ type: 'snap', to, meta: snap.meta, offset, total, chunk })
      pr.snapSent = offset + chunk.byteLength
    } while (pr.snapSent < total && pr.snapSent < limit)
  }

  private handleAppendResponse(m: AppendResponseMessage): void {
    const pr = this.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    if (m.reject) {
      const hint = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe()
        this.sendAppend(m.from)
      }
      return
    }
    const oldPaused = pr.isPaused()
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate()
        break
      case 'snapshot':
        if (pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe()
          pr.becomeReplicate()
        }
        break
      case 'replicate':
        pr.inflights.freeLE(m.index)
        break
    }
    if (this.maybeCommit()) this.bcastAppend()
    else if (oldPaused) this.sendAppend(m.from)
    this.sendAppendsWhileOpen(m.from)
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: m.from })
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage): void {
    const pr = this.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    if (pr.state === 'probe') pr.probeSent = false
    // Appends lost in flight would otherwise keep a full window closed forever.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from)
    if (m.context === undefined) return
    const acks = this.readOnly.recvAck(m.from, m.context)
    if (!acks) return
    let voters = 0
    for (const a of acks) if (this.confState.voters.includes(a)) voters++
    if (voters < quorumSize(this.confState.voters.length)) return
    for (const r of this.readOnly.advance(m.context)) this.answerRead(r.from, r.context, r.index)
  }

  private handleSnapshotResponse(m: SnapshotResponseMessage): void {
    const pr = this.progress.get(m.from)
    if (!pr) return
    pr.recentActive = true
    if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return
    pr.snapReported = m.offset
    // Only progress opens the window; a lost chunk or a restarted receiver waits for the idle timer,
    // so duplicated or stale acknowledgements cannot multiply traffic.
    if (m.offset <= pr.snapOffset) return
    pr.snapOffset = m.offset
    pr.snapSent = Math.max(pr.snapSent, m.offset)
    pr.snapIdleTicks = 0
    const snap = this.log.snapshot
    if (snap && pr.snapSent < snap.data.byteLength) this.sendSnapshotChunks(m.from, pr)
    // On the last chunk the follower answers with an append response, which ends the snapshot state.
  }

  private leaderReadIndex(m: ReadIndexMessage): void {
    if (this.confState.voters.length === 1 && this.confState.voters[0] === this.id) {
      this.answerRead(m.from, m.context, this.log.committed)
      return
    }
    // Until this term commits an entry, the commit index may be behind what earlier leaders committed.
    if (!this.committedInCurrentTerm()) {
      this.pendingReadIndex.push(m)
      return
    }
    this.readOnly.add(this.log.committed, m.from, m.context)
    this.readOnly.recvAck(this.id, m.context)
    this.bcastHeartbeat(m.context)
  }

  private releasePendingReadIndex(): void {
    if (!this.committedInCurrentTerm() || this.pendingReadIndex.length === 0) return
    const pending = this.pendingReadIndex
    this.pendingReadIndex = []
    for (const m of pending) this.leaderReadIndex(m)
  }

  private answerRead(from: string, context: string, index: number): void {
    if (from === this.id) this.readStates.push({ index, context })
    else this.send({ type: 'readIndexResp', to: from, context, index })
  }

  // ---------------------------------------------------------------- candidate & follower

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'prop':
        this.stepProposal(m, false)
        return
      case 'app':
        this.becomeFollower(m.term, m.from)
        this.handleAppend(m)
        return
      case 'heartbeat':
        this.becomeFollower(m.term, m.from)
        this.handleHeartbeat(m.from, m.commit, m.context)
        return
      case 'snap':
        this.becomeFollower(m.term, m.from)
        this.handleSnapshot(m)
        return
      case 'voteResp':
      case 'preVoteResp': {
        if ((m.type === 'preVoteResp') !== (this.role === 'preCandidate')) return
        const r = this.poll(m.from, !m.reject)
        if (r === 'won') {
          if (this.role === 'preCandidate') this.campaignAs('election')
          else {
            this.becomeLeader()
            this.bcastAppend()
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, undefined)
        }
        return
      }
      default:
        return
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop':
        this.stepProposal(m, false)
        return
      case 'app':
        this.electionElapsed = 0
        this.lead = m.from
        this.handleAppend(m)
        return
      case 'heartbeat':
        this.electionElapsed = 0
        this.lead = m.from
        this.handleHeartbeat(m.from, m.commit, m.context)
        return
      case 'snap':
        this.electionElapsed = 0
        this.lead = m.from
        this.handleSnapshot(m)
        return
      case 'timeoutNow':
        this.hup('transfer')
        return
      case 'readIndex':
        if (this.lead !== undefined) this.send({ type: 'readIndex', to: this.lead, term: 0, context: m.context })
        return
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context })
        return
      default:
        return
    }
  }

  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
      return
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      // New membership entries take effect at once; a truncation may have removed one.
      if (m.entries.some((e) => e.type === 'confChange') || this.lastConfIndex > m.index) this.refreshConf()
      this.send({ type: 'appResp', to: m.from, index: lastNew, reject: false, rejectHint: 0, logTerm: 0 })
      return
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm)
    this.send({ type: 'appResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term })
  }

  private handleHeartbeat(from: string, commit: number, context: string | undefined): void {
    this.log.commitTo(Math.min(commit, this.log.lastIndex()))
    this.send({ type: 'heartbeatResp', to: from, context })
  }

  private handleSnapshot(m: SnapshotMessage): void {
    let recv = this.snapRecv
    if (m.offset === 0) {
      recv = { meta: m.meta, chunks: [], size: 0 }
    } else if (!recv || recv.meta.index !== m.meta.index || recv.meta.term !== m.meta.term || recv.size !== m.offset) {
      const have = recv && recv.meta.index === m.meta.index && recv.meta.term === m.meta.term ? recv.size : 0
      this.send({ type: 'snapResp', to: m.from, index: m.meta.index, offset: have })
      return
    }
    recv.chunks.push(m.chunk)
    recv.size += m.chunk.byteLength
    this.snapRecv = recv
    if (recv.size < m.total) {
      this.send({ type: 'snapResp', to: m.from, index: m.meta.index, offset: recv.size })
      return
    }
    this.snapRecv = undefined
    const data = new Uint8Array(recv.size)
    let at = 0
    for (const c of recv.chunks) {
      data.set(c, at)
      at += c.byteLength
    }
    const snapshot: Snapshot = { meta: { ...m.meta, confState: cloneConf(m.meta.confState) }, data }
    if (this.restore(snapshot)) {
      this.send({ type: 'appResp', to: m.from, index: this.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 })
    } else {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
    }
  }

  /** Installs a leader's snapshot unless our log already covers it; returns whether it was installed. */
  private restore(s: Snapshot): boolean {
    if (s.meta.index <= this.log.committed) return false
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // Our log already holds the snapshot's last entry: fast-forward the commit instead.
      this.log.commitTo(s.meta.index)
      return false
    }
    this.log.restore(s)
    this.refreshConf()
    return true
  }

  // ---------------------------------------------------------------- membership

  /** The membership in force after entry `index`: the base plus every change up to it. */
  private confAt(index: number): ConfState {
    const snap = this.log.snapshot
    let cs = cloneConf(snap ? snap.meta.confState : this.baseConf)
    for (let i = (snap?.meta.index ?? 0) + 1; i <= index; i++) {
      const e = this.log.entry(i)
      if (e?.type !== 'confChange') continue
      const next = applyConfChange(cs, decodeConfChange(e.data))
      if (!(next instanceof Error)) cs = next
    }
    return cs
  }

  /** Recomputes the membership from the log (changes count once appended, and vanish if truncated). */
  private refreshConf(): void {
    const last = this.log.lastIndex()
    this.lastConfIndex = 0
    for (let i = last; i >= this.log.firstIndex() && i > (this.log.snapshot?.meta.index ?? 0); i--) {
      if (this.log.entry(i)?.type === 'confChange') {
        this.lastConfIndex = i
        break
      }
    }
    this.setConf(this.confAt(last))
  }

  private setConf(next: ConfState): void {
    if (sameConf(next, this.confState)) return
    this.confState = next
    const members = new Set([...next.voters, ...next.learners])
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id)
    for (const id of members) {
      const learner = next.learners.includes(id)
      const pr = this.progress.get(id)
      if (pr) pr.isLearner = learner
      else {
        const fresh = new Progress(this.log.lastIndex() + 1, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes, learner)
        if (id === this.id) fresh.match = this.log.lastIndex()
        this.progress.set(id, fresh)
      }
    }
    if (this.role !== 'leader') return
    if (this.leadTransferee !== undefined && !next.voters.includes(this.leadTransferee)) this.leadTransferee = undefined
    // New members count as active so a fresh change cannot trip check-quorum at once.
    for (const pr of this.progress.values()) pr.recentActive = true
  }

  // ---------------------------------------------------------------- plumbing

  private send(m: Outgoing): void {
    const full = { ...m, from: this.id, term: m.term ?? this.term } as Message
    this.msgs.push(full)
  }
}

function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  return a.voters.join() === b.voters.join() && a.learners.join() === b.learners.join()
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}
