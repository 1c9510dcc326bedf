// Fallback load generator for when wrk is missing: an undici Pool with one request in flight per connection
// (no pipelining, like wrk), run in its own process. It costs noticeably more CPU than wrk, and on a 2-core machine
// that CPU is taken from the upstream and the proxy, so throughput and latency read lower than with wrk; CPU per
// request of the proxy is still measured in the proxy process alone.
import { Pool } from 'undici'
import { announce, serveParent } from './children.js'
import type { LoadOptions, LoadResult } from './load.js'

export const LOADGEN_ROLE = 'loadgen'

/** Child side: serves `run` calls with `generateLoad`. */
export function serveLoadgen(): void {
  serveParent({ run: (options) => generateLoad(options as LoadOptions) })
  announce({ type: 'ready', port: 0 })
}

export async function generateLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url)
  const pool = new Pool(url.origin, { connections: options.connections, pipelining: 1 })
  const body = options.method === 'POST' ? Buffer.alloc(options.bodyBytes ?? 0, 'x') : undefined
  const headers = body ? { 'content-type': 'application/octet-stream' } : undefined
  const latencies: number[] = []
  let errors = 0
  let non2xx = 0
  const started = performance.now()
  const deadline = started + options.durationSeconds * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now()
      try {
        const res = await pool.request({ path: url.pathname + url.search, method: options.method ?? 'GET', body, headers })
        await res.body.dump({ limit: Infinity })
        if (res.statusCode >= 400) non2xx++
        latencies.push(performance.now() - t)
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: options.connections }, worker))
  const seconds = (performance.now() - started) / 1000
  await pool.close()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
  return { requests: latencies.length, seconds, requestsPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors, non2xx }
}
