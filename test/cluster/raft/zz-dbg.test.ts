import { it } from 'vitest'
import { Simulation } from './sim/simulation.js'
it('dbg', () => {
  const lines: string[] = []
  const sim = new Simulation({ seed: Number(process.env.S), steps: Number(process.env.STEPS ?? 2000), trace: (l) => lines.push(l) })
  try { sim.run() } catch (e) { console.log(lines.filter((l) => !process.env.G || l.includes(process.env.G)).slice(-Number(process.env.N ?? 150)).join('\n')); console.log(String(e)) }
})
