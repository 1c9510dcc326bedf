import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import type { Change, LogEntry } from '../state/change.js'
import { checkContinues, type Storage, type StoredLog } from './storage.js'

const SNAPSHOT_KEY = 'snapshot'

/**
 * Keeps the log and snapshots in an LMDB file under `dir` (`dir/state.mdb`). Writes in the same event-loop turn
 * share one transaction (group commit), and every write resolves only after LMDB reports it flushed to disk.
 * @public
 */
export class FileStorage implements Storage {
  /** The directory holding `state.mdb`; created by `load` when missing. */
  readonly dir: string
  #root: RootDatabase | undefined
  #log: Database<Change, number> | undefined
  #meta: Database<{ index: number; data: Uint8Array }, string> | undefined
  #lastIndex = 0

  /** Nothing is opened until `load`. */
  constructor(dir: string) {
    this.dir = dir
  }

  /** Opens `dir/state.mdb`, creating it if needed, and reads the snapshot and the entries after it. */
  async load(): Promise<StoredLog> {
    mkdirSync(this.dir, { recursive: true })
    this.#root = open({ path: join(this.dir, 'state.mdb'), noSubdir: true, compression: false })
    this.#log = this.#root.openDB<Change, number>({ name: 'log', keyEncoding: 'uint32' })
    this.#meta = this.#root.openDB<{ index: number; data: Uint8Array }, string>({ name: 'meta' })
    const stored: StoredLog = { entries: [] }
    const snapshot = this.#meta.get(SNAPSHOT_KEY)
    if (snapshot) stored.snapshot = { index: snapshot.index, data: new Uint8Array(snapshot.data) }
    for (const { key, value } of this.#log.getRange()) stored.entries.push({ index: key, change: value })
    this.#lastIndex = stored.entries.at(-1)?.index ?? stored.snapshot?.index ?? 0
    return stored
  }

  /** Writes the entries in one transaction; resolves once they are flushed to disk. */
  async append(entries: readonly LogEntry[]): Promise<void> {
    const log = this.#open().log
    checkContinues(this.#lastIndex, entries)
    this.#lastIndex += entries.length
    await log.transaction(() => {
      for (const entry of entries) void log.put(entry.index, entry.change)
    })
    await this.#root!.flushed
  }

  /** Stores the snapshot and deletes the entries it covers in one transaction; resolves once flushed to disk. */
  async compact(index: number, snapshot: Uint8Array): Promise<void> {
    const { log, meta } = this.#open()
    await this.#root!.transaction(() => {
      void meta.put(SNAPSHOT_KEY, { index, data: snapshot })
      for (const key of log.getKeys({ end: index + 1 })) void log.remove(key)
    })
    await this.#root!.flushed
  }

  /** Waits for pending writes, then closes the file. Safe to call twice. */
  async close(): Promise<void> {
    const root = this.#root
    this.#root = this.#log = this.#meta = undefined
    if (root) {
      await root.flushed
      await root.close()
    }
  }

  #open(): { log: Database<Change, number>; meta: Database<{ index: number; data: Uint8Array }, string> } {
    if (!this.#log || !this.#meta) throw new Error(`storage in ${this.dir} is not open`)
    return { log: this.#log, meta: this.#meta }
  }
}
