import type { Raft } from '../../../../src/cluster/raft/core/raft.js'
import type { Entry } from '../../../../src/cluster/raft/core/types.js'

const decoder = new TextDecoder()

/** An identity for an entry's content, comparable across nodes. */
export function entryKey(e: Entry): string {
  return `${e.term}:${e.type}:${decoder.decode(e.data)}`
}

/** Thrown when a safety property breaks; the simulator adds the seed and time. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation'
}

/**
 * Raft's safety properties (paper §5.2–5.4, Figure 3), checked incrementally as the simulation
 * runs so that each check costs only the work just done.
 */
export class Invariants {
  /** Election Safety: term → leader. */
  private readonly leaders = new Map<number, string>()
  /** Log Matching: (index, term) → entry content and the term of the entry before it. */
  private readonly written = new Map<string, { key: string; prevTerm: number | undefined }>()
  /** Entries known committed: index → term and content. */
  private readonly committedTerm: number[] = []
  private readonly committedKey: string[] = []
  /** State Machine Safety: index → content applied there. */
  private readonly appliedKey: string[] = []
  /** Acknowledged client writes: index → content. */
  private readonly acked = new Map<number, string>()
  maxCommitted = 0

  /** Election Safety: at most one leader per term. */
  leaderElected(id: string, term: number): void {
    const prior = this.leaders.get(term)
    if (prior !== undefined && prior !== id) throw new InvariantViolation(`election safety: ${prior} and ${id} both lead term ${term}`)
    this.leaders.set(term, id)
  }

  /** Leader Completeness: a new leader's log holds every committed entry. */
  checkLeaderCompleteness(r: Raft): void {
    const first = r.log.firstIndex()
    for (let i = first; i <= this.maxCommitted; i++) {
      const want = this.committedTerm[i]
      if (want === undefined) continue
      const got = r.log.term(i)
      if (got !== want) {
        throw new InvariantViolation(`leader completeness: leader ${r.id} (term ${r.term}) has term ${got} at committed index ${i}, expected ${want}`)
      }
    }
    for (const [index, key] of this.acked) {
      if (index < first) continue
      const e = r.log.entry(index)
      if (!e || entryKey(e) !== key) throw new InvariantViolation(`acknowledged write at ${index} missing from new leader ${r.id}`)
    }
  }

  /** Log Matching: entries with the same index and term are identical, and so are their predecessors. */
  entriesWritten(r: Raft, entries: Entry[]): void {
    for (const e of entries) {
      const k = `${e.index}:${e.term}`
      const key = entryKey(e)
      const prevTerm = r.log.term(e.index - 1)
      const prior = this.written.get(k)
      if (!prior) {
        this.written.set(k, { key, prevTerm })
        continue
      }
      if (prior.key !== key) throw new InvariantViolation(`log matching: two different entries at index ${e.index} term ${e.term}`)
      if (prevTerm !== undefined && prior.prevTerm !== undefined && prior.prevTerm !== prevTerm) {
        throw new InvariantViolation(`log matching: entries at ${e.index}/${e.term} follow different terms ${prior.prevTerm} and ${prevTerm}`)
      }
    }
  }

  /** Records entries newly committed on `r`, checking they agree with what others committed. */
  committed(r: Raft, from: number, to: number): void {
    for (let i = Math.max(from, r.log.firstIndex()); i <= to; i++) {
      const e = r.log.entry(i)
      if (!e) continue
      const key = entryKey(e)
      const prior = this.committedKey[i]
      if (prior === undefined) {
        this.committedKey[i] = key
        this.committedTerm[i] = e.term
      } else if (prior !== key) {
        throw new InvariantViolation(`commit safety: ${r.id} committed a different entry at ${i}`)
      }
    }
    if (to > this.maxCommitted) this.maxCommitted = to
  }

  /** State Machine Safety: no two nodes apply different entries at the same index. */
  applied(id: string, e: Entry): void {
    const key = entryKey(e)
    const prior = this.appliedKey[e.index]
    if (prior === undefined) this.appliedKey[e.index] = key
    else if (prior !== key) throw new InvariantViolation(`state machine safety: ${id} applied a different entry at ${e.index}`)
  }

  /** A client write was acknowledged after applying at `e.index`. */
  acknowledged(e: Entry): void {
    this.acked.set(e.index, entryKey(e))
  }

  /** No acknowledged write is lost: each is applied, at its index, by a converged node. */
  checkAckedApplied(id: string, appliedIndex: number): void {
    for (const [index, key] of this.acked) {
      if (index > appliedIndex) throw new InvariantViolation(`acknowledged write at ${index} not applied on ${id} (applied ${appliedIndex})`)
      if (this.appliedKey[index] !== key) throw new InvariantViolation(`acknowledged write at ${index} replaced`)
    }
  }

  get ackedCount(): number {
    return this.acked.size
  }
}
