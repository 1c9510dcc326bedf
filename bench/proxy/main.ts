// Proxy benchmark (issue 3): dgate against a hand-rolled undici pass-through, @fastify/http-proxy, http-proxy and
// the upstream hit directly, side by side in one run, with wrk and 50 keep-alive connections. Prints req/s, p50,
// p99, the proxy process's CPU µs per request, and ratios against the baselines measured in the same run.
//
// Run: node bench/run.mjs bench/proxy/main.ts [--duration 10] [--targets direct,undici,...] [--sizes 100,16384]
//
// Layout: every role runs in its own process: the upstream, each proxy, and the load generator. CPU per request
// is `process.cpuUsage()` measured inside the proxy process over the measured window, divided by the requests wrk
// completed in it. With taskset and 2+ CPUs: the upstream and wrk on CPU 0, the proxy under test on CPU 1, so the
// proxy has a core to itself and the load generator and upstream share the other. Targets run one at a time, in a
// fixed order, each after its own warm-up and a short idle gap; idle proxies use no CPU meanwhile.
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { bundleEntry } from '../lib/build.js'
import { announce, argValue, hasCommand, killChildren, roleOf, serveParent, spawnRole, type BenchChild, type CpuDelta } from '../lib/children.js'
import { installWrk, runLoad, WRK_INSTALL, type LoadOptions } from '../lib/load.js'
import { backgroundLoad, waitForQuiet } from '../lib/machine.js'
import { LOADGEN_ROLE, serveLoadgen } from '../lib/loadgen.js'
import { parseOptions, type Options, type TargetName } from './options.js'
import { LABELS, reportNoise, reportScenario, reportTargets, type Sample, type Scenario } from './report.js'
import { startFastifyProxy } from './targets/fastify.js'
import { startHttpProxy } from './targets/http-proxy.js'
import { startUndiciPassThrough } from './targets/undici.js'
import { startUpstream } from './upstream.js'

const IDLE_GAP_MS = 1_000

/** Roles that live in this bundle; dgate has its own bundle (targets/dgate.ts). */
const ROLES: Record<string, (upstream: string) => Promise<number>> = {
  upstream: () => startUpstream(),
  undici: (upstream) => startUndiciPassThrough(upstream, 'raw'),
  'undici-ctl': (upstream) => startUndiciPassThrough(upstream, 'controller'),
  fastify: startFastifyProxy,
  'http-proxy': startHttpProxy,
}

async function runRole(role: string): Promise<void> {
  if (role === LOADGEN_ROLE) return serveLoadgen()
  const start = ROLES[role]
  if (!start) throw new Error(`unknown role '${role}'`)
  serveParent()
  announce({ type: 'ready', port: await start(argValue('upstream') ?? '') })
}

interface Layout {
  upstream?: number
  proxy?: number
  load?: number
  description: string
}

function cpuLayout(options: Options): Layout {
  if (!options.pin) return { description: 'not pinned (--no-pin): upstream, proxy and load generator share all CPUs' }
  if (!hasCommand('taskset')) return { description: 'not pinned (no taskset): upstream, proxy and load generator share all CPUs' }
  if (availableParallelism() < 2) return { description: 'not pinned (1 CPU)' }
  return { upstream: 0, proxy: 1, load: 0, description: 'taskset: upstream + load generator on CPU 0, proxy under test on CPU 1' }
}

