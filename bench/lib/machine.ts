// How busy the machine is apart from the benchmark. Benchmarks here share a small box with other work (test runs,
// builds); measuring system-wide CPU while the benchmark's own processes sit idle shows how noisy a run was.
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

interface CpuTimes {
  busy: number
  total: number
}

/** System-wide CPU time from /proc/stat (Linux), in clock ticks; undefined elsewhere. */
function cpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    // cpu user nice system idle iowait irq softirq steal ...
    const ticks = line.trim().split(/\s+/).slice(1).map(Number)
    const total = ticks.reduce((sum, n) => sum + n, 0)
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

/**
 * Waits `ms` and returns the share of all CPUs (0..1) that was busy meanwhile. Call it while the benchmark's own
 * processes are idle: what it sees is everybody else's load.
 */
export async function backgroundLoad(ms: number): Promise<number | undefined> {
  const before = cpuTimes()
  await sleep(ms)
  const after = cpuTimes()
  if (!before || !after || after.total === before.total) return undefined
  return (after.busy - before.busy) / (after.total - before.total)
}

/**
 * Waits, one-second probes at a time and for at most `maxSeconds`, until other processes use less than `threshold`
 * of all CPUs. Returns whether it got quiet. Used before a measurement on a shared machine.
 */
export async function waitForQuiet(maxSeconds: number, threshold = 0.25): Promise<boolean> {
  const deadline = performance.now() + maxSeconds * 1000
  while (performance.now() < deadline) {
    const load = await backgroundLoad(1_000)
    if (load === undefined || load < threshold) return true
  }
  return false
}
