import { describe, expect, it } from 'vitest'
import { checkLinearizable } from './linearizability/checker.js'
import { describeKvOp, kvModel } from './linearizability/kv-model.js'
import { Simulation } from './sim/simulation.js'

/**
 * Deterministic simulation over many seeds. Budget: RAFT_SEEDS seeds (default 1500, split across
 * four test cases) of RAFT_STEPS simulated milliseconds (default 3000), from RAFT_FIRST_SEED
 * (default 1). RAFT_SEED=n replays one seed.
 * RAFT_SOAK=1 raises the defaults to 20000 seeds of 10000 steps.
 */
const soak = process.env.RAFT_SOAK === '1'
const seeds = Number(process.env.RAFT_SEEDS ?? (soak ? 20_000 : 1500))
const steps = Number(process.env.RAFT_STEPS ?? (soak ? 10_000 : 3000))
const firstSeed = Number(process.env.RAFT_FIRST_SEED ?? 1)
const only = process.env.RAFT_SEED === undefined ? undefined : Number(process.env.RAFT_SEED)

function runSeed(seed: number): { acked: number; ops: number } {
  const sim = new Simulation({ seed, steps })
  let result
  let lin
  try {
    result = sim.run()
    lin = checkLinearizable(kvModel, result.history)
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    throw new Error(`seed ${seed} failed at t=${sim.time}ms: ${msg}\nreplay: RAFT_SEED=${seed} RAFT_STEPS=${steps} npx vitest run test/cluster/raft/sim.test.ts`, { cause: e })
  }
  if (!lin.ok) {
    const ops = result.history.filter((o) => o.input.key === lin.partition).sort((a, b) => a.call - b.call)
    throw new Error(
      `seed ${seed}: history of key ${lin.partition} (${lin.operations} ops) is not linearizable:\n${ops.map(describeKvOp).join('\n')}\nreplay: RAFT_SEED=${seed} RAFT_STEPS=${steps} npx vitest run test/cluster/raft/sim.test.ts`,
    )
  }
  return { acked: result.acked, ops: result.history.length }
}

describe('deterministic simulation', () => {
  if (only !== undefined) {
    it(`seed ${only}`, () => {
      runSeed(only)
    })
    return
  }
  const shards = 4
  const per = Math.ceil(seeds / shards)
  for (let s = 0; s < shards; s++) {
    const from = firstSeed + s * per
    const to = Math.min(firstSeed + seeds, from + per)
    it(`seeds ${from}..${to - 1} x ${steps} steps keep every safety invariant and stay linearizable`, { timeout: 600_000 }, () => {
      let acked = 0
      for (let seed = from; seed < to; seed++) acked += runSeed(seed).acked
      // The workload must actually commit client writes, or the run proves nothing.
      expect(acked).toBeGreaterThan((to - from) * 5)
    })
  }
})
