// The Raft cluster adapter: driver, storage, transports and the pure core.
export { RaftCluster, raftCluster, type RaftClusterOptions } from './driver.js'
export type { RaftStorage } from './storage/types.js'
export { MemoryRaftStorage } from './storage/memory.js'
export { FileRaftStorage, type FileRaftStorageOptions } from './storage/file.js'
export { RaftStorageCorruptError } from './storage/frame.js'
export type { RaftTransport } from './transport/types.js'
export { MemoryNetwork, MemoryTransport } from './transport/memory.js'
export * from './core/index.js'
