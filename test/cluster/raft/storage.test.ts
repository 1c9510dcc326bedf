import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Entry, Snapshot } from '../../../src/cluster/raft/core/types.js'
import { FileRaftStorage } from '../../../src/cluster/raft/storage/file.js'
import { RaftStorageCorruptError } from '../../../src/cluster/raft/storage/frame.js'
import { MemoryRaftStorage } from '../../../src/cluster/raft/storage/memory.js'
import { ent, text } from './harness.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})
/** A closed file log of entries 1–3 (term 1) in one segment: its directory and the segment's path. */
async function threeEntryLog(): Promise<{ dir: string; path: string }> {
  const dir = await tempDir()
  const s = new FileRaftStorage(dir)
  await s.load()
  await s.append(entries(1, 3, 1), undefined, { sync: true })
  await s.close()
  const [seg] = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
  return { dir, path: join(dir, seg ?? '') }
}

/** XORs one byte of a file with `mask` (a negative offset counts from the end). */
async function flipByte(path: string, offset: number, mask: number): Promise<void> {
  const buf = await readFile(path)
  const at = offset < 0 ? buf.byteLength + offset : offset
  buf[at] = (buf[at] ?? 0) ^ mask
  await writeFile(path, buf)
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'dgate-raft-storage-'))
  dirs.push(d)
  return d
}
const shape = (es: Entry[]): string[] => es.map((e) => `${e.index}/${e.term}:${text(e.data)}`)
const entries = (from: number, to: number, term: number, tag = 'v'): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ent(from + i, term, `${tag}${from + i}`))
const snapshot = (index: number, term: number, data = 'state'): Snapshot => ({
  meta: { index, term, confState: { voters: ['a', 'b'], learners: ['c'] } },
  data: new TextEncoder().encode(data),
})

describe('MemoryRaftStorage', () => {
  it('a crash forgets writes that were not synced, and keeps those that were', async () => {
    const s = new MemoryRaftStorage()
    await s.append(entries(1, 3, 1), { term: 1, vote: 'a', commit: 0 }, { sync: true })
    await s.append(entries(4, 5, 1), { term: 1, vote: 'a', commit: 3 }, { sync: false })
    expect(shape((await s.load()).entries)).toHaveLength(5)
    s.crash()
    const after = await s.load()
    expect(shape(after.entries)).toEqual(shape(entries(1, 3, 1)))
    expect(after.hardState).toEqual({ term: 1, vote: 'a', commit: 0 })
  })

  it('an unsynced truncation is undone by a crash', async () => {
    const s = new MemoryRaftStorage()
    await s.append(entries(1, 4, 1), undefined, { sync: true })
    await s.append(entries(3, 3, 2, 'new'), undefined, { sync: false })
    expect(shape((await s.load()).entries)).toEqual([...shape(entries(1, 2, 1)), '3/2:new3'])
    s.crash()
    expect(shape((await s.load()).entries)).toEqual(shape(entries(1, 4, 1)))
  })
})

