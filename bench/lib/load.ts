// Load generation: wrk (Debian's package) when it is installed, otherwise an undici load generator in its own
// process. Both return the same LoadResult. wrk is preferred: it is C and costs far less CPU than a Node client,
// which matters on a 2-core box where the load generator shares CPUs with the upstream and the proxy.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasCommand, spawnPinned, type BenchChild } from './children.js'

export interface LoadOptions {
  url: string
  connections: number
  threads: number
  durationSeconds: number
  method?: 'GET' | 'POST'
  /** Request body size for POST, in bytes. */
  bodyBytes?: number
  /** CPU to pin the load generator to (taskset), if any. */
  cpu?: number
}

export interface LoadResult {
  requests: number
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Socket errors and timeouts. */
  errors: number
  /** Responses outside 2xx/3xx. */
  non2xx: number
}

export const WRK_INSTALL = 'apt-get update && apt-get install -y wrk'

/** Installs wrk from Debian when running as root; returns whether wrk is now available. */
export function installWrk(): boolean {
  if (hasCommand('wrk')) return true
  if (process.getuid?.() !== 0) {
    console.error(`--install needs root; run: sudo sh -c '${WRK_INSTALL}'`)
    return false
  }
  console.log(`installing wrk: ${WRK_INSTALL}`)
  const run = spawnSync('sh', ['-c', WRK_INSTALL], { stdio: 'inherit' })
  return run.status === 0 && hasCommand('wrk')
}

/** Runs wrk once (keep-alive connections, `--latency` for percentiles) and parses its report. */
export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.durationSeconds}s`, '--latency', '--timeout', '10s']
  let scriptDir: string | undefined
  if (options.method === 'POST') {
    // wrk can only send a body from a Lua script.
    scriptDir = mkdtempSync(join(tmpdir(), 'dgate-wrk-'))
    const script = join(scriptDir, 'post.lua')
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = string.rep("x", ${options.bodyBytes ?? 0})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
    )
    args.push('-s', script)
  }
  args.push(options.url)
  try {
    const child = spawnPinned('wrk', args, options.cpu, ['ignore', 'pipe', 'pipe'])
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${err || out}`)
    return parseWrk(out)
  } finally {
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true })
  }
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** wrk prints times like `812.00us`, `1.23ms`, `2.00s`; returns milliseconds. */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  const unit = match?.[2]
  if (!match?.[1] || !unit) throw new Error(`wrk: cannot parse time '${text}'`)
  return Number(match[1]) * (TIME_UNITS[unit] ?? NaN)
}

/** Parses wrk's report (run with --latency). */
export function parseWrk(report: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(report)
  const p50 = /^\s*50%\s+(\S+)/m.exec(report)
  const p99 = /^\s*99%\s+(\S+)/m.exec(report)
  if (!total?.[1] || !total[2] || !total[3] || !p50?.[1] || !p99?.[1]) throw new Error(`wrk: unexpected report:\n${report}`)
  const requests = Number(total[1])
  const seconds = parseWrkTime(`${total[2]}${total[3]}`) / 1000
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report)
  const errors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(report)?.[1] ?? 0)
  return { requests, seconds, requestsPerSecond: requests / seconds, p50Ms: parseWrkTime(p50[1]), p99Ms: parseWrkTime(p99[1]), errors, non2xx }
}

/** Runs a load: wrk when available, else the undici load generator child (see loadgen.ts). */
export function runLoad(options: LoadOptions, loadgen: BenchChild | undefined): Promise<LoadResult> {
  if (loadgen) return loadgen.call<LoadResult>('run', options)
  return runWrk(options)
}
