import type { LogEntry } from '../state/change.js'

/**
 * What a storage holds after a restart: the latest snapshot (if any) and the log entries after it.
 * @public
 */
export interface StoredLog {
  /** The latest snapshot: bytes from `StateMachine.snapshot()` holding the state as of log `index`. */
  snapshot?: { index: number; data: Uint8Array }
  /** Entries after the snapshot, in index order. */
  entries: LogEntry[]
}

/**
 * Durable home of the standalone change log and its snapshots (documents included: they are part of the state).
 *
 * @remarks
 * Every promise resolves only once the write is durable. `compact` stores a snapshot and drops the entries it
 * covers in one atomic step, so a crash leaves either the old log or the new snapshot, never neither.
 *
 * @public
 */
export interface Storage {
  /** Opens the storage and returns what it holds; called once, before any other method. */
  load(): Promise<StoredLog>
  /** Appends entries (indexes strictly increasing, continuing the log). */
  append(entries: readonly LogEntry[]): Promise<void>
  /** Stores `snapshot` as the state at `index` and drops every entry at or before it. */
  compact(index: number, snapshot: Uint8Array): Promise<void>
  /** Waits for pending writes and releases the storage; no other method may be called after it. */
  close(): Promise<void>
}

/**
 * Where state is kept: in memory (the default), or in a directory on disk.
 * @public
 */
export type StorageOption = 'memory' | { dir: string } | Storage

export function checkContinues(lastIndex: number, entries: readonly LogEntry[]): void {
  let expected = lastIndex + 1
  for (const entry of entries) {
    if (entry.index !== expected) throw new Error(`log entry ${entry.index} does not follow ${expected - 1}`)
    expected++
  }
}
