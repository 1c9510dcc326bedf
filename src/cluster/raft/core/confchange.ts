import type { ConfState } from './types.js'

/**
 * A single-server membership change. `addVoter` on a learner promotes it.
 * @public
 */
export interface ConfChange {
  /** Add (or promote) a voter, add a learner, or remove a member. */
  type: 'addVoter' | 'addLearner' | 'remove'
  /** Id of the node the change applies to. */
  node: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Encodes a membership change as entry data. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(cc))
}

/** Decodes entry data written by {@link encodeConfChange}. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const v = JSON.parse(decoder.decode(data)) as Partial<ConfChange>
  if ((v.type !== 'addVoter' && v.type !== 'addLearner' && v.type !== 'remove') || typeof v.node !== 'string') {
    throw new Error('raft: malformed conf change entry')
  }
  return { type: v.type, node: v.node }
}

/**
 * The membership after `cc`, or an error saying why the change is refused. Deterministic, so every
 * node applying the same entry reaches the same membership.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState | Error {
  const voters = cs.voters.filter((v) => v !== cc.node)
  const learners = cs.learners.filter((v) => v !== cc.node)
  switch (cc.type) {
    case 'addVoter':
      voters.push(cc.node)
      break
    case 'addLearner':
      if (cs.voters.includes(cc.node)) return new Error(`raft: ${cc.node} is a voter; demotion is not supported`)
      learners.push(cc.node)
      break
    case 'remove':
      if (!cs.voters.includes(cc.node) && !cs.learners.includes(cc.node)) return new Error(`raft: ${cc.node} is not a member`)
      break
  }
  if (voters.length === 0) return new Error('raft: a membership needs at least one voter')
  voters.sort()
  learners.sort()
  return { voters, learners }
}
