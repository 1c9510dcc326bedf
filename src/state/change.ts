import type { ResourceKind, ResourceOf } from '../resources/kinds.js'

/**
 * A change to the gateway's state: the only way state is ever modified.
 *
 * @remarks
 * Every write (API call, admin REST, config file, module `dgate/state` call) becomes a change,
 * is committed to the log (locally or through the cluster) and then applied in the same order
 * on every node. `item` holds the normalized resource for `put`; it is absent for `delete`.
 * For documents, `name` is the document id and `collection` names its collection. With `expectedVersion` the
 * change is refused (PreconditionFailedError, 412) unless the resource exists at exactly that version (the log
 * index of the change that last wrote it); the check runs against the state the change is applied to.
 *
 * @public
 */
export type Change = {
  [K in ResourceKind]:
    | { kind: K; op: 'put'; namespace: string; name: string; collection?: string; item: ResourceOf<K>; expectedVersion?: number }
    | { kind: K; op: 'delete'; namespace: string; name: string; collection?: string; expectedVersion?: number }
}[ResourceKind]

/**
 * A committed change with its position in the log. The index is the state version the change produces.
 * @public
 */
export interface LogEntry {
  /** Position in the log, from 1 and strictly increasing. */
  index: number
  /** The committed change. */
  change: Change
}
