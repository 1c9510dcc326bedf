import type { Entry, SnapshotMeta } from './types.js'

/**
 * Fields every message carries.
 * @public
 */
export interface MessageBase {
  from: string
  to: string
  /** Sender's term; 0 for messages that are forwarded without term checks (proposals, read requests). */
  term: number
}

/**
 * AppendEntries: `index`/`logTerm` identify the entry preceding `entries`.
 * @public
 */
export interface AppendMessage extends MessageBase {
  type: 'app'
  index: number
  logTerm: number
  entries: Entry[]
  commit: number
}

/**
 * Reply to AppendEntries. On reject, `rejectHint`/`logTerm` let the leader skip back by term.
 * @public
 */
export interface AppendResponseMessage extends MessageBase {
  type: 'appResp'
  index: number
  reject: boolean
  rejectHint: number
  logTerm: number
}

/**
 * Leader heartbeat; `context` carries the latest pending ReadIndex request.
 * @public
 */
export interface HeartbeatMessage extends MessageBase {
  type: 'heartbeat'
  commit: number
  context: string | undefined
}

/**
 * Heartbeat reply, echoing the ReadIndex context.
 * @public
 */
export interface HeartbeatResponseMessage extends MessageBase {
  type: 'heartbeatResp'
  context: string | undefined
}

/**
 * RequestVote or its pre-vote probe; `force` marks a leader-transfer campaign that bypasses leases.
 * @public
 */
export interface VoteMessage extends MessageBase {
  type: 'vote' | 'preVote'
  index: number
  logTerm: number
  force: boolean
}

/**
 * Vote or pre-vote reply.
 * @public
 */
export interface VoteResponseMessage extends MessageBase {
  type: 'voteResp' | 'preVoteResp'
  reject: boolean
}

/**
 * One chunk of an InstallSnapshot transfer.
 * @public
 */
export interface SnapshotMessage extends MessageBase {
  type: 'snap'
  meta: SnapshotMeta
  offset: number
  total: number
  chunk: Uint8Array
}

/**
 * Chunk acknowledgement: `offset` is how many bytes the receiver holds for snapshot `index`.
 * @public
 */
export interface SnapshotResponseMessage extends MessageBase {
  type: 'snapResp'
  index: number
  offset: number
}

/**
 * Leader transfer: the receiver campaigns at once.
 * @public
 */
export interface TimeoutNowMessage extends MessageBase {
  type: 'timeoutNow'
}

/**
 * A proposal forwarded from a follower to the leader.
 * @public
 */
export interface ProposeMessage extends MessageBase {
  type: 'prop'
  entries: { type: 'normal' | 'confChange'; data: Uint8Array }[]
}

/**
 * A ReadIndex request forwarded to the leader.
 * @public
 */
export interface ReadIndexMessage extends MessageBase {
  type: 'readIndex'
  context: string
}

/**
 * The leader's answer to a forwarded ReadIndex request.
 * @public
 */
export interface ReadIndexResponseMessage extends MessageBase {
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