describe('FileRaftStorage', () => {
  it('round-trips entries, hard state and snapshot across a reopen', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir)
    expect(await s.load()).toEqual({ hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] })
    await s.append(entries(1, 5, 1), { term: 2, vote: 'b', commit: 4 }, { sync: true })
    await s.saveSnapshot(snapshot(3, 1))
    await s.close()
    const again = await new FileRaftStorage(dir).load()
    expect(shape(again.entries)).toEqual(shape(entries(1, 5, 1)))
    expect(again.hardState).toEqual({ term: 2, vote: 'b', commit: 4 })
    expect(again.snapshot?.meta).toEqual(snapshot(3, 1).meta)
    expect(text(again.snapshot?.data ?? new Uint8Array())).toBe('state')
  })

  it('appending at an existing index truncates the log there', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir, { segmentBytes: 100 })
    await s.load()
    await s.append(entries(1, 10, 1), undefined, { sync: true })
    await s.append(entries(4, 5, 2, 'x'), undefined, { sync: true })
    await s.close()
    const got = (await new FileRaftStorage(dir).load()).entries
    expect(shape(got)).toEqual([...shape(entries(1, 3, 1)), '4/2:x4', '5/2:x5'])
  })

  it('rolls segments and compaction removes whole segments before the snapshot', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir, { segmentBytes: 120 })
    await s.load()
    for (let i = 1; i <= 30; i += 3) await s.append(entries(i, i + 2, 1), undefined, { sync: true })
    const before = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
    expect(before.length).toBeGreaterThan(3)
    await s.saveSnapshot(snapshot(20, 1))
    await s.compact(18)
    const after = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
    expect(after.length).toBeLessThan(before.length)
    await s.close()
    const got = (await new FileRaftStorage(dir).load()).entries
    expect(got[0]?.index).toBeLessThanOrEqual(18)
    expect(got.at(-1)?.index).toBe(30)
  })

  it('a snapshot that the log does not contain replaces the log', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir)
    await s.load()
    await s.append(entries(1, 5, 1), undefined, { sync: true })
    await s.saveSnapshot(snapshot(8, 3))
    await s.append(entries(9, 10, 3), undefined, { sync: true })
    await s.close()
    const got = await new FileRaftStorage(dir).load()
    expect(shape(got.entries)).toEqual(shape(entries(9, 10, 3)))
    expect(got.snapshot?.meta.index).toBe(8)
    expect(got.hardState.commit).toBe(8)
  })

  it('cuts a torn last record (a crash mid-write) and keeps everything before it', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir)
    await s.load()
    await s.append(entries(1, 4, 1), { term: 1, vote: 'a', commit: 0 }, { sync: true })
    await s.close()
    const [seg] = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
    const path = join(dir, seg ?? '')
    const full = (await stat(path)).size
    // Half a record: a length header promising more bytes than were written.
    const torn = Buffer.alloc(12)
    torn.writeUInt32LE(200, 0)
    await appendFile(path, torn)
    const got = await new FileRaftStorage(dir).load()
    expect(shape(got.entries)).toEqual(shape(entries(1, 4, 1)))
    expect((await stat(path)).size).toBe(full)
  })

  it('cuts a last record whose CRC fails, and the log keeps working', async () => {
    const { dir, path } = await threeEntryLog()
    await flipByte(path, -1, 0xff)
    const reopened = new FileRaftStorage(dir)
    expect(shape((await reopened.load()).entries)).toEqual(shape(entries(1, 2, 1)))
    await reopened.append(entries(3, 4, 2, 'again'), undefined, { sync: true })
    await reopened.close()
    expect(shape((await new FileRaftStorage(dir).load()).entries)).toEqual([...shape(entries(1, 2, 1)), '3/2:again3', '4/2:again4'])
  })

  it('refuses to load when a record before the tail is corrupt, naming the file and offset', async () => {
    const { dir, path } = await threeEntryLog()
    // A payload byte of the first record (the header is 8 bytes).
    await flipByte(path, 10, 0x01)
    const err = await new FileRaftStorage(dir).load().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RaftStorageCorruptError)
    expect((err as RaftStorageCorruptError).message).toBe(`raft storage: ${path} is corrupt at offset 0: CRC mismatch`)
  })

  it('refuses a corrupt record in a sealed segment even at that segment end', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir, { segmentBytes: 60 })
    await s.load()
    for (let i = 1; i <= 6; i++) await s.append(entries(i, i, 1), undefined, { sync: true })
    await s.close()
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort()
    expect(segs.length).toBeGreaterThan(1)
    const path = join(dir, segs[0] ?? '')
    const buf = await readFile(path)
    buf[buf.byteLength - 1] = (buf[buf.byteLength - 1] ?? 0) ^ 0xff
    await writeFile(path, buf)
    await expect(new FileRaftStorage(dir).load()).rejects.toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt at offset \\d+: CRC mismatch`))
  })

  it('refuses a damaged hard state file', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir)
    await s.load()
    await s.append([], { term: 3, vote: 'a', commit: 0 }, { sync: true })
    await s.close()
    const path = join(dir, 'hardstate.json')
    const buf = await readFile(path)
    buf[buf.byteLength - 2] = 0x21
    await writeFile(path, buf)
    await expect(new FileRaftStorage(dir).load()).rejects.toThrow(`raft storage: ${path} is corrupt at offset 0`)
  })

  it('writes term and vote through before append resolves with sync', async () => {
    const dir = await tempDir()
    const s = new FileRaftStorage(dir)
    await s.load()
    await s.append([], { term: 7, vote: 'c', commit: 0 }, { sync: true })
    // No close: what a crash right now would leave.
    const got = await new FileRaftStorage(dir).load()
    expect(got.hardState).toEqual({ term: 7, vote: 'c', commit: 0 })
    await s.close()
  })
})
