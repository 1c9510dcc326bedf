import type { Entry, SnapshotMeta } from './types.js'

interface Base {
  from: string
  to: string
  /** Sender's term; 0 for messages that are forwarded without term checks (proposals, read requests). */
  term: number
}

/** AppendEntries: `index`/`logTerm` identify the entry preceding `entries`. */
export interface AppendMessage extends Base {
  type: 'app'
  index: number
  logTerm: number
  entries: Entry[]
  commit: number
}

/** Reply to AppendEntries. On reject, `rejectHint`/`logTerm` let the leader skip back by term. */
export interface AppendResponseMessage extends Base {
  type: 'appResp'
  index: number
  reject: boolean
  rejectHint: number
  logTerm: number
}

/** Leader heartbeat; `context` carries the latest pending ReadIndex request. */
export interface HeartbeatMessage extends Base {
  type: 'heartbeat'
  commit: number
  context: string | undefined
}

/** Heartbeat reply, echoing the ReadIndex context. */
export interface HeartbeatResponseMessage extends Base {
  type: 'heartbeatResp'
  context: string | undefined
}

/** RequestVote or its pre-vote probe; `force` marks a leader-transfer campaign that bypasses leases. */
export interface VoteMessage extends Base {
  type: 'vote' | 'preVote'
  index: number
  logTerm: number
  force: boolean
}

/** Vote or pre-vote reply. */
export interface VoteResponseMessage extends Base {
  type: 'voteResp' | 'preVoteResp'
  reject: boolean
}

/** One chunk of an InstallSnapshot transfer. */
export interface SnapshotMessage extends Base {
  type: 'snap'
  meta: SnapshotMeta
  offset: number
  total: number
  chunk: Uint8Array
}

/** Chunk acknowledgement: `offset` is how many bytes the receiver holds for snapshot `index`. */
export interface SnapshotResponseMessage extends Base {
  type: 'snapResp'
  index: number
  offset: number
}

/** Leader transfer: the receiver campaigns at once. */
export interface TimeoutNowMessage extends Base {
  type: 'timeoutNow'
}

/** A proposal forwarded from a follower to the leader. */
export interface ProposeMessage extends Base {
  type: 'prop'
  entries: { type: 'normal' | 'confChange'; data: Uint8Array }[]
}

/** A ReadIndex request forwarded to the leader. */
export interface ReadIndexMessage extends Base {
  type: 'readIndex'
  context: string
}

/** The leader's answer to a forwarded ReadIndex request. */
export interface ReadIndexResponseMessage extends Base {
  type: 'readIndexResp'
  context: string
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