/** Starts the dgate target from its own bundle; undefined (with the reason printed) when it cannot run yet. */
async function startDgate(upstream: string, cpu: number | undefined): Promise<BenchChild | undefined> {
  let script: string
  try {
    script = await bundleEntry('bench/proxy/targets/dgate.ts', 'proxy/dgate')
  } catch (err) {
    console.log(`dgate: skipped, its bundle does not build: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    return undefined
  }
  const child = spawnRole('dgate', ['--upstream', upstream], cpu, script)
  const ready = await child.ready
  if (ready.type === 'unavailable') {
    console.log(`dgate: skipped, not available yet: ${ready.reason}`)
    await child.stop()
    return undefined
  }
  return child
}

/** One request per scenario through a target: status 200 and the expected body, or the run stops here. */
async function verify(name: TargetName, port: number, scenarios: Scenario[]): Promise<void> {
  const client = new Client(`http://127.0.0.1:${port}`)
  try {
    for (const scenario of scenarios) {
      const post = scenario.method === 'POST'
      const res = await client.request({ path: scenario.path, method: scenario.method, body: post ? Buffer.alloc(scenario.bytes, 'x') : null })
      const body = Buffer.from(await res.body.arrayBuffer())
      const expected = post ? `received ${scenario.bytes}` : undefined
      const ok = res.statusCode === 200 && (expected ? body.toString() === expected : body.length === scenario.bytes)
      if (!ok) {
        const got = expected ? JSON.stringify(body.toString().slice(0, 80)) : `${body.length} bytes`
        throw new Error(`${LABELS[name]} does not proxy ${scenario.name} correctly: status ${res.statusCode}, body ${got} (want 200, ${expected ?? `${scenario.bytes} bytes`})`)
      }
    }
  } finally {
    await client.close()
  }
}

function scenariosOf(options: Options): Scenario[] {
  const label = (bytes: number) => (bytes % 1024 === 0 && bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`)
  return [
    ...options.sizes.map((bytes): Scenario => ({ name: `GET ${label(bytes)}`, method: 'GET', path: `/bytes/${bytes}`, bytes })),
    ...options.posts.map((bytes): Scenario => ({ name: `POST ${label(bytes)} upload`, method: 'POST', path: '/upload', bytes })),
  ]
}

interface Bench {
  options: Options
  layout: Layout
  upstream: BenchChild
  loadgen: BenchChild | undefined
}

/** One measured run of one target: warm-up, idle gap, then the load with CPU windows open in proxy and upstream. */
async function measure({ options, layout, upstream, loadgen }: Bench, port: number, proxy: BenchChild | undefined, scenario: Scenario): Promise<Sample> {
  const load = (durationSeconds: number): LoadOptions => ({
    url: `http://127.0.0.1:${port}${scenario.path}`,
    connections: options.connections,
    threads: options.threads,
    durationSeconds,
    method: scenario.method,
    bodyBytes: scenario.method === 'POST' ? scenario.bytes : undefined,
    cpu: layout.load,
  })
  if (options.waitQuietSeconds > 0 && !(await waitForQuiet(options.waitQuietSeconds))) process.stdout.write('(still busy) ')
  if (options.warmupSeconds > 0) await runLoad(load(options.warmupSeconds), loadgen)
  // The idle gap doubles as a probe of everybody else's load: our processes are idle during it.
  const background = await backgroundLoad(IDLE_GAP_MS)
  await Promise.all([proxy?.cpuStart(), upstream.cpuStart()])
  const result = await runLoad(load(options.durationSeconds), loadgen)
  const [proxyCpu, upstreamCpu] = await Promise.all([proxy?.cpuStop(), upstream.cpuStop()])
  const requests = Math.max(1, result.requests)
  const total = (cpu: CpuDelta) => cpu.userMicros + cpu.systemMicros
  return {
    load: result,
    proxyCpuPerRequest: proxyCpu ? total(proxyCpu) / requests : undefined,
    proxyCpuShare: proxyCpu ? total(proxyCpu) / 1000 / proxyCpu.wallMillis : undefined,
    upstreamCpuPerRequest: total(upstreamCpu) / requests,
    backgroundLoad: background,
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  if (options.install) installWrk()
  const useWrk = hasCommand('wrk')
  const layout = cpuLayout(options)
  const scenarios = scenariosOf(options)
  console.log(`dgate bench/proxy: node ${process.version}, ${availableParallelism()} CPUs, ${options.connections} keep-alive connections, ${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up, ${options.rounds} round(s)`)
  console.log(`CPUs: ${layout.description}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  if (useWrk) console.log(`load: wrk, ${options.threads} threads, no pipelining`)
  else {
    console.log(`load: wrk not found (install: ${WRK_INSTALL}, or rerun with --install as root)`)
    console.log('      falling back to an undici load generator in its own process; it costs far more CPU than wrk, taken')
    console.log('      from the upstream on a 2-core box, so req/s and latency read lower; proxy CPU/request stays comparable')
  }

  const upstreamChild = spawnRole('upstream', [], layout.upstream)
  const upstreamReady = await upstreamChild.ready
  if (upstreamReady.type !== 'ready') throw new Error('upstream did not start')
  const upstream = `http://127.0.0.1:${upstreamReady.port}`
  const loadgen = useWrk ? undefined : spawnRole(LOADGEN_ROLE, [], layout.load)
  await loadgen?.ready

  // Start every proxy target now; each waits idle in its own process until its turn.
  const proxies = new Map<TargetName, BenchChild>()
  const ports = new Map<TargetName, number>([['direct', upstreamReady.port]])
  for (const name of options.targets) {
    if (name === 'direct') continue
    const child = name === 'dgate' ? await startDgate(upstream, layout.proxy) : spawnRole(name, ['--upstream', upstream], layout.proxy)
    if (!child) continue
    const ready = await child.ready
    if (ready.type !== 'ready') throw new Error(`${name}: ${ready.type === 'unavailable' ? ready.reason : 'did not start'}`)
    proxies.set(name, child)
    ports.set(name, ready.port)
  }
  const targets = options.targets.filter((name) => ports.has(name))
  for (const name of targets) await verify(name, ports.get(name) ?? 0, scenarios)
  console.log(`verified: ${targets.map((name) => LABELS[name]).join(', ')} answer 200 with the right bodies`)

  const bench: Bench = { options, layout, upstream: upstreamChild, loadgen }
  const reports: Array<[Scenario, ReturnType<typeof reportScenario>]> = []
  for (const scenario of scenarios) {
    const results = new Map<TargetName, Sample[]>(targets.map((name) => [name, []]))
    for (let round = 0; round < options.rounds; round++) {
      for (const name of targets) {
        process.stdout.write(`  ${scenario.name} round ${round + 1}: ${LABELS[name]} ... `)
        const sample = await measure(bench, ports.get(name) ?? 0, proxies.get(name), scenario)
        results.get(name)?.push(sample)
        const { load } = sample
        console.log(`${load.requestsPerSecond.toFixed(0)} req/s${load.errors + load.non2xx ? `, ${load.errors} socket errors, ${load.non2xx} non-2xx` : ''}`)
        await sleep(IDLE_GAP_MS)
      }
    }
    reports.push([scenario, reportScenario(scenario, results)])
  }
  reportTargets(reports)
  reportNoise(reports)
  console.log('\nproxy CPU µs/req: user+system CPU of the proxy process over the window / requests completed; "proxy core":')
  console.log('share of one core it used (near 100% means the proxy was the bottleneck); "other load": share of all CPUs busy')
  console.log('with other processes during the idle gap before the run. Ratios use this run\'s baselines.')
}

const role = roleOf()
if (role) {
  await runRole(role)
} else {
  try {
    await main()
  } catch (err) {
    console.error(`\nbench/proxy failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  } finally {
    killChildren()
  }
}
