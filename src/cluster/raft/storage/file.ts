import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Entry, HardState, RaftPersistedState, Snapshot } from '../core/types.js'
import { syncDir, writeFileAtomic } from './atomic.js'
import { decodeEntry, decodeHardState, decodeSnapshot, encodeEntry, encodeHardState, encodeSnapshot } from './codec.js'
import { frame, readFrame, RaftStorageCorruptError } from './frame.js'
import type { RaftStorage } from './types.js'

/**
 * Options of {@link FileRaftStorage}.
 * @public
 */
export interface FileRaftStorageOptions {
  /** Start a new segment file once the current one exceeds this size. Default 16 MiB. */
  segmentBytes?: number
}

interface Segment {
  first: number
  path: string
  /** Byte offset and term of each record, by index - first. */
  offsets: number[]
  terms: number[]
  size: number
}

const HARD_STATE = 'hardstate.json'
const SNAPSHOT = 'snapshot.bin'
const SEGMENT = /^log-(\d{16})\.seg$/

function segmentName(first: number): string {
  return `log-${String(first).padStart(16, '0')}.seg`
}

/**
 * {@link RaftStorage} in a directory: append-only log segments of length + CRC-32 framed records,
 * and hard state and snapshot files replaced atomically.
 *
 * @remarks
 * On load, a record cut short (or failing its CRC) at the very end of the last segment is the
 * trace of a crash mid-write and is truncated away; damage anywhere else throws
 * {@link RaftStorageCorruptError} naming the file and offset. After any I/O error the store
 * refuses further use (fail closed: a failed fsync cannot be retried safely).
 *
 * Term and vote are written (and fsynced) whenever they change; a commit index that changes alone
 * is written with the next term or vote change, snapshot, or close, since a lost commit index is
 * recovered from the leader.
 *
 * @public
 */
export class FileRaftStorage implements RaftStorage {
  private segments: Segment[] = []
  private tail: FileHandle | undefined
  private tailDirty = false
  private hardState: HardState = { term: 0, vote: undefined, commit: 0 }
  private writtenHardState: HardState = { term: 0, vote: undefined, commit: 0 }
  private snapshotIndex = 0
  private failed: Error | undefined
  private readonly segmentBytes: number

  constructor(
    /** The directory holding the segments, `hardstate.json` and `snapshot.bin`; created on load. */
    readonly dir: string,
    opts: FileRaftStorageOptions = {},
  ) {
    this.segmentBytes = opts.segmentBytes ?? 16 << 20
  }

  /**
   * Reads the hard state, snapshot and segments, truncating a torn record at the end of the last segment.
   * @throws {@link RaftStorageCorruptError} on damage a crash cannot explain.
   */
  async load(): Promise<RaftPersistedState> {
    return this.guard(async () => {
      await mkdir(this.dir, { recursive: true })
      this.hardState = await this.loadHardState()
      this.writtenHardState = { ...this.hardState }
      const snapshot = await this.loadSnapshot()
      this.snapshotIndex = snapshot?.meta.index ?? 0
      const entries = await this.loadSegments()
      return { hardState: { ...this.hardState }, snapshot, entries }
    })
  }

  /**
   * Truncates stored entries from `entries[0].index`, appends `entries` and keeps `hardState`; with `sync`,
   * fdatasyncs the segment and writes the hard state file if term or vote changed.
   */
  async append(entries: Entry[], hardState: HardState | undefined, opts: { sync: boolean }): Promise<void> {
    return this.guard(async () => {
      const first = entries[0]
      if (first) {
        await this.truncateFrom(first.index)
        await this.writeEntries(entries)
      }
      if (hardState) this.hardState = { ...hardState }
      if (opts.sync) await this.sync()
    })
  }

