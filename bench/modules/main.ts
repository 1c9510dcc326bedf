// Module benchmark (issue 4): the gateway with no module, with a trivial requestModifier that sets a header in the
// native, realm and worker runtimes, and with a responseModifier that rewrites a JSON body (worker), side by side in
// one run, through the real gateway (`http.createServer(gw.handler)`, one process per target) against one local
// upstream, with wrk and 50 keep-alive connections. Prints req/s, p50, p99, the gateway process's CPU µs per request
// (every thread, module workers included), the ratio to the no-module throughput, and the issue's targets.
//
// Run: node bench/run.mjs bench/modules/main.ts [--duration 5] [--rounds 1] [--targets none,native,...] [--help]
//
// Layout, as in bench/proxy: the upstream and wrk on CPU 0, the gateway under test alone on CPU 1 (its module worker
// threads too: the whole process is pinned), targets one at a time in a fixed order, each measured in a fresh
// gateway process after a warm-up and an idle gap that also measures everybody else's load. This bundle does not import src/: the targets are bundled at
// run time (target.ts), so a broken source tree only fails them.
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'
import { bundleEntry } from '../lib/build.js'
import { announce, hasCommand, killChildren, roleOf, serveParent, spawnRole, type BenchChild, type CpuDelta } from '../lib/children.js'
import { runWrk, WRK_INSTALL, type LoadOptions, type LoadResult } from '../lib/load.js'
import { backgroundLoad, waitForQuiet } from '../lib/machine.js'
import { fixed, median, printTable } from '../lib/table.js'
import { DOCUMENT, startJsonUpstream } from './upstream.js'

const TARGETS = ['none', 'native', 'realm', 'worker', 'worker-json'] as const
type Target = (typeof TARGETS)[number]

const INFO: Record<Target, { label: string; goal: number | undefined }> = {
  none: { label: 'no module', goal: undefined },
  native: { label: 'requestModifier, native', goal: 0.95 },
  realm: { label: 'requestModifier, realm', goal: 0.85 },
  worker: { label: 'requestModifier, worker', goal: 0.6 },
  'worker-json': { label: 'responseModifier JSON, worker', goal: undefined },
}

const PATH = '/json'
const IDLE_GAP_MS = 1_000

interface Options {
  durationSeconds: number
  warmupSeconds: number
  connections: number
  threads: number
  rounds: number
  waitQuietSeconds: number
  targets: Target[]
  pin: boolean
}

const USAGE = `usage: node bench/run.mjs bench/modules/main.ts [options]
  --duration <s>     measured seconds per target (default 5)
  --warmup <s>       unmeasured warm-up seconds before each measurement (default 2)
  --connections <n>  keep-alive client connections (default 50)
  --threads <n>      wrk threads (default 2)
  --rounds <n>       repeat, targets interleaved; report medians (default 1)
  --wait-quiet <s>   before each run, wait up to s seconds for other processes to use < 25% of the CPUs (default 0)
  --targets <list>   any of ${TARGETS.join(',')} (default: all; 'none' is always run, as the baseline)
  --no-pin           do not pin processes to CPUs with taskset`

