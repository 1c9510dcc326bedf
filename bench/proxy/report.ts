// The report: one table per scenario (medians over rounds) with ratios against baselines from the same run, then
// the targets for dgate and whether each was met.
import type { LoadResult } from '../lib/load.js'
import { fixed, median, printTable } from '../lib/table.js'
import type { TargetName } from './options.js'

export interface Scenario {
  name: string
  method: 'GET' | 'POST'
  path: string
  /** Response body bytes (GET) or upload bytes (POST). */
  bytes: number
}

/** One measured run of one target in one scenario. */
export interface Sample {
  load: LoadResult
  /** CPU of the proxy process per completed request, in µs (undefined for `direct`). */
  proxyCpuPerRequest: number | undefined
  /** Share of one core the proxy process used over the window. */
  proxyCpuShare: number | undefined
  upstreamCpuPerRequest: number
  /** Share of all CPUs other processes used in the idle gap just before this run. */
  backgroundLoad: number | undefined
}

export const LABELS: Record<TargetName, string> = {
  direct: 'direct (no proxy)',
  undici: 'undici pass-through',
  'undici-ctl': 'undici pass-through (controller API)',
  fastify: '@fastify/http-proxy',
  'http-proxy': 'http-proxy (keep-alive)',
  dgate: 'dgate',
}

interface Summary {
  rps: number
  p50: number
  p99: number
  cpu: number | undefined
  share: number | undefined
  upstreamCpu: number
  background: number | undefined
  failures: number
}

function summarize(samples: Sample[]): Summary {
  const of = (pick: (s: Sample) => number | undefined) => {
    const values = samples.map(pick).filter((v): v is number => v !== undefined)
    return values.length ? median(values) : undefined
  }
  return {
    rps: of((s) => s.load.requestsPerSecond) ?? NaN,
    p50: of((s) => s.load.p50Ms) ?? NaN,
    p99: of((s) => s.load.p99Ms) ?? NaN,
    cpu: of((s) => s.proxyCpuPerRequest),
    share: of((s) => s.proxyCpuShare),
    upstreamCpu: of((s) => s.upstreamCpuPerRequest) ?? NaN,
    background: of((s) => s.backgroundLoad),
    failures: samples.reduce((sum, s) => sum + s.load.errors + s.load.non2xx, 0),
  }
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined)

/** Prints the scenario's table and returns the per-target summaries for the target checks. */
export function reportScenario(scenario: Scenario, results: Map<TargetName, Sample[]>): Map<TargetName, Summary> {
  const summaries = new Map<TargetName, Summary>()
  for (const [name, samples] of results) if (samples.length) summaries.set(name, summarize(samples))
  const undici = summaries.get('undici')?.cpu
  const fastify = summaries.get('fastify')?.cpu
  const httpProxyP99 = summaries.get('http-proxy')?.p99
  const rows = [...summaries].map(([name, s]) => [
    LABELS[name],
    fixed(s.rps),
    fixed(s.p50, 2),
    fixed(s.p99, 2),
    fixed(s.cpu, 1),
    s.share === undefined ? '-' : `${fixed(s.share * 100)}%`,
    fixed(s.upstreamCpu, 1),
    fixed(ratio(s.cpu, undici), 2),
    fixed(ratio(fastify, s.cpu), 2),
    fixed(ratio(s.p99, httpProxyP99), 2),
    s.background === undefined ? '-' : `${fixed(s.background * 100)}%`,
    s.failures ? `${s.failures} !!` : '0',
  ])
  console.log(`\n## ${scenario.name}`)
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'proxy core', 'upstream µs/req', 'CPU vs undici', 'x cheaper than fastify', 'p99 vs http-proxy', 'other load', 'errors'],
    rows,
  )
  return summaries
}

const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
const NOISY = 0.25

/** ' (noisy: ...)' when other processes were busy around any of the compared runs, so a verdict is not trusted blindly. */
function noise(...summaries: Array<Summary | undefined>): string {
  const worst = Math.max(0, ...summaries.map((s) => s?.background ?? 0))
  return worst > NOISY ? ` (noisy: other load up to ${fixed(worst * 100)}%)` : ''
}

/** The targets for dgate, checked in the GET scenarios (the p99 one at 16 KiB). */
export function reportTargets(byScenario: Array<[Scenario, Map<TargetName, Summary>]>): void {
  console.log('\n## Issue 3 targets (dgate)')
  for (const [scenario, summaries] of byScenario) {
    if (scenario.method !== 'GET') continue
    const dgate = summaries.get('dgate')
    const [undici, fastify, httpProxy] = [summaries.get('undici'), summaries.get('fastify'), summaries.get('http-proxy')]
    const lines: string[] = []
    const vsUndici = ratio(dgate?.cpu, undici?.cpu)
    const cheaper = ratio(fastify?.cpu, dgate?.cpu)
    if (vsUndici !== undefined) lines.push(`CPU/request ${fixed(vsUndici, 2)}x the undici pass-through (target <= 1.15x): ${verdict(vsUndici <= 1.15)}${noise(dgate, undici)}`)
    else lines.push('CPU/request vs undici pass-through: not measured')
    if (cheaper !== undefined) lines.push(`${fixed(cheaper, 2)}x cheaper than @fastify/http-proxy (target >= 1.5x): ${verdict(cheaper >= 1.5)}${noise(dgate, fastify)}`)
    else lines.push('CPU/request vs @fastify/http-proxy: not measured')
    if (scenario.bytes === 16_384) {
      const p99 = dgate?.p99
      const theirs = httpProxy?.p99
      if (p99 !== undefined && theirs !== undefined) lines.push(`p99 ${fixed(p99, 2)} ms vs http-proxy ${fixed(theirs, 2)} ms (target <=): ${verdict(p99 <= theirs)}${noise(dgate, httpProxy)}`)
      else lines.push('p99 vs http-proxy: not measured')
    }
    console.log(`${scenario.name}:`)
    for (const line of lines) console.log(`  ${line}`)
  }
}

/** Warns when other processes were busy around the runs: every number moves then, latency most. */
export function reportNoise(byScenario: Array<[Scenario, Map<TargetName, Summary>]>): void {
  const loads = byScenario.flatMap(([, summaries]) => [...summaries.values()].map((s) => s.background ?? 0))
  const worst = Math.max(0, ...loads)
  if (worst > NOISY) {
    console.log(`\nwarning: other processes used up to ${fixed(worst * 100)}% of all CPUs next to this run; req/s, p50 and p99 are`)
    console.log('noisy, and CPU per request rises too (shared caches, preemption). Rerun on a quiet machine, or use')
    console.log('--wait-quiet 30 and --rounds 3 for medians.')
  }
}
