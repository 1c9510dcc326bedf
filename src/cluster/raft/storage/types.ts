import type { Entry, HardState, RaftPersistedState, Snapshot } from '../core/types.js'

/**
 * Durable state of one Raft node. The driver awaits every call before sending anything that depends
 * on it (the Ready contract).
 *
 * @public
 */
export interface RaftStorage {
  /** Everything persisted so far; an empty node loads term 0, no vote, no entries. */
  load(): Promise<RaftPersistedState>
  /**
   * Appends entries (dropping any stored entries at or after `entries[0].index`) and records the
   * hard state. With `sync`, resolves only once both are durable.
   */
  append(entries: Entry[], hardState: HardState | undefined, opts: { sync: boolean }): Promise<void>
  /**
   * Durably records a snapshot. Stored entries are kept when the entry at the snapshot index has the
   * snapshot's term (an application snapshot); otherwise they are dropped (a leader's snapshot
   * replacing a divergent log).
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>
  /** Drops entries before `index` (never past the snapshot). */
  compact(index: number): Promise<void>
  /** Releases files. */
  close(): Promise<void>
}

/** An empty persisted state. */
export function emptyPersistedState(): RaftPersistedState {
  return { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] }
}