  /**
   * Atomically replaces the snapshot file, drops every segment if the log does not hold the snapshot's last
   * entry, and writes the hard state (commit raised to the snapshot index).
   */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.guard(async () => {
      await writeFileAtomic(join(this.dir, SNAPSHOT), frame(encodeSnapshot(snapshot)))
      this.snapshotIndex = snapshot.meta.index
      if (this.termAt(snapshot.meta.index) !== snapshot.meta.term) {
        // The snapshot replaces a log that does not contain it.
        await this.dropSegments(this.segments)
      }
      if (this.hardState.commit < snapshot.meta.index) this.hardState = { ...this.hardState, commit: snapshot.meta.index }
      await this.writeHardState()
    })
  }

  /** Deletes whole segments whose entries all precede `index` (capped at snapshot index + 1); the last segment always stays. */
  async compact(index: number): Promise<void> {
    return this.guard(async () => {
      const upTo = Math.min(index, this.snapshotIndex + 1)
      // Whole segments only: a segment goes once its last entry precedes `upTo` and another follows it.
      const dead = this.segments.filter((s, i) => i < this.segments.length - 1 && s.first + s.offsets.length - 1 < upTo)
      await this.dropSegments(dead)
    })
  }

  /** Syncs the tail segment, writes any unwritten hard state (such as a newer commit index) and closes the file (after an I/O failure, only closes it). */
  async close(): Promise<void> {
    if (this.failed) {
      await this.tail?.close().catch(() => undefined)
      this.tail = undefined
      return
    }
    await this.guard(async () => {
      await this.sync()
      if (!sameHardState(this.hardState, this.writtenHardState)) await this.writeHardState()
      await this.tail?.close()
      this.tail = undefined
    })
  }

  // ------------------------------------------------------------------ loading

  private async loadHardState(): Promise<HardState> {
    const path = join(this.dir, HARD_STATE)
    const buf = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (!buf) return { term: 0, vote: undefined, commit: 0 }
    const r = readFrame(buf, 0)
    if (r.kind !== 'ok' || r.next !== buf.byteLength) throw new RaftStorageCorruptError(path, 0, 'hard state frame is damaged')
    return decodeHardState(r.payload)
  }

  private async loadSnapshot(): Promise<Snapshot | undefined> {
    const path = join(this.dir, SNAPSHOT)
    const buf = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (!buf) return undefined
    const r = readFrame(buf, 0)
    if (r.kind !== 'ok' || r.next !== buf.byteLength) throw new RaftStorageCorruptError(path, 0, 'snapshot frame is damaged')
    return decodeSnapshot(r.payload)
  }

  private async loadSegments(): Promise<Entry[]> {
    const names = (await readdir(this.dir)).filter((n) => SEGMENT.test(n)).sort()
    const entries: Entry[] = []
    this.segments = []
    for (let s = 0; s < names.length; s++) {
      const name = names[s] ?? ''
      const path = join(this.dir, name)
      const buf = await readFile(path)
      const seg: Segment = { first: Number(SEGMENT.exec(name)?.[1]), path, offsets: [], terms: [], size: 0 }
      const isLast = s === names.length - 1
      let offset = 0
      while (offset < buf.byteLength) {
        const r = readFrame(buf, offset)
        const atTail = isLast && (r.kind === 'short' || r.next === buf.byteLength)
        if (r.kind !== 'ok') {
          if (!atTail) throw new RaftStorageCorruptError(path, offset, r.kind === 'short' ? 'record runs past the end of a sealed segment' : 'CRC mismatch')
          // A record torn by a crash mid-write: cut it, it was never acknowledged.
          const fh = await open(path, 'r+')
          await fh.truncate(offset)
          await fh.sync()
          await fh.close()
          break
        }
        const e = decodeEntry(r.payload)
        const expected = seg.first + seg.offsets.length
        if (e.index !== expected) throw new RaftStorageCorruptError(path, offset, `entry ${e.index} where ${expected} was expected`)
        const prev = entries[entries.length - 1]
        if (prev && prev.index + 1 !== e.index) throw new RaftStorageCorruptError(path, offset, `gap after entry ${prev.index}`)
        seg.offsets.push(offset)
        seg.terms.push(e.term)
        entries.push(e)
        offset = r.next
      }
      seg.size = offset
      if (seg.offsets.length > 0 || isLast) this.segments.push(seg)
      else await rm(path)
    }
    return entries
  }

  // ------------------------------------------------------------------ writing

  private lastIndex(): number {
    const s = this.segments[this.segments.length - 1]
    return s ? s.first + s.offsets.length - 1 : 0
  }

  private termAt(index: number): number | undefined {
    for (const s of this.segments) {
      if (index >= s.first && index < s.first + s.offsets.length) return s.terms[index - s.first]
    }
    return undefined
  }

  /** Drops stored entries at or after `index`. */
  private async truncateFrom(index: number): Promise<void> {
    if (index > this.lastIndex()) return
    const keep: Segment[] = []
    const dead: Segment[] = []
    for (const s of this.segments) (s.first >= index ? dead : keep).push(s)
    await this.dropSegments(dead)
    const last = keep[keep.length - 1]
    if (last && index < last.first + last.offsets.length) {
      const at = last.offsets[index - last.first] ?? last.size
      const fh = await this.tailHandle(last)
      await fh.truncate(at)
      last.offsets.length = index - last.first
      last.terms.length = index - last.first
      last.size = at
      this.tailDirty = true
    }
  }

  private async writeEntries(entries: Entry[]): Promise<void> {
    const first = entries[0]
    if (!first) return
    let seg = this.segments[this.segments.length - 1]
    const last = this.lastIndex()
    if (seg && seg.offsets.length > 0 && first.index !== last + 1) throw new Error(`raft storage: appending ${first.index} after ${last}`)
    if (!seg || seg.size >= this.segmentBytes || (seg.offsets.length === 0 && seg.first !== first.index)) {
      if (seg && seg.offsets.length === 0) await this.dropSegments([seg])
      seg = await this.newSegment(first.index)
    }
    const frames: Buffer[] = []
    let at = seg.size
    for (const e of entries) {
      const f = frame(encodeEntry(e))
      seg.offsets.push(at)
      seg.terms.push(e.term)
      at += f.byteLength
      frames.push(f)
    }
    const buf = Buffer.concat(frames)
    const fh = await this.tailHandle(seg)
    await fh.write(buf, 0, buf.byteLength, seg.size)
    seg.size = at
    this.tailDirty = true
  }

  private async newSegment(first: number): Promise<Segment> {
    await this.flushTail()
    await this.tail?.close()
    this.tail = undefined
    const path = join(this.dir, segmentName(first))
    const fh = await open(path, 'w+')
    this.tail = fh
    this.tailPath = path
    await syncDir(this.dir)
    const seg: Segment = { first, path, offsets: [], terms: [], size: 0 }
    this.segments.push(seg)
    return seg
  }

  private tailPath: string | undefined

  private async tailHandle(seg: Segment): Promise<FileHandle> {
    if (this.tail && this.tailPath === seg.path) return this.tail
    await this.flushTail()
    await this.tail?.close()
    this.tail = await open(seg.path, 'r+')
    this.tailPath = seg.path
    return this.tail
  }

  private async flushTail(): Promise<void> {
    if (this.tail && this.tailDirty) await this.tail.datasync()
    this.tailDirty = false
  }

  private async sync(): Promise<void> {
    await this.flushTail()
    const hs = this.hardState
    const w = this.writtenHardState
    if (hs.term !== w.term || hs.vote !== w.vote) await this.writeHardState()
  }

  private async writeHardState(): Promise<void> {
    await writeFileAtomic(join(this.dir, HARD_STATE), frame(encodeHardState(this.hardState)))
    this.writtenHardState = { ...this.hardState }
  }

  private async dropSegments(dead: Segment[]): Promise<void> {
    if (dead.length === 0) return
    for (const s of dead) {
      if (this.tailPath === s.path) {
        await this.tail?.close()
        this.tail = undefined
        this.tailPath = undefined
        this.tailDirty = false
      }
      await rm(s.path, { force: true })
    }
    this.segments = this.segments.filter((s) => !dead.includes(s))
    await syncDir(this.dir)
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.failed) throw this.failed
    try {
      return await fn()
    } catch (e) {
      this.failed = e instanceof Error ? e : new Error(String(e))
      throw this.failed
    }
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}
