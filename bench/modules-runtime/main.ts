// Calls per second of a trivial requestModifier (sets one header) in the native, realm and worker runtimes, against
// a plain function call doing the same on the same data. Run: node bench/run.mjs bench/modules-runtime/main.ts [--quick]
import { compileModule, createProgram } from '../../src/modules/compile.js'
import { createNativeRuntime, defineModule } from '../../src/modules/runtimes/native.js'
import { createRealmRuntime } from '../../src/modules/runtimes/realm.js'
import { createWorkerRuntime } from '../../src/modules/runtimes/worker.js'
import type { Exchange, HostCalls, ModuleContext, ModuleRuntime } from '../../src/modules/types.js'

const quick = process.argv.includes('--quick')
const scale = quick ? 0.1 : 1

const exchange: Exchange = {
  id: 'bench',
  request: {
    method: 'GET', path: '/users/42', host: 'api.example.com', proto: 'HTTP/1.1', remoteAddress: '10.0.0.1', contentLength: -1, query: 'a=1',
    headers: [['accept', '*/*'], ['user-agent', 'bench'], ['x-a', '1'], ['x-b', '2'], ['x-c', '3'], ['x-d', '4'], ['x-e', '5'], ['x-f', '6']],
  },
  params: { id: '42' },
  // Resource snapshots as the gateway passes them (the same objects for every request until the resource changes).
  route: { name: 'users', namespace: 'default', paths: ['/users/{id}', '/users/{id}/*'], methods: ['GET', 'POST', 'PUT', 'DELETE'], service: 'users', modules: ['bench'], stripPath: false, preserveHost: false, tags: ['api', 'v1'] },
  service: {
    name: 'users', namespace: 'default', urls: ['http://10.0.0.20:8080', 'http://10.0.0.21:8080'], retries: 3, retryTimeout: 100, requestTimeout: 30000,
    tlsSkipVerify: false, http2Only: false, hideDGateHeaders: false, disableQueryParams: false, tags: ['api'],
  },
  namespace: { name: 'default', tags: [] },
  locals: {},
  response: { headers: [], ended: false },
}
const never = (): Promise<never> => Promise.reject(new Error('not used'))
const host: HostCalls = {
  readRequestBody: never, readUpstreamBody: never, log: () => {}, fetch: never,
  documents: { get: never, list: never, put: never, delete: never },
  storage: { get: never, set: never, delete: never },
}

function report(name: string, calls: number, ms: number, baseline?: number): number {
  const perSecond = (calls / ms) * 1000
  const ratio = baseline ? ` ratio ${(perSecond / baseline).toFixed(4)} of baseline` : ''
  console.log(`${name.padEnd(34)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} calls/s  ${((ms * 1e6) / calls).toFixed(0).padStart(7)} ns/call${ratio}`)
  return perSecond
}

/** Baseline: what the hook does, as a direct call on the host data (copy the header list, set one header). */
function baseline(): number {
  const fn = (headers: [string, string][]): [string, string][] => {
    const next = headers.filter(([k]) => k !== 'x-bench')
    next.push(['x-bench', '1'])
    return next
  }
  const n = Math.round(2e6 * scale)
  let sink = 0
  for (let i = 0; i < n / 10; i++) sink += fn(exchange.request.headers).length
  const t0 = performance.now()
  for (let i = 0; i < n; i++) sink += fn(exchange.request.headers).length
  const ms = performance.now() - t0
  if (sink === 0) console.log('')
  return report('plain function (baseline)', n, ms)
}

async function measure(name: string, rt: ModuleRuntime, id: string, calls: number, inFlight: number, base: number): Promise<void> {
  const once = async (): Promise<void> => {
    const out = await rt.run(id, 'requestModifier', exchange, host)
    if (out.error) throw new Error(out.error.message)
  }
  const drive = async (n: number): Promise<void> => {
    let next = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < n) await once()
      }),
    )
  }
  await drive(Math.max(100, calls / 10))
  const t0 = performance.now()
  await drive(calls)
  report(`${name} (${inFlight} in flight)`, calls, performance.now() - t0, base)
}

const source = `export function requestModifier(ctx) { ctx.request().headers.set('x-bench', '1') }`
const program = createProgram('default', 'bench', [compileModule({ name: 'bench', moduleType: 'javascript', payload: source }, ['bench'])])

console.log(`modules-runtime: trivial requestModifier, node ${process.version}${quick ? ' (quick)' : ''}`)
const base = baseline()

const native = createNativeRuntime()
await native.prepare({ id: 'native', entry: 'bench', native: defineModule({ requestModifier: (ctx: ModuleContext) => void ctx.request().headers.set('x-bench', '1') }) })
await measure('native', native, 'native', Math.round(3e5 * scale), 1, base)
await native.close()

const realm = createRealmRuntime()
await realm.prepare(program)
await measure('realm', realm, program.id, Math.round(3e5 * scale), 1, base)
await measure('realm', realm, program.id, Math.round(3e5 * scale), 64, base)
await realm.close()

const worker = createWorkerRuntime({ size: 1 })
await worker.prepare(program)
await measure('worker, 1 thread', worker, program.id, Math.round(2e4 * scale), 1, base)
await measure('worker, 1 thread', worker, program.id, Math.round(1e5 * scale), 64, base)
await worker.close()
