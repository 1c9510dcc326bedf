import type { Entry, SnapshotMeta } from './types.js'

/**
 * Fields every message carries.
 * @public
 */
export interface MessageBase {
  /** Id of the sending node. */
  from: string
  /** Id of the receiving node. */
  to: string
  /** Sender's term; 0 for messages that are forwarded without term checks (proposals, read requests). */
  term: number
}

/**
 * AppendEntries: `index`/`logTerm` identify the entry preceding `entries`.
 * @public
 */
export interface AppendMessage extends MessageBase {
  /** Message type tag. */
  type: 'app'
  /** Index of the entry immediately preceding `entries` (prevLogIndex). */
  index: number
  /** Term of the entry at `index` (prevLogTerm). */
  logTerm: number
  /** Entries to append after `index`; empty for a probe. */
  entries: Entry[]
  /** The leader's commit index. */
  commit: number
}

/**
 * Reply to AppendEntries. On reject, `rejectHint`/`logTerm` let the leader skip back by term.
 * @public
 */
export interface AppendResponseMessage extends MessageBase {
  /** Message type tag. */
  type: 'appResp'
  /**
   * On success, the highest index the follower now matches the leader up to (or its commit index when
   * the append was stale); on reject, the `index` of the rejected append; 0 when telling a stale leader our term.
   */
  index: number
  /** True when the follower's log has no entry at `index` with term `logTerm` of the append. */
  reject: boolean
  /**
   * On reject: the follower's highest index at or below min(`index`, its last index) whose term is at
   * most the append's `logTerm`, where the leader may resume probing. 0 otherwise.
   */
  rejectHint: number
  /** On reject: the term of the follower's entry at `rejectHint`. 0 otherwise. */
  logTerm: number
}

/**
 * Leader heartbeat; `context` carries the latest pending ReadIndex request.
 * @public
 */
export interface HeartbeatMessage extends MessageBase {
  /** Message type tag. */
  type: 'heartbeat'
  /** The leader's commit index, capped at the receiver's match index so it never commits unverified entries. */
  commit: number
  /** ReadIndex request id the leader wants acknowledged; undefined for a plain heartbeat. */
  context: string | undefined
}

/**
 * Heartbeat reply, echoing the ReadIndex context.
 * @public
 */
export interface HeartbeatResponseMessage extends MessageBase {
  /** Message type tag. */
  type: 'heartbeatResp'
  /** The `context` of the heartbeat being answered. */
  context: string | undefined
}

/**
 * RequestVote or its pre-vote probe; `force` marks a leader-transfer campaign that bypasses leases.
 * @public
 */
export interface VoteMessage extends MessageBase {
  /** `vote` for RequestVote, `preVote` for the probe that does not change terms. */
  type: 'vote' | 'preVote'
  /** The candidate's last log index (lastLogIndex). */
  index: number
  /** Term of the candidate's last log entry (lastLogTerm). */
  logTerm: number
  /** True for a leader-transfer campaign: receivers consider it even while they have a live leader (no lease check). */
  force: boolean
}

/**
 * Vote or pre-vote reply.
 * @public
 */
export interface VoteResponseMessage extends MessageBase {
  /** Answers `vote` or `preVote` respectively. */
  type: 'voteResp' | 'preVoteResp'
  /** True when the vote is refused. */
  reject: boolean
}

/**
 * One chunk of an InstallSnapshot transfer.
 * @public
 */
export interface SnapshotMessage extends MessageBase {
  /** Message type tag. */
  type: 'snap'
  /** The snapshot being transferred. */
  meta: SnapshotMeta
  /** Byte offset of `chunk` within the snapshot data. */
  offset: number
  /** Size of the whole snapshot data, in bytes. */
  total: number
  /** The snapshot bytes from `offset`. */
  chunk: Uint8Array
}

/**
 * Chunk acknowledgement: `offset` is how many bytes the receiver holds for snapshot `index`.
 * @public
 */
export interface SnapshotResponseMessage extends MessageBase {
  /** Message type tag. */
  type: 'snapResp'
  /** `meta.index` of the snapshot being acknowledged. */
  index: number
  /** Bytes of that snapshot the receiver holds contiguously from the start; the next chunk should begin here. */
  offset: number
}

/**
 * Leader transfer: the receiver campaigns at once.
 * @public
 */
export interface TimeoutNowMessage extends MessageBase {
  /** Message type tag. */
  type: 'timeoutNow'
}

/**
 * A proposal forwarded from a follower to the leader.
 * @public
 */
export interface ProposeMessage extends MessageBase {
  /** Message type tag. */
  type: 'prop'
  /** The proposed entries; the leader assigns index and term when it appends them. */
  entries: { type: 'normal' | 'confChange'; data: Uint8Array }[]
}

/**
 * A ReadIndex request forwarded to the leader.
 * @public
 */
export interface ReadIndexMessage extends MessageBase {
  /** Message type tag. */
  type: 'readIndex'
  /** The requester's unique read id. */
  context: string
}

/**
 * The leader's answer to a forwarded ReadIndex request.
 * @public
 */
export interface ReadIndexResponseMessage extends MessageBase {
  /** Message type tag. */
  type: 'readIndexResp'
  /** The read id from the request. */
  context: string
  /** The leader's confirmed commit index: the read is linearizable once `applied >= index`. */
  index: number
}

/**
 * Every message the core sends or receives. Plain objects: any transport may serialize them.
 * @public
 */
export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | SnapshotResponseMessage
  | TimeoutNowMessage
  | ProposeMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage

/**
 * The type tag of a message.
 * @public
 */
export type MessageType = Message['type']

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** A message before the core stamps `from` (and `term`, unless given). */
export type Outgoing = DistributiveOmit<Message, 'from' | 'term'> & { term?: number }
