import type { Entry, Snapshot } from './types.js'

/** Size of an entry as counted for message and inflight byte limits. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16
}

/**
 * The in-memory log of one node: the entries after a compaction point, plus the bookkeeping of what
 * is durable (`stabled`), committed and applied.
 *
 * @remarks
 * `dummyIndex`/`dummyTerm` describe the entry just before the first held entry (the snapshot, or the
 * last compacted entry), so that `term(firstIndex - 1)` is always known.
 */
export class RaftLog {
  private entries: Entry[] = []
  private dummyIndex = 0
  private dummyTerm = 0
  /** Highest index known to be durable in storage. */
  stabled = 0
  committed = 0
  applied = 0
  /** The latest snapshot this node holds (taken, loaded or installed); sent to lagging followers. */
  snapshot: Snapshot | undefined
  /** A snapshot received from the leader that storage and the state machine have not taken yet. */
  unstableSnapshot: Snapshot | undefined

  constructor(snapshot: Snapshot | undefined, entries: Entry[], commit: number) {
    if (snapshot) {
      this.snapshot = snapshot
      this.dummyIndex = snapshot.meta.index
      this.dummyTerm = snapshot.meta.term
    }
    for (const e of entries) if (e.index > this.dummyIndex) this.entries.push(e)
    const first = this.entries[0]
    if (first && first.index !== this.dummyIndex + 1) {
      throw new Error(`raft log: entries start at ${first.index}, expected ${this.dummyIndex + 1}`)
    }
    this.stabled = this.lastIndex()
    this.applied = this.dummyIndex
    this.committed = Math.min(Math.max(commit, this.dummyIndex), this.lastIndex())
  }

  firstIndex(): number {
    return this.dummyIndex + 1
  }

  lastIndex(): number {
    return this.dummyIndex + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of entry `i`, or undefined when it is compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.dummyIndex) return this.dummyTerm
    if (i < this.dummyIndex || i > this.lastIndex()) return undefined
    return this.entries[i - this.dummyIndex - 1]?.term
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term
  }

  entry(i: number): Entry | undefined {
    if (i <= this.dummyIndex) return undefined
    return this.entries[i - this.dummyIndex - 1]
  }

  /** The election restriction: is a log ending at (`index`, `term`) at least as up to date as ours? */
  isUpToDate(index: number, term: number): boolean {
    const lt = this.lastTerm()
    return term > lt || (term === lt && index >= this.lastIndex())
  }

  /** Index of the first entry of `ents` that conflicts with (or extends) our log; 0 when all match. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index
    return 0
  }

  /**
   * The last index `<= index` whose term is `<= term`, with its term: the leader and follower agree
   * on nothing after it, so the leader can skip a whole term per probe.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex())
    for (;;) {
      const t = this.term(i)
      if (t === undefined) return { index: i, term: 0 }
      if (t <= term) return { index: i, term: t }
      i--
    }
  }

  /** Follower append: returns the last new index, or undefined when (prevIndex, prevTerm) does not match. */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + ents.length
    const conflict = this.findConflict(ents)
    if (conflict !== 0) {
      if (conflict <= this.committed) throw new Error(`raft log: conflict at ${conflict} <= committed ${this.committed}`)
      const first = ents[0]
      if (first) this.append(ents.slice(conflict - first.index))
    }
    this.commitTo(Math.min(commit, lastNew))
    return lastNew
  }

  /** Appends entries, truncating any existing entries at or after the first new index. */
  append(ents: Entry[]): void {
    const first = ents[0]
    if (!first) return
    if (first.index <= this.committed) throw new Error(`raft log: truncating committed entry ${first.index}`)
    const keep = first.index - this.dummyIndex - 1
    if (keep < 0 || keep > this.entries.length) throw new Error(`raft log: gap appending at ${first.index}`)
    this.entries.length = keep
    for (const e of ents) this.entries.push(e)
    this.stabled = Math.min(this.stabled, first.index - 1)
  }

  /** Entries in [lo, hi), stopping early at `maxCount` entries or `maxBytes` (always at least one). */
  slice(lo: number, hi: number, maxCount = Infinity, maxBytes = Infinity): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i < hi && out.length < maxCount; i++) {
      const e = this.entry(i)
      if (!e) break
      bytes += entrySize(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  unstableEntries(): Entry[] {
    return this.slice(this.stabled + 1, this.lastIndex() + 1)
  }

  /** Marks entries up to `index` durable, unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.stabled) this.stabled = index
  }

  commitTo(index: number): void {
    if (index <= this.committed) return
    if (index > this.lastIndex()) throw new Error(`raft log: commit ${index} beyond last index ${this.lastIndex()}`)
    this.committed = index
  }

  /** Committed entries not yet handed to the application. */
  nextCommitted(maxCount: number): Entry[] {
    if (this.unstableSnapshot) return []
    return this.slice(this.applied + 1, this.committed + 1, maxCount)
  }

  /** Replaces the whole log by a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.entries = []
    this.dummyIndex = snapshot.meta.index
    this.dummyTerm = snapshot.meta.term
    this.committed = snapshot.meta.index
    this.stabled = snapshot.meta.index
    this.snapshot = snapshot
    this.unstableSnapshot = snapshot
  }

  /** Records a snapshot the application took, and drops entries before `keepFrom` (trailing entries stay). */
  compact(snapshot: Snapshot, keepFrom: number): void {
    this.snapshot = snapshot
    const from = Math.min(keepFrom, snapshot.meta.index + 1)
    if (from <= this.firstIndex()) return
    const t = this.term(from - 1)
    if (t === undefined) return
    this.entries = this.entries.slice(from - this.dummyIndex - 1)
    this.dummyIndex = from - 1
    this.dummyTerm = t
  }
}
