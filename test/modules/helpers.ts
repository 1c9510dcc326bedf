import { compileModule, createProgram, type ModuleSourceInput } from '../../src/modules/compile.js'
import { createNativeRuntime, defineModule } from '../../src/modules/runtimes/native.js'
import { createRealmRuntime } from '../../src/modules/runtimes/realm.js'
import { createWorkerRuntime } from '../../src/modules/runtimes/worker.js'
import type { HookName, HookOutcome, ModuleHooks, ModuleRuntime } from '../../src/modules/types.js'
import type { CompiledProgram, Exchange, HostCalls, HostFetchInit, HostFetchResponse, JsonValue, ModuleDocument, ModuleLogLevel } from '../../src/modules/types.js'

/** Compiles modules of one namespace into a program whose entry is the first. */
export function program(modules: (Omit<ModuleSourceInput, 'moduleType'> & { moduleType?: ModuleSourceInput['moduleType'] })[], namespace = 'default'): CompiledProgram {
  const names = modules.map((m) => m.name)
  const compiled = modules.map((m) => compileModule({ moduleType: 'javascript', namespace, ...m }, names))
  return createProgram(namespace, modules[0]!.name, compiled)
}

/** One JavaScript entry module. */
export function single(payload: string, name = 'main'): CompiledProgram {
  return program([{ name, payload }])
}

/** A request exchange with sensible defaults. */
export function exchange(over: Omit<Partial<Exchange>, 'request'> & { request?: Partial<Exchange['request']> } = {}): Exchange {
  const { request, ...rest } = over
  return {
    id: 'req-1',
    params: { id: '42', '*': 'rest/of/path' },
    route: { name: 'r1', paths: ['/users/{id}/*'], methods: ['GET', 'POST'], namespace: 'default' },
    service: { name: 's1', urls: ['http://127.0.0.1:1'], namespace: 'default' },
    namespace: { name: 'default', tags: [] },
    locals: {},
    response: { headers: [], ended: false },
    ...rest,
    request: {
      method: 'GET',
      path: '/users/42/rest/of/path',
      host: 'api.example.com',
      proto: 'HTTP/1.1',
      remoteAddress: '10.1.2.3',
      contentLength: -1,
      headers: [['accept', 'application/json'], ['x-multi', 'a'], ['x-multi', 'b'], ['cookie', 'sid=abc; theme="dark"']],
      query: 'a=1&b=two+words&a=3',
      ...request,
    },
  }
}

/** A HostCalls fake that records what modules did; documents and storage are in memory. */
export class FakeHost implements HostCalls {
  logs: { level: ModuleLogLevel; message: string; module: string }[] = []
  requestBodyReads = 0
  upstreamBodyReads = 0
  fetches: { url: string; init: HostFetchInit }[] = []
  docs = new Map<string, ModuleDocument>()
  cache = new Map<string, { value: JsonValue; ttl: number | undefined }>()
  constructor(
    public requestBody: Uint8Array = new TextEncoder().encode('{"name":"ada"}'),
    public upstreamBody: Uint8Array = new TextEncoder().encode('{"ok":true}'),
    public fetchImpl?: (url: string, init: HostFetchInit) => Promise<HostFetchResponse>,
  ) {}
  async readRequestBody(): Promise<Uint8Array> {
    this.requestBodyReads++
    return this.requestBody
  }
  async readUpstreamBody(): Promise<Uint8Array> {
    this.upstreamBodyReads++
    return this.upstreamBody
  }
  log(level: ModuleLogLevel, message: string, module: string): void {
    this.logs.push({ level, message, module })
  }
  documents = {
    get: async (collection: string, id: string) => this.docs.get(`${collection}/${id}`) ?? null,
    list: async (collection: string, options: { limit?: number; offset?: number }) => {
      const all = [...this.docs.values()].filter((d) => d.collection === collection).sort((a, b) => (a.id < b.id ? -1 : 1))
      const from = options.offset ?? 0
      return all.slice(from, options.limit === undefined ? undefined : from + options.limit)
    },
    put: async (collection: string, id: string, data: JsonValue) => {
      if (collection === 'locked') throw new Error('collection "locked": data must be an object')
      const doc: ModuleDocument = { id, collection, namespace: 'default', data, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' }
      this.docs.set(`${collection}/${id}`, doc)
      return doc
    },
    delete: async (collection: string, id: string) => this.docs.delete(`${collection}/${id}`),
  }
  storage = {
    get: async (key: string) => this.cache.get(key)?.value ?? null,
    set: async (key: string, value: JsonValue, ttl: number | undefined) => {
      this.cache.set(key, { value, ttl })
    },
    delete: async (key: string) => this.cache.delete(key),
  }
  fetch(url: string, init: HostFetchInit): Promise<HostFetchResponse> {
    this.fetches.push({ url, init })
    if (!this.fetchImpl) return Promise.reject(new Error('fetch is not available in this test'))
    return this.fetchImpl(url, init)
  }
}

/** UTF-8 text of bytes. */
export function text(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : new TextDecoder().decode(bytes)
}

/** The three runtimes, for `describe.each`. Worker runtimes are small and quick to fail in tests. */
export const RUNTIMES: [string, () => ModuleRuntime][] = [
  ['native', () => createNativeRuntime({ deadlineMs: 2000 })],
  ['realm', () => createRealmRuntime({ deadlineMs: 2000 })],
  ['worker', () => createWorkerRuntime({ size: 1, deadlineMs: 2000 })],
]

/** The sandboxed runtimes. */
export const SANDBOXES = RUNTIMES.filter(([name]) => name !== 'native')

type Hook = (...args: never[]) => unknown

/**
 * Loads hooks written as self-contained test functions into a runtime: natively through defineModule, or as the
 * source text of an ESM module (`export const hook = <function source>`) for the sandboxes, so every runtime runs
 * the very same code.
 */
export async function load(runtime: ModuleRuntime, hooks: Partial<Record<HookName, Hook>>, prelude = ''): Promise<string> {
  if (runtime.kind === 'native') {
    const id = `native-${Math.random()}`
    await runtime.prepare({ id, entry: 'main', native: defineModule(hooks as ModuleHooks) })
    return id
  }
  const body = Object.entries(hooks).map(([name, fn]) => `export const ${name} = ${fn!.toString()};`).join('\n')
  const p = single(`${prelude}\n${body}`)
  await runtime.prepare(p)
  return p.id
}

/** Loads one hook and runs it once. */
export async function runHook(runtime: ModuleRuntime, hook: HookName, fn: Hook, ex: Exchange = exchange(), host: HostCalls = new FakeHost(), prelude = ''): Promise<HookOutcome> {
  const id = await load(runtime, { [hook]: fn }, prelude)
  return runtime.run(id, hook, ex, host)
}
