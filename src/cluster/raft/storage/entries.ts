import type { Entry, Snapshot } from '../core/types.js'

/**
 * Appends `ents` to a contiguous entry list, truncating the list at `ents[0].index` first.
 * Mutates and returns `list`.
 */
export function appendWithTruncation(list: Entry[], ents: Entry[]): Entry[] {
  const first = ents[0]
  if (!first) return list
  const offset = list[0]?.index ?? first.index
  const keep = first.index - offset
  if (keep < 0) {
    list.length = 0
  } else if (keep > list.length) {
    throw new Error(`raft storage: appending ${first.index} leaves a gap after ${offset + list.length - 1}`)
  } else {
    list.length = keep
  }
  for (const e of ents) list.push(e)
  return list
}

/** Whether `list` holds the snapshot's last entry with the snapshot's term. */
export function coversSnapshot(list: readonly Entry[], s: Snapshot): boolean {
  const offset = list[0]?.index
  if (offset === undefined) return false
  return list[s.meta.index - offset]?.term === s.meta.term
}

/** Entries of `list` from `index` on (never dropping entries after the snapshot). */
export function dropBefore(list: Entry[], index: number, snapshotIndex: number): Entry[] {
  const upTo = Math.min(index, snapshotIndex + 1)
  const offset = list[0]?.index
  if (offset === undefined || upTo <= offset) return list
  return list.slice(upTo - offset)
}
