import type { Random } from './prng.js'

/**
 * Tuning of one Raft core. Times are in ticks: the driver decides how long a tick is.
 * @public
 */
export interface RaftConfig {
  /** This node's id. */
  id: string
  /** Source of randomness for election timeouts (seeded in simulation). */
  random: Random
  /** Ticks without a leader before campaigning; randomized in [electionTick, 2·electionTick). Default 10. */
  electionTick?: number
  /** Ticks between leader heartbeats. Default 1. */
  heartbeatTick?: number
  /** Ask whether an election would be won before raising the term. Default true. */
  preVote?: boolean
  /** Leader steps down without quorum contact; followers ignore votes while a leader is live. Default true. */
  checkQuorum?: boolean
  /** Most entries in one AppendEntries. Default 64. */
  maxMsgEntries?: number
  /** Most entry bytes in one AppendEntries (at least one entry is always sent). Default 1 MiB. */
  maxMsgBytes?: number
  /** Most unacknowledged AppendEntries per follower in replicate state. Default 64. */
  maxInflightMsgs?: number
  /** Most unacknowledged entry bytes per follower. Default 8 MiB. */
  maxInflightBytes?: number
  /** Bytes per InstallSnapshot chunk. Default 256 KiB. */
  snapshotChunkBytes?: number
  /** Most committed entries handed out in one Ready. Default 1024. */
  maxApplyEntries?: number
}

/** A config with every default filled in. */
export type ResolvedRaftConfig = Required<RaftConfig>

/** Fills defaults and validates. */
export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const r: ResolvedRaftConfig = {
    electionTick: 10,
    heartbeatTick: 1,
    preVote: true,
    checkQuorum: true,
    maxMsgEntries: 64,
    maxMsgBytes: 1 << 20,
    maxInflightMsgs: 64,
    maxInflightBytes: 8 << 20,
    snapshotChunkBytes: 256 << 10,
    maxApplyEntries: 1024,
    ...c,
  }
  if (r.heartbeatTick < 1 || r.electionTick <= r.heartbeatTick) {
    throw new Error('raft config: electionTick must be greater than heartbeatTick >= 1')
  }
  if (!r.id) throw new Error('raft config: id is required')
  return r
}
