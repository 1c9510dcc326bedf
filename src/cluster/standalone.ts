import type { Change, LogEntry } from '../state/change.js'
import { MemoryStorage } from '../storage/memory.js'
import type { Storage } from '../storage/storage.js'
import type { ClusterAdapter, ClusterEvents, ClusterStatus, StateMachine } from './adapter.js'
import { Listeners } from './listeners.js'

/**
 * Options of the standalone adapter.
 * @public
 */
export interface StandaloneOptions {
  /** Where the log lives (default: memory). */
  storage?: Storage
  /** Write a snapshot and drop the log it covers after this many changes (default 10 000). */
  snapshotEvery?: number
}

interface Pending {
  change: Change
  resolve: (result: { index: number }) => void
  reject: (error: Error) => void
}

/**
 * The single-node adapter: a durable local log with group commit. Changes are checked against the state,
 * the valid ones appended in one durable write, then applied in order; refused ones never reach the log.
 * @public
 */
export function standalone(options: StandaloneOptions = {}): ClusterAdapter {
  return new StandaloneCluster(options.storage ?? new MemoryStorage(), options.snapshotEvery ?? 10_000)
}

class StandaloneCluster implements ClusterAdapter {
  readonly #storage: Storage
  readonly #snapshotEvery: number
  readonly #events = new Listeners<ClusterEvents>()
  #sm: StateMachine | undefined
  #queue: Pending[] = []
  #flushing: Promise<void> | undefined
  #lastIndex = 0
  #snapshotIndex = 0
  #closed: Promise<void> | undefined

  constructor(storage: Storage, snapshotEvery: number) {
    if (!Number.isInteger(snapshotEvery) || snapshotEvery < 1) throw new RangeError(`snapshotEvery must be a positive integer, not ${snapshotEvery}`)
    this.#storage = storage
    this.#snapshotEvery = snapshotEvery
  }

  async start(sm: StateMachine): Promise<void> {
    const stored = await this.#storage.load()
    if (stored.snapshot) {
      sm.restore(stored.snapshot.data)
      this.#snapshotIndex = this.#lastIndex = stored.snapshot.index
    }
    for (const entry of stored.entries) {
      const result = sm.apply(entry)
      if (!result.ok) {
        throw new Error(`cannot recover state: log entry ${entry.index} (${entry.change.op} ${entry.change.kind} "${entry.change.name}") is refused: ${result.error.message}`)
      }
      this.#lastIndex = entry.index
    }
    this.#sm = sm
  }

  propose(change: Change): Promise<{ index: number }> {
    if (this.#closed) return Promise.reject(new Error('the gateway is closed'))
    if (!this.#sm) return Promise.reject(new Error('the cluster adapter has not started'))
    return new Promise((resolve, reject) => {
      this.#queue.push({ change, resolve, reject })
      this.#flushing ??= this.#flushLoop()
    })
  }

  async barrier(): Promise<void> {
    // Every acknowledged change is already applied locally; wait for ones in flight so reads see them.
    await this.#flushing
  }

  status(): ClusterStatus {
    const appliedIndex = this.#sm?.appliedIndex ?? 0
    return { role: 'standalone', id: 'standalone', leader: 'standalone', term: 0, commitIndex: this.#lastIndex, appliedIndex, members: [{ id: 'standalone', voter: true, matchIndex: this.#lastIndex }] }
  }

  on<E extends keyof ClusterEvents>(event: E, fn: ClusterEvents[E]): () => void {
    return this.#events.on(event, fn)
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#flushing
      await this.#storage.close()
    })()
    return this.#closed
  }

  /** Drains the queue one batch at a time: every proposal that arrived during a write joins the next one. */
  async #flushLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue
        this.#queue = []
        await this.#commit(batch)
      }
    } finally {
      this.#flushing = undefined
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const sm = this.#sm!
    const refusals = sm.checkAll(batch.map((p) => p.change))
    const accepted: { pending: Pending; entry: LogEntry }[] = []
    batch.forEach((pending, i) => {
      const refusal = refusals[i]
      if (refusal) pending.reject(refusal)
      else accepted.push({ pending, entry: { index: this.#lastIndex + accepted.length + 1, change: pending.change } })
    })
    if (accepted.length === 0) return
    try {
      await this.#storage.append(accepted.map((a) => a.entry))
    } catch (error) {
      const failure = new Error(`change not saved: ${(error as Error).message}`)
      for (const a of accepted) a.pending.reject(failure)
      return
    }
    this.#lastIndex += accepted.length
    for (const { pending, entry } of accepted) {
      const result = sm.apply(entry)
      if (result.ok) {
        this.#events.emit('applied', entry)
        pending.resolve({ index: entry.index })
      } else {
        // Unreachable while checkAll and apply agree; kept so a disagreement is reported, not swallowed.
        pending.reject(result.error)
      }
    }
    if (this.#lastIndex - this.#snapshotIndex >= this.#snapshotEvery) await this.#compact(sm)
  }

  async #compact(sm: StateMachine): Promise<void> {
    const index = this.#lastIndex
    try {
      await this.#storage.compact(index, sm.snapshot())
      this.#snapshotIndex = index
    } catch {
      // The log still holds every entry, so nothing is lost; the next batch tries again.
    }
  }
}
