/**
 * The kind of a log entry: an application command, a membership change, or the empty entry a new
 * leader appends to commit entries of earlier terms.
 * @public
 */
export type EntryType = 'normal' | 'confChange' | 'empty'

/**
 * One entry of the replicated log. `data` is opaque to the core.
 * @public
 */
export interface Entry {
  /** Position in the log, starting at 1. */
  index: number
  /** Term of the leader that created the entry. */
  term: number
  /** What the entry carries. */
  type: EntryType
  /** The payload: an application command, an encoded {@link ConfChange}, or empty bytes for `empty`. */
  data: Uint8Array
}

/**
 * The state that must be durable before this node acts on it: current term, the vote cast in that
 * term, and the highest index known committed.
 * @public
 */
export interface HardState {
  /** Latest term this node has seen. */
  term: number
  /** The node this one voted for in `term`; undefined when it has not voted. */
  vote: string | undefined
  /** Highest log index known to be committed (may lag after a restart; the leader re-sends it). */
  commit: number
}

/**
 * A cluster membership: voters decide elections and commits, learners only receive the log.
 * @public
 */
export interface ConfState {
  /** Ids of the voting members. */
  voters: string[]
  /** Ids of the non-voting members that receive the log. */
  learners: string[]
}

/**
 * Where a snapshot sits in the log and the membership it carries.
 * @public
 */
export interface SnapshotMeta {
  /** Index of the last entry the snapshot covers. */
  index: number
  /** Term of the entry at `index`. */
  term: number
  /** The membership in force after the entry at `index`. */
  confState: ConfState
}

/**
 * A serialized state machine at `meta.index`.
 * @public
 */
export interface Snapshot {
  /** Where the snapshot sits in the log, and its membership. */
  meta: SnapshotMeta
  /** The serialized state machine, opaque to the core. */
  data: Uint8Array
}

/**
 * A linearizable read point granted by ReadIndex: once `applied >= index`, a read is linearizable.
 * @public
 */
export interface ReadState {
  /** The leader's commit index when the read was confirmed; wait until `applied >= index`. */
  index: number
  /** The caller's unique request id, as passed to {@link Raft.readIndex}. */
  context: string
}

/**
 * The role of a node in the core.
 * @public
 */
export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/**
 * What the core persists across restarts, as loaded from storage.
 * @public
 */
export interface RaftPersistedState {
  /** The last hard state written (term 0, no vote, commit 0 when empty). */
  hardState: HardState
  /** The latest durable snapshot, if any. */
  snapshot: Snapshot | undefined
  /** The stored log entries in index order; entries at or before the snapshot index are ignored. */
  entries: Entry[]
}
