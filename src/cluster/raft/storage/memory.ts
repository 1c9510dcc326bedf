import type { Entry, HardState, RaftPersistedState, Snapshot } from '../core/types.js'
import { appendWithTruncation, coversSnapshot, dropBefore } from './entries.js'
import { emptyPersistedState, type RaftStorage } from './types.js'

type Op =
  | { kind: 'append'; entries: Entry[]; hardState: HardState | undefined }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'compact'; index: number }

function applyOp(st: RaftPersistedState, op: Op): void {
  switch (op.kind) {
    case 'append':
      appendWithTruncation(st.entries, op.entries)
      if (op.hardState) st.hardState = { ...op.hardState }
      return
    case 'snapshot':
      if (!coversSnapshot(st.entries, op.snapshot)) st.entries = []
      st.snapshot = op.snapshot
      return
    case 'compact':
      st.entries = dropBefore(st.entries, op.index, st.snapshot?.meta.index ?? 0)
      return
  }
}

function clone(st: RaftPersistedState): RaftPersistedState {
  return { hardState: { ...st.hardState }, snapshot: st.snapshot, entries: [...st.entries] }
}

/**
 * In-memory {@link RaftStorage} for simulation. It keeps what was written apart from what was
 * synced: {@link MemoryRaftStorage.crash} forgets every write not yet synced, like a power loss.
 *
 * @public
 */
export class MemoryRaftStorage implements RaftStorage {
  private durable: RaftPersistedState = emptyPersistedState()
  private current: RaftPersistedState = emptyPersistedState()
  private pending: Op[] = []

  /** Writes without syncing (synchronous form for the simulator). */
  write(entries: Entry[], hardState: HardState | undefined): void {
    if (entries.length === 0 && !hardState) return
    this.record({ kind: 'append', entries: [...entries], hardState })
  }

  /** Makes every earlier write durable. */
  sync(): void {
    for (const op of this.pending) applyOp(this.durable, op)
    this.pending = []
  }

  /** Writes and syncs a snapshot. */
  writeSnapshot(snapshot: Snapshot): void {
    this.record({ kind: 'snapshot', snapshot })
    this.sync()
  }

  /** Compacts (unsynced, like a background delete). */
  compactNow(index: number): void {
    this.record({ kind: 'compact', index })
  }

  /** Simulated power loss: unsynced writes are gone. */
  crash(): void {
    this.pending = []
    this.current = clone(this.durable)
  }

  /** What a restart would load now (synchronous form). */
  loadNow(): RaftPersistedState {
    return clone(this.current)
  }

  /** What survives a crash right now. */
  durableState(): RaftPersistedState {
    return this.durable
  }

  /** What a restart would load now: every write so far, synced or not (a copy). */
  async load(): Promise<RaftPersistedState> {
    return this.loadNow()
  }

  /** Writes entries (truncating from `entries[0].index`) and the hard state; durable only with `sync`. */
  async append(entries: Entry[], hardState: HardState | undefined, opts: { sync: boolean }): Promise<void> {
    this.write(entries, hardState)
    if (opts.sync) this.sync()
  }

  /** Records the snapshot and syncs it together with every earlier write. */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.writeSnapshot(snapshot)
  }

  /** Drops entries before `index` (never past the snapshot); unsynced, so a crash may bring them back. */
  async compact(index: number): Promise<void> {
    this.compactNow(index)
  }

  /** Does nothing: the stored state stays readable. */
  async close(): Promise<void> {}

  private record(op: Op): void {
    applyOp(this.current, op)
    this.pending.push(op)
  }
}
