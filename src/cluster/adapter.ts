import type { Change, LogEntry } from '../state/change.js'

/**
 * The outcome of applying one committed entry. A refused entry changes nothing.
 * @public
 */
export type ApplyResult = { ok: true } | { ok: false; error: Error }

/**
 * What a cluster adapter drives: the gateway's replicated state.
 *
 * @remarks
 * `apply` is deterministic: every node that applies the same entries in the same order ends in the
 * same state, and refuses the same entries with the same errors.
 *
 * @public
 */
export interface StateMachine {
  /** Index of the last entry applied (refused entries count: they were applied as no-ops). */
  readonly appliedIndex: number
  /** Applies a committed entry. Never throws; a refusal is returned. */
  apply(entry: LogEntry): ApplyResult
  /** Checks a change against the current state without applying it; throws the refusal. */
  check(change: Change): void
  /**
   * Checks changes in order as if each accepted one had been applied after the current state, without applying
   * anything; returns each change's refusal, or undefined. Lets an adapter commit a batch of only valid changes.
   */
  checkAll(changes: readonly Change[]): (Error | undefined)[]
  /** Serializes the whole state (resources, documents, applied index). */
  snapshot(): Uint8Array
  /** Replaces the whole state with a serialized snapshot. */
  restore(bytes: Uint8Array): void
}

/**
 * The role of this node in its cluster.
 * @public
 */
export type ClusterRole = 'standalone' | 'leader' | 'follower' | 'candidate' | 'learner' | 'edge'

/**
 * One member of a cluster as the adapter sees it.
 * @public
 */
export interface ClusterMember {
  /** The node id, unique in the cluster. */
  id: string
  /** Where other nodes reach it, when known. */
  address?: string
  /** Whether it votes and counts toward the commit quorum (learners and edges do not). */
  voter: boolean
  /** Highest log index known to be stored on that member (leader's view), when known. */
  matchIndex?: number
}

/**
 * A point-in-time view of the cluster.
 * @public
 */
export interface ClusterStatus {
  /** This node's role. */
  role: ClusterRole
  /** This node's id. */
  id: string
  /** The leader's id; absent while there is none. */
  leader?: string
  /** The current election term (0 when standalone). */
  term: number
  /** The highest log index known to be committed. */
  commitIndex: number
  /** The highest log index applied to this node's state; at most `commitIndex`. */
  appliedIndex: number
  /** Every known member, this node included. */
  members: ClusterMember[]
}

/**
 * Events a cluster adapter emits.
 * @public
 */
export interface ClusterEvents {
  /** An entry was applied locally. */
  applied: (entry: LogEntry) => void
  /** The known leader changed (undefined when there is none). */
  leader: (leader: string | undefined) => void
}

/**
 * How committed changes reach the state machine: standalone (local durable log) or a replicated log.
 *
 * @public
 */
export interface ClusterAdapter {
  /** Recovers durable state into `sm` and starts serving. */
  start(sm: StateMachine): Promise<void>
  /**
   * Commits a change and resolves after it is durable and applied locally; rejects with the
   * refusal when the change is invalid against the state it is applied to.
   */
  propose(change: Change): Promise<{ index: number }>
  /** Resolves once local state reflects every change committed before the call (linearizable read point). */
  barrier(): Promise<void>
  /** A point-in-time view of this node and its cluster. */
  status(): ClusterStatus
  /** Calls `fn` on every `event`; returns the unsubscribe function. */
  on<E extends keyof ClusterEvents>(event: E, fn: ClusterEvents[E]): () => void
  /** Stops, flushing and releasing everything. Safe to call twice. */
  close(): Promise<void>
}
