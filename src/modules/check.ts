import vm from 'node:vm'
import { createHash, createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto'
import { compileModule, DGATE_IMPORTS, ModuleCompileError, type ModuleSourceInput } from './compile.js'
import type { Kernel, KernelEnv } from './kernel/env.js'
import { makeNativeOps } from './kernel/native-ops.js'
import { createSesRealm } from './runtimes/ses-realm.js'
import type { CompiledModule } from './types.js'
import type * as NodeCrypto from 'node:crypto'

/** Options of {@link checkModule}. */
export interface CheckOptions {
  /** How long the module's top-level code may run (default 1000 ms). */
  timeoutMs?: number
}

interface CheckRealm {
  context: vm.Context
  kernel: Kernel
}

let realm: CheckRealm | undefined
let nextCheck = 1
const loadScript = new vm.Script('__dgateCheck.kernel.load(__dgateCheck.id, __dgateCheck.modules, __dgateCheck.entry)', { filename: 'dgate-check.js' })

/** A realm for checks only: stacks kept (`errorTaming: 'unsafe'`) so a throw's line can be reported; no host calls. */
function checkRealm(): CheckRealm {
  if (realm) return realm
  const ops = makeNativeOps({ crypto: { createHash, createHmac, randomBytes, randomInt, randomUUID } as unknown as typeof NodeCrypto, Buffer, URL, TextDecoder })
  const env: KernelEnv = {
    mode: 'primitive',
    complete: () => {},
    host: () => {},
    setTimer: () => {},
    clearTimer: () => {},
    crypto: (op, args, a, b) => ops.crypto(String(op), String(args), a && new Uint8Array(a), b && new Uint8Array(b)),
    url: (input, base, prop, value) => ops.url(String(input), String(base), String(prop), String(value)),
    utf8Encode: (text) => ops.utf8Encode(String(text)),
    utf8Decode: (bytes, fatal, ignoreBom) => ops.utf8Decode(new Uint8Array(bytes), fatal === true, ignoreBom === true),
  }
  const created = createSesRealm(env, { errorTaming: 'unsafe' })
  realm = { context: created.context, kernel: created.kernel }
  return realm
}

/**
 * Compiles `module` and runs its top-level code once in a throwaway compartment of a check realm, synchronously
 * (for the state's `ApplyChecks.module`): a module that does not compile, imports what it may not, throws at top
 * level, runs longer than `timeoutMs` at top level, or exports a hook name that is not a function is refused with a
 * {@link ModuleCompileError} naming the line and the reason. `namespaceModules` are the other modules of the
 * namespace (as they will be after the write); the ones `module` imports are compiled and loaded with it.
 *
 * Limit: the check runs on the host thread, so top-level code that allocates without bound can exhaust the host's
 * heap; the deadline bounds only time.
 */
export function checkModule(module: ModuleSourceInput, namespaceModules: Iterable<ModuleSourceInput>, options: CheckOptions = {}): CompiledModule {
  const sources = new Map<string, ModuleSourceInput>()
  for (const m of namespaceModules) sources.set(m.name, m)
  sources.set(module.name, module)
  const names = [...sources.keys()]
  const compiled = compileModule(module, names)
  const program: CompiledModule[] = [compiled]
  const seen = new Set([module.name])
  for (let i = 0; i < program.length; i++) {
    for (const target of Object.values(program[i]!.dependencies)) {
      if (DGATE_IMPORTS.includes(target) || seen.has(target)) continue
      seen.add(target)
      try {
        program.push(compileModule(sources.get(target)!, names))
      } catch (e) {
        if (!(e instanceof ModuleCompileError)) throw e
        throw new ModuleCompileError(module.name, `imports "${target}", which is refused: ${e.issues[0]?.reason ?? e.message}`)
      }
    }
  }
  runTopLevel(module.name, program, options.timeoutMs ?? 1000)
  return compiled
}

function runTopLevel(name: string, modules: CompiledModule[], timeoutMs: number): void {
  const { context, kernel } = checkRealm()
  const id = `check-${nextCheck++}`
  const json = JSON.stringify(modules.map(({ name: n, record, dependencies }) => ({ name: n, record, dependencies })))
  // Strings only: the realm script reads them and calls the kernel; vm's timeout covers everything it runs synchronously.
  context.__dgateCheck = { kernel, id, modules: json, entry: name }
  let answer: unknown
  try {
    answer = loadScript.runInContext(context, { timeout: timeoutMs })
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new ModuleCompileError(name, `top-level code did not finish within ${timeoutMs} ms`)
    throw new ModuleCompileError(name, 'top-level code could not be checked')
  } finally {
    delete context.__dgateCheck
    kernel.unload(id)
  }
  const parsed = JSON.parse(typeof answer === 'string' ? answer : '{"error":"unreadable answer"}') as { error?: string; at?: { module: string; line: number; column: number } }
  if (parsed.error === undefined) return
  const at = parsed.at
  if (at && at.module !== name) throw new ModuleCompileError(name, `top-level code threw in imported module "${at.module}" at line ${at.line}: ${parsed.error}`)
  const reason = /^invalid hook:/.test(parsed.error) ? parsed.error : `top-level code threw: ${parsed.error}`
  throw new ModuleCompileError(name, reason, at?.line, at?.column)
}
