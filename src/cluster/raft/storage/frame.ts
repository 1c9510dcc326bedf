import { crc32 } from 'node:zlib'

/** Bytes before each record's payload: u32 length, u32 CRC-32 of the payload (little endian). */
export const FRAME_HEADER = 8

/** Wraps a payload in a length + CRC frame. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.byteLength)
  out.writeUInt32LE(payload.byteLength, 0)
  out.writeUInt32LE(crc32(payload), 4)
  out.set(payload, FRAME_HEADER)
  return out
}

/** The result of reading one frame at an offset. */
export type FrameRead =
  | { kind: 'ok'; payload: Buffer; next: number }
  /** Fewer bytes than the frame claims: a write that did not finish. */
  | { kind: 'short' }
  | { kind: 'badCrc'; next: number }

/** Reads the frame starting at `offset`. */
export function readFrame(buf: Buffer, offset: number): FrameRead {
  if (buf.byteLength - offset < FRAME_HEADER) return { kind: 'short' }
  const len = buf.readUInt32LE(offset)
  const sum = buf.readUInt32LE(offset + 4)
  const end = offset + FRAME_HEADER + len
  if (end > buf.byteLength) return { kind: 'short' }
  const payload = buf.subarray(offset + FRAME_HEADER, end)
  if (len === 0 || crc32(payload) !== sum) return { kind: 'badCrc', next: end }
  return { kind: 'ok', payload, next: end }
}

/**
 * Thrown when stored data is damaged somewhere a crash cannot explain.
 * @public
 */
export class RaftStorageCorruptError extends Error {
  /** Always `'RaftStorageCorruptError'`. */
  override readonly name = 'RaftStorageCorruptError'
  constructor(
    /** Path of the damaged file. */
    readonly file: string,
    /** Byte offset in `file` of the damaged record (0 for the hard state and snapshot files). */
    readonly offset: number,
    reason: string,
  ) {
    super(`raft storage: ${file} is corrupt at offset ${offset}: ${reason}`)
  }
}
