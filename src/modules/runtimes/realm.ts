import type { Exchange, HookName, HookOutcome, HostCalls, ModuleProgram, ModuleRuntime, RunOptions } from '../types.js'
import { KernelHost, type KernelHostOptions } from './kernel-host.js'
import { createSesRealm } from './ses-realm.js'

/** Options of the realm runtime. */
export type RealmRuntimeOptions = KernelHostOptions

/**
 * The `realm` runtime: SES locked down inside a `node:vm` context on the host thread, one Compartment per module,
 * the kernel between them and the host. About a microsecond per call; no memory limit and no preemption of
 * synchronous code (a `while (true) {}` blocks the host thread; use the worker runtime for untrusted code). Module
 * code that leaves a promise rejection unhandled reaches the host's `unhandledRejection` (the realm shares the
 * host's microtask queue and rejection tracking), so this runtime is for trusted payloads.
 */
export function createRealmRuntime(options: RealmRuntimeOptions = {}): ModuleRuntime {
  const host = new KernelHost('primitive', (env) => createSesRealm(env).kernel, options)
  return {
    kind: 'realm',
    async prepare(program: ModuleProgram): Promise<{ hooks: HookName[] }> {
      if ('native' in program) throw new TypeError('the realm runtime runs compiled modules; use the native runtime for defineModule()')
      return host.prepare(program)
    },
    run: (programId: string, hook: HookName, exchange: Exchange, calls: HostCalls, runOptions?: RunOptions): HookOutcome | Promise<HookOutcome> => host.run(programId, hook, exchange, calls, runOptions),
    release: (programId: string) => host.release(programId),
    async close() {
      host.close()
    },
  }
}
