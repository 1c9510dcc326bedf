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
  index: number
  term: number
  type: EntryType
  data: Uint8Array
}

/**
 * The state that must be durable before this node acts on it: current term, the vote cast in that
 * term, and the highest index known committed.
 * @public
 */
export interface HardState {
  term: number
  vote: string | undefined
  commit: number
}

/**
 * A cluster membership: voters decide elections and commits, learners only receive the log.
 * @public
 */
export interface ConfState {
  voters: string[]
  learners: string[]
}

/**
 * Where a snapshot sits in the log and the membership it carries.
 * @public
 */
export interface SnapshotMeta {
  index: number
  term: number
  confState: ConfState
}

/**
 * A serialized state machine at `meta.index`.
 * @public
 */
export interface Snapshot {
  meta: SnapshotMeta
  data: Uint8Array
}

/**
 * A linearizable read point granted by ReadIndex: once `applied >= index`, a read is linearizable.
 * @public
 */
export interface ReadState {
  index: number
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
  hardState: HardState
  snapshot: Snapshot | undefined
  entries: Entry[]
}
