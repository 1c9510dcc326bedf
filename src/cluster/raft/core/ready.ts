import type { Message } from './messages.js'
import type { Entry, HardState, RaftRole, ReadState, Snapshot } from './types.js'

/**
 * A batch of work the core hands to its driver. The contract, in order:
 * 1. persist `snapshot`, then `entries` (truncating from `entries[0].index`) and `hardState`,
 *    fsyncing when `mustSync`;
 * 2. only then send `messages` (they may acknowledge or depend on what was just persisted);
 * 3. restore the state machine from `snapshot`, apply `committedEntries`, serve `readStates`;
 * 4. call `advance(ready)`.
 *
 * @public
 */
export interface Ready {
  /** Set when the leader or role changed. */
  softState: { lead: string | undefined; role: RaftRole } | undefined
  /** Set when term, vote or commit changed. */
  hardState: HardState | undefined
  /** Entries to make durable. */
  entries: Entry[]
  /** A snapshot received from the leader, to persist and restore. */
  snapshot: Snapshot | undefined
  /** Committed entries to apply, in order. */
  committedEntries: Entry[]
  /** Messages to send after persisting. */
  messages: Message[]
  /** ReadIndex answers. */
  readStates: ReadState[]
  /** Whether persistence must fsync before messages go out (entries, term or vote changed). */
  mustSync: boolean
}
