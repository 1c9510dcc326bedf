// State benchmark: changes applied per second (memory; LMDB file with fsync) against the bare storage append of
// the same entries as a baseline, and the time to restore a snapshot of 10 000 resources.
// Run: npm run bench:state   (targets on a 2-core machine: >= 20 000/s memory, >= 2 000/s file, restore < 500 ms)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGateway, FileStorage, MemoryStorage, type Gateway, type Storage } from '../../src/index.js'
import type { LogEntry } from '../../src/state/change.js'
import { encodeSnapshot } from '../../src/state/codec.js'
import { GatewayState } from '../../src/state/state.js'

const CHANGES = Number(process.env.CHANGES ?? 20_000)
const IN_FLIGHT = 64
const NAMESPACES = 20

/** The workload: a service and a route using it, spread over namespaces, `count` changes in all. */
function* workload(count: number) {
  for (let i = 0; i < count / 2; i++) {
    const namespace = `ns${i % NAMESPACES}`
    yield (gw: Gateway) => gw.services.put({ name: `svc${i}`, namespace, urls: [`http://127.0.0.1:${3000 + (i % 100)}`], requestTimeout: '5s' })
    yield (gw: Gateway) => gw.routes.put({ name: `route${i}`, namespace, paths: [`/r${i}/{id}`, `/r${i}/*`], methods: ['GET', 'POST'], service: `svc${i}`, stripPath: true })
  }
}

async function applyRate(storage: Storage): Promise<{ perSecond: number; entries: LogEntry[] }> {
  const gw = await createGateway({ storage, resources: { namespaces: Array.from({ length: NAMESPACES }, (_, i) => ({ name: `ns${i}` })) } })
  const entries: LogEntry[] = []
  gw.cluster.on('applied', (entry) => entries.push(entry))
  const started = process.hrtime.bigint()
  const jobs = workload(CHANGES)
  // Keep IN_FLIGHT writers busy, each awaiting its own write, like concurrent admin clients.
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let job = jobs.next(); !job.done; job = jobs.next()) await job.value(gw)
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await gw.close()
  return { perSecond: CHANGES / seconds, entries }
}

/** Baseline: the same entries appended to the same kind of storage, in the same batch sizes, with no state. */
async function appendRate(storage: Storage, applied: LogEntry[]): Promise<number> {
  const entries = applied.map((entry, i) => ({ ...entry, index: i + 1 }))
  await storage.load()
  const started = process.hrtime.bigint()
  for (let i = 0; i < entries.length; i += IN_FLIGHT) await storage.append(entries.slice(i, i + IN_FLIGHT))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await storage.close()
  return entries.length / seconds
}

function row(label: string, value: string, note = ''): void {
  console.log(`${label.padEnd(44)} ${value.padStart(14)}  ${note}`)
}

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dgate-bench-'))
  dirs.push(dir)
  return dir
}

try {
  console.log(`dgate bench/state: ${CHANGES} changes, ${IN_FLIGHT} writers in flight, ${NAMESPACES} namespaces; node ${process.version}\n`)
  const memory = await applyRate(new MemoryStorage())
  const memoryBase = await appendRate(new MemoryStorage(), memory.entries)
  row('memory: changes applied/s', memory.perSecond.toFixed(0), `target >= 20000: ${memory.perSecond >= 20_000 ? 'met' : 'MISSED'}`)
  row('memory: bare log append/s (baseline)', memoryBase.toFixed(0), `gateway/baseline ${(memory.perSecond / memoryBase).toFixed(3)}`)

  const file = await applyRate(new FileStorage(tempDir()))
  const fileBase = await appendRate(new FileStorage(tempDir()), file.entries)
  row('file (LMDB, fsync): changes applied/s', file.perSecond.toFixed(0), `target >= 2000: ${file.perSecond >= 2_000 ? 'met' : 'MISSED'}`)
  row('file (LMDB, fsync): bare log append/s (baseline)', fileBase.toFixed(0), `gateway/baseline ${(file.perSecond / fileBase).toFixed(3)}`)

  // Restore: a snapshot of 10 000 resources (5 000 services + 5 000 routes over 20 namespaces).
  const dir = tempDir()
  const seeded = await createGateway({ storage: { dir }, snapshotEvery: 1_000_000 })
  for (let i = 0; i < NAMESPACES; i++) await seeded.namespaces.put({ name: `ns${i}` })
  const jobs = [...workload(10_000)]
  for (let i = 0; i < jobs.length; i += IN_FLIGHT) await Promise.all(jobs.slice(i, i + IN_FLIGHT).map((job) => job(seeded)))
  const bytes = encodeSnapshot(seeded.snapshot, seeded.snapshot.version)
  await seeded.close()
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const state = new GatewayState()
    const t = process.hrtime.bigint()
    state.restore(bytes)
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  const restoreMs = Math.min(...times)
  row('restore snapshot of 10 000 resources (ms)', restoreMs.toFixed(1), `${(bytes.byteLength / 1e6).toFixed(1)} MB; target < 500: ${restoreMs < 500 ? 'met' : 'MISSED'}`)

  // Restart from the file: load the log of 10 020 entries and replay it (no snapshot yet), then from a snapshot.
  let t = process.hrtime.bigint()
  const replayed = await createGateway({ storage: { dir }, snapshotEvery: 1 })
  row('restart by replaying 10 020 log entries (ms)', (Number(process.hrtime.bigint() - t) / 1e6).toFixed(1))
  await replayed.namespaces.put({ name: 'compact-now' }) // snapshotEvery 1: this write snapshots and drops the log
  await replayed.close()
  t = process.hrtime.bigint()
  const restored = await createGateway({ storage: { dir } })
  row('restart from a snapshot of 10 000 resources (ms)', (Number(process.hrtime.bigint() - t) / 1e6).toFixed(1), `${restored.snapshot.list('route').length} routes`)
  await restored.close()
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