function parseOptions(argv: string[]): Options {
  const o: Options = { durationSeconds: 5, warmupSeconds: 2, connections: 50, threads: 2, rounds: 1, waitQuietSeconds: 0, targets: [...TARGETS], pin: true }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const num = (min: number): number => {
      const n = Number(argv[++i])
      if (!Number.isFinite(n) || n < min) throw new Error(`${flag}: expected a number ≥ ${min}, got '${argv[i]}'`)
      return n
    }
    switch (flag) {
      case '--duration':
        o.durationSeconds = num(1)
        break
      case '--warmup':
        o.warmupSeconds = num(0)
        break
      case '--connections':
        o.connections = Math.trunc(num(1))
        break
      case '--threads':
        o.threads = Math.trunc(num(1))
        break
      case '--rounds':
        o.rounds = Math.trunc(num(1))
        break
      case '--wait-quiet':
        o.waitQuietSeconds = num(0)
        break
      case '--targets': {
        const list = (argv[++i] ?? '').split(',').filter(Boolean)
        for (const t of list) if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`--targets: unknown target '${t}'`)
        o.targets = TARGETS.filter((t) => t === 'none' || list.includes(t))
        break
      }
      case '--no-pin':
        o.pin = false
        break
      case '--help':
        console.log(USAGE)
        process.exit(0)
        break
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`)
    }
  }
  return o
}

interface Sample {
  load: LoadResult
  cpuPerRequest: number
  coreShare: number
  background: number | undefined
}

/** One request through a target: 200, and the module's effect visible (the header upstream, or the rewritten body). */
async function verify(target: Target, port: number): Promise<void> {
  const client = new Client(`http://127.0.0.1:${port}`)
  try {
    const res = await client.request({ path: PATH, method: 'GET', headers: { 'x-bench-echo': '1' } })
    const body = await res.body.text()
    const problem =
      res.statusCode !== 200
        ? `status ${res.statusCode}: ${body.slice(0, 120)}`
        : target === 'worker-json'
          ? JSON.stringify(JSON.parse(body)) === JSON.stringify({ ...DOCUMENT, rewritten: true })
            ? undefined
            : `body not rewritten: ${body.slice(0, 120)}`
          : res.headers['x-bench-seen'] === (target === 'none' ? 'none' : '1')
            ? body === JSON.stringify(DOCUMENT)
              ? undefined
              : `unexpected body: ${body.slice(0, 120)}`
            : `x-bench-seen is ${JSON.stringify(res.headers['x-bench-seen'])}`
    if (problem) throw new Error(`${INFO[target].label}: ${problem}`)
  } finally {
    await client.close()
  }
}

