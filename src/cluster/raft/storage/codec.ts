import type { Entry, EntryType, HardState, Snapshot, SnapshotMeta } from '../core/types.js'

const TYPES: EntryType[] = ['normal', 'confChange', 'empty']

/** Entry record payload: u8 type, f64 index, f64 term, data. */
export function encodeEntry(e: Entry): Buffer {
  const out = Buffer.allocUnsafe(17 + e.data.byteLength)
  out.writeUInt8(TYPES.indexOf(e.type), 0)
  out.writeDoubleLE(e.index, 1)
  out.writeDoubleLE(e.term, 9)
  out.set(e.data, 17)
  return out
}

/** Reads an entry record payload. */
export function decodeEntry(p: Buffer): Entry {
  const type = TYPES[p.readUInt8(0)]
  if (!type || p.byteLength < 17) throw new Error('bad entry record')
  return { type, index: p.readDoubleLE(1), term: p.readDoubleLE(9), data: new Uint8Array(p.subarray(17)) }
}

/** Hard state file payload: JSON. */
export function encodeHardState(hs: HardState): Buffer {
  return Buffer.from(JSON.stringify({ term: hs.term, vote: hs.vote ?? null, commit: hs.commit }))
}

/** Reads a hard state payload. */
export function decodeHardState(p: Buffer): HardState {
  const v = JSON.parse(p.toString('utf8')) as { term: number; vote: string | null; commit: number }
  if (typeof v.term !== 'number' || typeof v.commit !== 'number') throw new Error('bad hard state')
  return { term: v.term, vote: v.vote ?? undefined, commit: v.commit }
}

/** Snapshot payload: u32 meta length, meta JSON, data. */
export function encodeSnapshot(s: Snapshot): Buffer {
  const meta = Buffer.from(JSON.stringify(s.meta))
  const out = Buffer.allocUnsafe(4 + meta.byteLength + s.data.byteLength)
  out.writeUInt32LE(meta.byteLength, 0)
  out.set(meta, 4)
  out.set(s.data, 4 + meta.byteLength)
  return out
}

/** Reads a snapshot payload. */
export function decodeSnapshot(p: Buffer): Snapshot {
  const len = p.readUInt32LE(0)
  const meta = JSON.parse(p.subarray(4, 4 + len).toString('utf8')) as SnapshotMeta
  return { meta, data: new Uint8Array(p.subarray(4 + len)) }
}
