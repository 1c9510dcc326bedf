import type { Change } from '../../state/change.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Entry data of a gateway change: JSON of the change plus a proposal id, so the node that proposed
 * it (possibly a follower that forwarded it) recognizes its own entry when applying it.
 */
export function encodeProposal(id: string, change: Change): Uint8Array {
  return encoder.encode(JSON.stringify({ id, change }))
}

/** Reads entry data written by {@link encodeProposal}. */
export function decodeProposal(data: Uint8Array): { id: string; change: Change } {
  const v = JSON.parse(decoder.decode(data)) as { id?: unknown; change?: unknown }
  if (typeof v.id !== 'string' || typeof v.change !== 'object' || v.change === null) throw new Error('raft: malformed change entry')
  return { id: v.id, change: v.change as Change }
}
