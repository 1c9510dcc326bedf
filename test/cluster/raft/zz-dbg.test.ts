import { it } from 'vitest'
import { Simulation } from '/work/main/test/cluster/raft/sim/simulation.js'
it('dbg', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const sim = new Simulation({ seed, steps: 2000 })
    const r = sim.run()
    console.log(seed, JSON.stringify(r.stats), 'acked', r.acked, 'hist', r.history.length, 'elections', r.elections)
  }
})
