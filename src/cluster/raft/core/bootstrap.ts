import { encodeConfChange } from './confchange.js'
import type { Entry, HardState } from './types.js'

/**
 * The identical initial log every founding member writes before its first start: one committed
 * membership entry per voter at term 1 (etcd's approach). Because membership lives in the log, a
 * node that joins later learns the founding membership by replication like any other entry.
 *
 * @public
 */
export function bootstrapLog(voters: readonly string[]): { entries: Entry[]; hardState: HardState } {
  if (voters.length === 0) throw new Error('raft bootstrap: at least one voter is required')
  const sorted = [...new Set(voters)].sort()
  const entries: Entry[] = sorted.map((node, i) => ({ index: i + 1, term: 1, type: 'confChange', data: encodeConfChange({ type: 'addVoter', node }) }))
  return { entries, hardState: { term: 1, vote: undefined, commit: entries.length } }
}
