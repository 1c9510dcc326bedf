import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import vm from 'node:vm'
import type { Kernel, KernelEnv } from '../kernel/env.js'
import { kernelSource } from '../kernel/source.js'
import { lockdownScript } from './lockdown.js'

let sesScript: vm.Script | undefined
let kernelScript: vm.Script | undefined

/**
 * Where `ses.umd.js` is: a plain script that installs `lockdown` and `Compartment` on the global of whatever realm
 * evaluates it. Resolved from this file, so it works from `src`, from the `dist` bundle and from bench bundles.
 */
export function sesScriptPath(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('ses/package.json')), 'dist', 'ses.umd.js')
}

/** Options of a sandbox realm. */
export interface SesRealmOptions {
  /**
   * `safe` (default) hides error stacks from module code; `unsafe` keeps them (used by the load check, which
   * reports the line a module's top-level code threw at).
   */
  errorTaming?: 'safe' | 'unsafe'
}

/** A vm context with SES locked down inside it and the kernel booted over `env`. */
export interface SesRealm {
  /** The vm context (the realm). */
  readonly context: vm.Context
  /** The kernel, a realm object: call its methods only with primitives and Uint8Arrays. */
  readonly kernel: Kernel
}

/**
 * Creates a realm: a fresh `node:vm` context, SES evaluated and locked down INSIDE it (never in the host realm,
 * which must keep its error stacks, `util.inspect`, process handlers and patchable prototypes; and never
 * `import 'ses'` in the host, which alone adds globals and patches `ArrayBuffer.prototype`), then the kernel
 * evaluated before any module code so it captures the frozen intrinsics. The lockdown is `sandboxLockdown` (lockdown.ts),
 * which keeps V8's process-wide fast paths intact.
 */
export function createSesRealm(env: KernelEnv, options: SesRealmOptions = {}): SesRealm {
  sesScript ??= new vm.Script(readFileSync(sesScriptPath(), 'utf8'), { filename: 'ses.umd.js' })
  kernelScript ??= new vm.Script(kernelSource(), { filename: 'dgate-kernel.js' })
  // String code generation stays on: compartments evaluate module programs with a tamed eval. Wasm is off.
  const context = vm.createContext({}, { name: 'dgate-modules', codeGeneration: { strings: true, wasm: false } })
  sesScript.runInContext(context)
  const lockdownOptions = {
    errorTaming: options.errorTaming ?? 'safe',
    // The realm has no `process` or `console`; nothing to trap or report to.
    errorTrapping: 'none',
    unhandledRejectionTrapping: 'none',
    reporting: 'none',
    consoleTaming: 'unsafe',
  }
  vm.runInContext(lockdownScript(lockdownOptions), context, { filename: 'dgate-lockdown.js' })
  const boot = kernelScript.runInContext(context) as (env: KernelEnv) => Kernel
  return { context, kernel: boot(env) }
}