async function measure(options: Options, port: number, gateway: BenchChild, loadCpu: number | undefined): Promise<Sample> {
  const load = (durationSeconds: number): LoadOptions => ({ url: `http://127.0.0.1:${port}${PATH}`, connections: options.connections, threads: options.threads, durationSeconds, cpu: loadCpu })
  if (options.waitQuietSeconds > 0 && !(await waitForQuiet(options.waitQuietSeconds))) process.stdout.write('(still busy) ')
  if (options.warmupSeconds > 0) await runWrk(load(options.warmupSeconds))
  const background = await backgroundLoad(IDLE_GAP_MS)
  await gateway.cpuStart()
  const result = await runWrk(load(options.durationSeconds))
  const cpu: CpuDelta = await gateway.cpuStop()
  const micros = cpu.userMicros + cpu.systemMicros
  return { load: result, cpuPerRequest: micros / Math.max(1, result.requests), coreShare: micros / 1000 / cpu.wallMillis, background }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  if (!hasCommand('wrk')) throw new Error(`wrk is required (install: ${WRK_INSTALL})`)
  const pinned = options.pin && hasCommand('taskset') && availableParallelism() >= 2
  const [upstreamCpu, gatewayCpu, loadCpu] = pinned ? [0, 1, 0] : [undefined, undefined, undefined]
  console.log(`dgate bench/modules: node ${process.version}, ${availableParallelism()} CPUs, wrk ${options.threads} threads, ${options.connections} keep-alive connections, GET ${PATH}`)
  console.log(`${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up, ${options.rounds} round(s); load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  console.log(pinned ? 'CPUs: upstream + wrk on CPU 0, the gateway under test (all its threads) on CPU 1' : 'CPUs: not pinned')

  const upstream = spawnRole('upstream', [], upstreamCpu)
  const up = await upstream.ready
  if (up.type !== 'ready') throw new Error('upstream did not start')
  const script = await bundleEntry('bench/modules/target.ts', 'modules/target')

  // Every measurement gets a fresh gateway process, started just before it and stopped after: a process that sat
  // idle while other targets ran measures slower (V8 shrinks an idle heap), and one process can be a few percent
  // faster or slower than the next for its whole life, so rounds sample processes as well as runs.
  const start = async (target: Target): Promise<{ child: BenchChild; port: number } | string> => {
    const child = spawnRole('gateway', ['--upstream', `http://127.0.0.1:${up.port}`, '--variant', target], gatewayCpu, script)
    const ready = await child.ready
    if (ready.type === 'ready') return { child, port: ready.port }
    await child.stop()
    return ready.type === 'unavailable' ? ready.reason : 'did not start'
  }
  const targets: Target[] = []
  for (const target of options.targets) {
    const started = await start(target)
    if (typeof started === 'string') {
      console.log(`${INFO[target].label}: skipped (${started})`)
      continue
    }
    try {
      await verify(target, started.port)
    } finally {
      await started.child.stop()
    }
    targets.push(target)
  }
  if (!targets.includes('none')) throw new Error('the no-module baseline did not start')
  console.log(`verified: ${targets.map((t) => INFO[t].label).join('; ')}`)

  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]))
  for (let round = 0; round < options.rounds; round++) {
    for (const target of targets) {
      process.stdout.write(`  round ${round + 1}: ${INFO[target].label} ... `)
      const started = await start(target)
      if (typeof started === 'string') throw new Error(`${INFO[target].label}: ${started}`)
      let sample: Sample
      try {
        sample = await measure(options, started.port, started.child, loadCpu)
      } finally {
        await started.child.stop()
      }
      samples.get(target)!.push(sample)
      const failed = sample.load.errors + sample.load.non2xx
      console.log(`${sample.load.requestsPerSecond.toFixed(0)} req/s${failed ? `, ${sample.load.errors} socket errors, ${sample.load.non2xx} non-2xx` : ''}`)
      await sleep(IDLE_GAP_MS)
    }
  }

  const med = (t: Target, pick: (s: Sample) => number | undefined): number | undefined => {
    const values = (samples.get(t) ?? []).map(pick).filter((v): v is number => v !== undefined)
    return values.length ? median(values) : undefined
  }
  const base = med('none', (s) => s.load.requestsPerSecond) ?? NaN
  const baseCpu = med('none', (s) => s.cpuPerRequest) ?? NaN
  let noisy = false
  const rows = [...samples.keys()].map((t) => {
    const rps = med(t, (s) => s.load.requestsPerSecond) ?? NaN
    const cpu = med(t, (s) => s.cpuPerRequest)
    const other = med(t, (s) => s.background)
    const busy = other !== undefined && other > 0.25
    noisy ||= busy
    const ratio = rps / base
    const goal = INFO[t].goal
    const failures = (samples.get(t) ?? []).reduce((sum, s) => sum + s.load.errors + s.load.non2xx, 0)
    const verdict = goal === undefined ? '' : `${ratio >= goal ? 'met' : 'MISSED'} (≥ ${goal})${busy ? ' noisy' : ''}`
    return [
      INFO[t].label,
      fixed(rps),
      fixed(med(t, (s) => s.load.p50Ms), 2),
      fixed(med(t, (s) => s.load.p99Ms), 2),
      fixed(cpu, 1),
      t === 'none' ? '' : `+${fixed((cpu ?? NaN) - baseCpu, 1)}`,
      `${fixed((med(t, (s) => s.coreShare) ?? NaN) * 100)}%`,
      other === undefined ? '-' : `${fixed(other * 100)}%`,
      fixed(ratio, 3),
      verdict,
      failures ? String(failures) : '',
    ]
  })
  console.log('')
  printTable(['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs none', 'gw core', 'other load', 'ratio', 'target', 'failed'], rows)
  console.log('\nCPU µs/req: user+system CPU of the gateway process (every thread, module workers included) over the window / requests')
  console.log('completed; "vs none": the extra over no module; "gw core": share of one core the gateway used; "other load": share of')
  console.log('all CPUs busy with other processes in the idle gap before the run; ratio: req/s over the no-module req/s of this run.')
  if (noisy) console.log('\nwarning: other processes were busy during some runs ("noisy"); rerun with --rounds 3 --wait-quiet 20 for steadier numbers')
}

const role = roleOf()
if (role === 'upstream') {
  serveParent()
  announce({ type: 'ready', port: await startJsonUpstream() })
} else if (role) {
  throw new Error(`unknown role '${role}'`)
} else {
  try {
    await main()
  } catch (err) {
    console.error(`\nbench/modules failed: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  } finally {
    killChildren()
  }
}
