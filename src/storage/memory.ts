import type { LogEntry } from '../state/change.js'
import { checkContinues, type Storage, type StoredLog } from './storage.js'

/**
 * Keeps the log in process memory. Lost when the process exits; a new gateway given the same instance
 * recovers from it, which is how tests restart a gateway without files.
 * @public
 */
export class MemoryStorage implements Storage {
  #entries: LogEntry[] = []
  #snapshot: { index: number; data: Uint8Array } | undefined

  /** Returns copies of the stored snapshot and entries. */
  async load(): Promise<StoredLog> {
    const log: StoredLog = { entries: this.#entries.map(copy) }
    if (this.#snapshot) log.snapshot = { index: this.#snapshot.index, data: this.#snapshot.data.slice() }
    return log
  }

  /** Keeps copies of the entries, which must continue the log. */
  async append(entries: readonly LogEntry[]): Promise<void> {
    checkContinues(this.#lastIndex(), entries)
    for (const entry of entries) this.#entries.push(copy(entry))
  }

  /** Keeps a copy of the snapshot as the state at `index` and drops the entries it covers. */
  async compact(index: number, snapshot: Uint8Array): Promise<void> {
    this.#snapshot = { index, data: snapshot.slice() }
    this.#entries = this.#entries.filter((e) => e.index > index)
  }

  /** Does nothing: the data stays for the next gateway given this instance. */
  async close(): Promise<void> {}

  #lastIndex(): number {
    return this.#entries.at(-1)?.index ?? this.#snapshot?.index ?? 0
  }
}

// Stored values must not alias the caller's objects, or a later mutation would rewrite history.
function copy(entry: LogEntry): LogEntry {
  return structuredClone(entry)
}
