// Cluster adapters for dgate.
export { standalone } from './standalone.js'
export type { StandaloneOptions } from './standalone.js'
export type { ClusterAdapter, ClusterStatus, ClusterMember, ClusterRole, ClusterEvents, StateMachine, ApplyResult } from './adapter.js'
export type { Change, LogEntry } from '../state/change.js'
export type { ResourceKind, ResourceOf, ResourceTypes } from '../resources/kinds.js'
export * from './raft/index.js'
