export { Raft, type RaftStatus, type ProgressStatus } from './raft.js'
export type { Ready } from './ready.js'
export { bootstrapLog } from './bootstrap.js'
export type { RaftConfig } from './config.js'
export { ProposalDroppedError } from './errors.js'
export { encodeConfChange, decodeConfChange, applyConfChange, type ConfChange } from './confchange.js'
export { seededRandom, type Random } from './prng.js'
export type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  MessageBase,
  MessageType,
  ProposeMessage,
  ReadIndexMessage,
  ReadIndexResponseMessage,
  SnapshotMessage,
  SnapshotResponseMessage,
  TimeoutNowMessage,
  VoteMessage,
  VoteResponseMessage,
} from './messages.js'
export type { ProgressState } from './progress.js'
export type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  RaftPersistedState,
  RaftRole,
  ReadState,
  Snapshot,
  SnapshotMeta,
} from './types.js'
