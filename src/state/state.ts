import type { ApplyResult, StateMachine } from '../cluster/adapter.js'
import type { Namespace } from '../resources/namespace.js'
import { applyChange, type ApplyChecks } from './apply.js'
import type { Change, LogEntry } from './change.js'
import { decodeSnapshot, encodeSnapshot } from './codec.js'
import { PersistentMap } from './persistent-map.js'
import { Snapshot, emptyNamespace, type NamespaceState } from './snapshot.js'

/**
 * Called after every applied change with the change and the snapshot it produced; `change` is null when the
 * whole state was replaced from a snapshot.
 * @public
 */
export type StateListener = (change: Change | null, snapshot: Snapshot) => void

/** The `default` namespace that exists from the start unless disabled (DGate's shape). */
export const DEFAULT_NAMESPACE: Namespace = { name: 'default', tags: ['default'] }

/**
 * The gateway's state: the current snapshot, advanced only by committed log entries.
 * Implements the cluster adapter's {@link StateMachine}.
 */
export class GatewayState implements StateMachine {
  #current: Snapshot
  #appliedIndex = 0
  readonly #listeners = new Set<StateListener>()
  readonly #checks: ApplyChecks
  /** Snapshots computed by the last checkAll, reused when the same changes are then applied in order. */
  #planned: { base: Snapshot; change: Change; next: Snapshot }[] = []

  constructor(options: { defaultNamespace?: boolean; checks?: ApplyChecks } = {}) {
    this.#checks = options.checks ?? {}
    let namespaces = PersistentMap.empty<NamespaceState>()
    if (options.defaultNamespace !== false) namespaces = namespaces.set(DEFAULT_NAMESPACE.name, emptyNamespace(DEFAULT_NAMESPACE))
    this.#current = new Snapshot(0, namespaces)
  }

  get current(): Snapshot {
    return this.#current
  }

  get appliedIndex(): number {
    return this.#appliedIndex
  }

  subscribe(listener: StateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  apply(entry: LogEntry): ApplyResult {
    if (entry.index <= this.#appliedIndex) {
      return { ok: false, error: new Error(`log entry ${entry.index} is at or before the applied index ${this.#appliedIndex}`) }
    }
    let next: Snapshot
    try {
      next = this.#takePlanned(entry) ?? applyChange(this.#current, entry.change, entry.index, this.#checks)
    } catch (error) {
      this.#appliedIndex = entry.index
      return { ok: false, error: error as Error }
    }
    this.#appliedIndex = entry.index
    this.#current = next
    this.#emit(entry.change, next)
    return { ok: true }
  }

  check(change: Change): void {
    applyChange(this.#current, change, this.#current.version + 1, this.#checks)
  }

  /** Checks changes in order as if each accepted one had been applied; returns each one's refusal or undefined. */
  checkAll(changes: readonly Change[]): (Error | undefined)[] {
    let base = this.#current
    this.#planned = []
    return changes.map((change) => {
      try {
        const next = applyChange(base, change, base.version + 1, this.#checks)
        this.#planned.push({ base, change, next })
        base = next
        return undefined
      } catch (error) {
        return error as Error
      }
    })
  }

  /** The planned result of exactly this change on exactly the current snapshot at exactly this index, if any. */
  #takePlanned(entry: LogEntry): Snapshot | undefined {
    const plan = this.#planned.shift()
    if (plan && plan.base === this.#current && plan.change === entry.change && plan.next.version === entry.index) return plan.next
    this.#planned = []
    return undefined
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.#current, this.#appliedIndex)
  }

  restore(bytes: Uint8Array): void {
    const { snapshot, appliedIndex } = decodeSnapshot(bytes)
    this.#planned = []
    this.#current = snapshot
    this.#appliedIndex = appliedIndex
    this.#emit(null, snapshot)
  }

  #emit(change: Change | null, snapshot: Snapshot): void {
    for (const listener of this.#listeners) {
      try {
        listener(change, snapshot)
      } catch {
        // A listener's failure must not undo or stop an applied change; listeners report their own errors.
      }
    }
  }
}
