import type { DefinedModule, ModuleHooks } from '../context-types.js'
import { createHostKernel } from '../kernel/source.js'
import type { Exchange, HookName, HookOutcome, HostCalls, ModuleProgram, ModuleRuntime, RunOptions } from '../types.js'
import { KernelHost, type KernelHostOptions } from './kernel-host.js'

/** Options of the native runtime. */
export type NativeRuntimeOptions = KernelHostOptions

/**
 * Defines a module in the host app, run by the native runtime with the same `ctx` as sandboxed modules:
 * ```ts
 * export default defineModule({ requestModifier(ctx) { ctx.request().headers.set('x-seen', '1') } })
 * ```
 */
export function defineModule(hooks: ModuleHooks): DefinedModule {
  for (const [name, value] of Object.entries(hooks)) {
    if (value !== undefined && typeof value !== 'function') throw new TypeError(`defineModule: ${name} must be a function`)
  }
  return Object.freeze({ kind: 'dgate.module', hooks: Object.freeze({ ...hooks }) })
}

/**
 * The `native` runtime: `defineModule` hooks from the host app, in-process. The ctx is the sandbox kernel's own code
 * running in the host realm over the same Exchange/HookOutcome data (exchanges are read in place and copied on
 * write, locals and results still go through JSON), so a module behaves the same in every runtime.
 */
export function createNativeRuntime(options: NativeRuntimeOptions = {}): ModuleRuntime {
  const host = new KernelHost('object', createHostKernel, options)
  return {
    kind: 'native',
    async prepare(program: ModuleProgram): Promise<{ hooks: HookName[] }> {
      if (!('native' in program)) throw new TypeError('the native runtime runs defineModule() programs; use the realm or worker runtime for compiled modules')
      if (program.native?.kind !== 'dgate.module') throw new TypeError('the native program is not a defineModule() result')
      return host.prepare(program)
    },
    run: (programId: string, hook: HookName, exchange: Exchange, calls: HostCalls, runOptions?: RunOptions): HookOutcome | Promise<HookOutcome> => host.run(programId, hook, exchange, calls, runOptions),
    release: (programId: string) => host.release(programId),
    async close() {
      host.close()
    },
  }
}
