import { describe, expect, it } from 'vitest'
import { checkLinearizable } from './linearizability/checker.js'
import { describeKvOp, kvModel } from './linearizability/kv-model.js'
import { Simulation } from './sim/simulation.js'

/**
 * Deterministic simulation over many seeds. Budget: RAFT_SEEDS seeds (default 2000, split across
 * four test cases) of RAFT_STEPS simulated milliseconds (default 4000), from RAFT_FIRST_SEED
 * (default 1). RAFT_SEED=n replays one seed; add RAFT_TRACE=1 to print the last 300 events of a failing replay.
 * RAFT_SOAK=1 raises the defaults to 20000 seeds of 10000 steps.
 */
const soak = process.env.RAFT_SOAK === '1'
const seeds = Number(process.env.RAFT_SEEDS ?? (soak ? 20_000 : 2000))
const steps = Number(process.env.RAFT_STEPS ?? (soak ? 10_000 : 4000))
const firstSeed = Number(process.env.RAFT_FIRST_SEED ?? 1)
const only = process.env.RAFT_SEED === undefined ? undefined : Number(process.env.RAFT_SEED)

interface SeedStats {
  acked: number
  crashes: number
  snapshots: number
  confChanges: number
  elections: number
}

function runSeed(seed: number, trace?: string[]): SeedStats {
  const sim = new Simulation({ seed, steps, ...(trace ? { trace: (line: string) => trace.push(line) } : {}) })
  let result
  let lin
  try {
    result = sim.run()
    lin = checkLinearizable(kvModel, result.history)
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    if (trace) console.log(trace.slice(-300).join('\n'))
    throw new Error(`seed ${seed} failed at t=${sim.time}ms: ${msg}\nreplay: RAFT_SEED=${seed} RAFT_STEPS=${steps} npx vitest run test/cluster/raft/sim.test.ts`, { cause: e })
  }
  if (!lin.ok) {
    const ops = result.history.filter((o) => o.input.key === lin.partition).sort((a, b) => a.call - b.call)
    throw new Error(
      `seed ${seed}: history of key ${lin.partition} (${lin.operations} ops) is not linearizable:\n${ops.map(describeKvOp).join('\n')}\nreplay: RAFT_SEED=${seed} RAFT_STEPS=${steps} npx vitest run test/cluster/raft/sim.test.ts`,
    )
  }
  return { acked: result.acked, crashes: result.stats.crashes, snapshots: result.stats.snapshots, confChanges: result.stats.confChanges, elections: result.elections }
}

describe('deterministic simulation', () => {
  if (only !== undefined) {
    it(`seed ${only}`, () => {
      runSeed(only, process.env.RAFT_TRACE === '1' ? [] : undefined)
    })
    return
  }
  const shards = 4
  const per = Math.ceil(seeds / shards)
  for (let s = 0; s < shards; s++) {
    const from = firstSeed + s * per
    const to = Math.min(firstSeed + seeds, from + per)
    it(`seeds ${from}..${to - 1} x ${steps} steps keep every safety invariant and stay linearizable`, { timeout: 600_000 }, () => {
      const total: SeedStats = { acked: 0, crashes: 0, snapshots: 0, confChanges: 0, elections: 0 }
      for (let seed = from; seed < to; seed++) {
        const s = runSeed(seed)
        for (const k of Object.keys(total) as (keyof SeedStats)[]) total[k] += s[k]
      }
      // The runs must actually commit writes, crash nodes, snapshot, change membership and re-elect, or they prove little.
      const n = to - from
      expect(total.acked).toBeGreaterThan(n * 20)
      expect(total.crashes).toBeGreaterThan(n)
      expect(total.snapshots).toBeGreaterThan(n)
      expect(total.confChanges).toBeGreaterThan(n)
      expect(total.elections).toBeGreaterThan(n * 3)
    })
  }
})
