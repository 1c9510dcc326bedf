import type { CallState, makeContext } from './context.js'
import type { Kernel, KernelEnv, OutcomeFields } from './env.js'
import type { Rpc, makeImports } from './imports.js'
import type { makeMaps } from './maps.js'
import type { makeText } from './text.js'
import type { makeWeb } from './web.js'

/** The kernel parts, passed as functions so the same wiring runs from source text (sandbox) or directly (native). */
export interface KernelFactories {
  makeText: typeof makeText
  makeWeb: typeof makeWeb
  makeMaps: typeof makeMaps
  makeContext: typeof makeContext
  makeImports: typeof makeImports
}

/**
 * Boots the kernel: wires the parts, keeps the loaded programs, the calls in flight, the pending host calls and the
 * timers. Self-contained (serialized into the sandbox). Runs in the realm's start compartment after `lockdown()`,
 * before any module code, so the intrinsics it captures are the frozen originals.
 */
export function bootKernel(env: KernelEnv, f: KernelFactories): Kernel {
  const { JSON, Object, String, Map, Set, Promise, Reflect, Error, Math } = globalThis
  const g = globalThis as unknown as {
    Compartment?: new (options: Record<string, unknown>) => { globalThis: { Error: ErrorConstructor }; importNow(spec: string): Record<string, unknown> }
    harden?: <T>(value: T) => T
  }
  const Compartment = g.Compartment
  const harden = g.harden ?? (<T>(value: T): T => value)
  // Errors that module code sees are made with a compartment's Error (SES's shared, tamed constructor), never with
  // the start compartment's, whose constructor carries more power.
  const SafeError: ErrorConstructor = Compartment ? new Compartment({ __options__: true }).globalThis.Error : Error
  const HOOKS = ['fetchUpstream', 'requestModifier', 'responseModifier', 'errorHandler', 'requestHandler']

  interface Program {
    id: string
    entry: string
    hooks: Record<string, (...args: unknown[]) => unknown>
    live: Set<Entry>
  }
  interface Entry {
    call: CallState
    program: Program
    /** The call's pending timers, made on the first. */
    timers: Set<number> | undefined
  }
  interface Timer {
    entry: Entry
    fn: () => void
    ms: number
    repeat: boolean
  }

  const programs = new Map<string, Program>()
  const calls = new Map<number, Entry>()
  const pending = new Map<number, { resolve: (v: { value: unknown; bytes: Uint8Array | undefined }) => void; reject: (e: unknown) => void }>()
  const timers = new Map<number, Timer>()
  let nextRequest = 1
  let nextTimer = 1
  /** The call whose code runs synchronously right now (hook body, timer callback). */
  let active: Entry | undefined

  function message(e: unknown): string {
    try {
      if (e !== null && typeof e === 'object' && 'message' in e) {
        const m = (e as { message: unknown }).message
        return typeof m === 'string' ? m : String(m)
      }
      return String(e)
    } catch {
      return 'the module threw a value that cannot be described'
    }
  }

  /**
   * Where an error was thrown in module code, from its stack (module programs carry a `dgate-module://ns/name`
   * source URL). Stacks are hidden under the default error taming, so this finds something only in the load-check
   * realm, which uses `errorTaming: 'unsafe'`.
   */
  function where(e: unknown): { module: string; line: number; column: number } | undefined {
    try {
      const stack = e !== null && typeof e === 'object' ? (e as { stack?: unknown }).stack : undefined
      if (typeof stack !== 'string') return undefined
      const m = /dgate-module:\/\/[^/\s]*\/([^\s:)]+):(\d+):(\d+)/.exec(stack)
      return m ? { module: decodeURIComponent(m[1]!), line: Number(m[2]), column: Number(m[3]) } : undefined
    } catch {
      return undefined
    }
  }

  function request(callId: number, op: string, args: string, bytes?: Uint8Array): Promise<{ value: unknown; bytes: Uint8Array | undefined }> {
    return new Promise((resolve, reject) => {
      const id = nextRequest++
      pending.set(id, { resolve, reject })
      try {
        env.host(callId, id, op, args, bytes)
      } catch (e) {
        pending.delete(id)
        reject(new SafeError(message(e)))
      }
    })
  }

  /**
   * The call host capabilities are attributed to. Synchronous code knows its call; an async continuation of
   * module code does not (there is no async context in a realm), so it is attributed to the latest live call of
   * the same program. Every call of a program shares the namespace, so documents, storage and fetch behave the
   * same whichever it is; only the request id on a log line can be another request's in interleaved async code.
   */
  function currentEntry(program: unknown): Entry | undefined {
    if (active && active.program === program) return active
    let last: Entry | undefined
    for (const e of (program as Program).live) last = e
    return last
  }

  const text = f.makeText(env)
  const web = f.makeWeb(env)
  const maps = f.makeMaps(web.encodeQuery)
  const ctx = f.makeContext(text, web, maps, SafeError, message)
  const imports = f.makeImports({
    env,
    text,
    web,
    maps,
    SafeError,
    rpcFor(program): Rpc | undefined {
      const entry = currentEntry(program)
      if (!entry) return undefined
      const id = entry.call.id
      return (op, args, bytes) => request(id, op, args, bytes)
    },
    log(program, level, line, module) {
      const entry = currentEntry(program)
      env.host(entry ? entry.call.id : 0, 0, 'log', JSON.stringify([level, line, module]))
    },
    setTimer(program, fn, ms, repeat) {
      const entry = currentEntry(program)
      if (!entry) throw new SafeError('timers are only available while a hook runs')
      const id = nextTimer++
      timers.set(id, { entry, fn, ms, repeat })
      ;(entry.timers ??= new Set()).add(id)
      env.setTimer(id, ms)
      return id
    },
    clearTimer(id) {
      const timer = timers.get(Number(id))
      if (!timer) return
      timers.delete(Number(id))
      timer.entry.timers?.delete(Number(id))
      env.clearTimer(Number(id))
    },
  })
  for (const c of [...ctx.classes, ...maps.classes, ...imports.classes, web.URL, web.URLSearchParams, text.TextEncoder, text.TextDecoder]) harden(c)

  function stop(entry: Entry): void {
    entry.call.done = true
    if (entry.timers) {
      for (const id of entry.timers) {
        timers.delete(id)
        env.clearTimer(id)
      }
      entry.timers = undefined
    }
    entry.program.live.delete(entry)
    calls.delete(entry.call.id)
  }

  function finish(entry: Entry, result: unknown, failure: string | undefined): void {
    if (entry.call.done) return
    stop(entry)
    let outcome: OutcomeFields
    try {
      outcome = ctx.outcomeOf(entry.call, result, failure)
    } catch (e) {
      outcome = ctx.failed(message(e), 'thrown')
    }
    try {
      env.complete(entry.call.id, ...outcome)
    } catch (e) {
      // The fields are arguments, and an engine takes only so many. Header lists are capped far below that
      // (MAX_HEADER_LINES), so this only keeps the kernel's promise never to throw, or leave a call hanging.
      env.complete(entry.call.id, ...ctx.failed(`the hook's outcome could not be handed over: ${message(e)}`, 'thrown'))
    }
  }

  function text_(value: unknown): string {
    return typeof value === 'string' ? value : ''
  }

  function hooksOf(program: Program): string {
    return JSON.stringify({ hooks: HOOKS.filter((h) => typeof program.hooks[h] === 'function') })
  }

  function register(programId: string, entry: string, namespace: Record<string, unknown>, program: Program): string {
    for (const hook of HOOKS) {
      let value: unknown
      try {
        value = namespace[hook]
      } catch (e) {
        return JSON.stringify({ error: `${hook}: ${message(e)}` })
      }
      if (value === undefined || value === null) continue
      if (typeof value !== 'function') return JSON.stringify({ error: `invalid hook: ${hook} is a ${typeof value}, not a function` })
      program.hooks[hook] = value as (...args: unknown[]) => unknown
    }
    programs.set(programId, program)
    void entry
    return hooksOf(program)
  }

  function load(programId: string, modulesJson: string, entry: string): string {
    const existing = programs.get(programId)
    if (existing) return hooksOf(existing)
    if (!Compartment) return JSON.stringify({ error: 'this kernel has no compartments (native mode)' })
    const program: Program = { id: programId, entry, hooks: {}, live: new Set() }
    try {
      const modules = JSON.parse(modulesJson) as { name: string; record: unknown; dependencies: Record<string, string> }[]
      const namespaces = imports.namespaces(program)
      for (const key of Object.keys(namespaces)) harden(namespaces[key])
      type C = InstanceType<NonNullable<typeof Compartment>>
      const compartments = new Map<string, C>()
      for (const m of modules) {
        const globals = harden(imports.globals(program, m.name, namespaces))
        const descriptor = (spec: string): Record<string, unknown> | undefined => {
          if (spec === m.name) return { source: m.record }
          const ns = namespaces[spec]
          if (ns) return { namespace: ns }
          const sibling = compartments.get(spec)
          if (sibling) return { namespace: spec, compartment: sibling }
          return undefined
        }
        compartments.set(
          m.name,
          new Compartment({
            __options__: true,
            name: m.name,
            globals,
            noAggregateLoadErrors: true,
            resolveHook: (spec: string) => {
              const target = m.dependencies[spec]
              if (target === undefined) throw new SafeError(`${m.name}: cannot import "${spec}"`)
              return target
            },
            importNowHook: descriptor,
            importHook: async (spec: string) => descriptor(spec),
          }),
        )
      }
      const main = compartments.get(entry)
      if (!main) return JSON.stringify({ error: `entry module "${entry}" is not in the program` })
      return register(programId, entry, main.importNow(entry), program)
    } catch (e) {
      return JSON.stringify({ error: message(e), at: where(e) })
    }
  }

  function loadNative(programId: string, entry: string, hooks: object): string {
    const existing = programs.get(programId)
    if (existing) return hooksOf(existing)
    return register(programId, entry, hooks as Record<string, unknown>, { id: programId, entry, hooks: {}, live: new Set() })
  }

  // Typed by the Kernel interface, which documents the arguments.
  const run: Kernel['run'] = (callId, programId, hook, route, service, namespace, requestBody, responseBody, upstreamBody, ...exchange) => {
    const program = programs.get(programId)
    const fn = program ? program.hooks[hook] : undefined
    if (!program || typeof fn !== 'function') {
      const reason = program ? `the module does not export ${hook}` : `program ${programId} is not loaded`
      return env.complete(callId, ...ctx.failed(reason, 'unavailable'))
    }
    const owned = env.mode === 'primitive'
    // Primitive mode takes snapshot text only: anything else from the runtime is treated as absent.
    const snapshots: [unknown, unknown, unknown] = owned ? [text_(route), text_(service), text_(namespace)] : [route, service, namespace]
    let call: CallState
    try {
      const bodies: [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined] = [text.own(requestBody), text.own(responseBody), text.own(upstreamBody)]
      call = ctx.begin(callId, hook, exchange, owned, snapshots, (op, args, bytes) => request(callId, op, args, bytes), bodies)
    } catch (e) {
      return env.complete(callId, ...ctx.failed(`invalid exchange: ${message(e)}`, 'unavailable'))
    }
    const entry: Entry = { call, program, timers: undefined }
    let result: unknown
    active = entry
    try {
      const args = hook === 'errorHandler' ? [ctx.ctxOf(call), ctx.errorOf(call)] : [ctx.ctxOf(call)]
      result = Reflect.apply(fn, undefined, args)
    } catch (e) {
      active = undefined
      return finish(entry, undefined, message(e))
    }
    active = undefined
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      let then: unknown
      try {
        then = (result as { then?: unknown }).then
      } catch (e) {
        return finish(entry, undefined, message(e))
      }
      if (typeof then === 'function') {
        // Still running: findable by abort() and by its program's async continuations (currentEntry). A call that
        // completes synchronously never enters these (a map that grows and shrinks by one entry reallocates).
        calls.set(callId, entry)
        program.live.add(entry)
        // Adopted into a kernel promise; the runtime only ever sees the settled, normalised outcome.
        new Promise((resolve, reject) => {
          Reflect.apply(then as (...a: unknown[]) => unknown, result, [resolve, reject])
        }).then(
          (value) => finish(entry, value, undefined),
          (e) => finish(entry, undefined, message(e)),
        )
        return
      }
    }
    finish(entry, result, undefined)
  }

  function deliver(reqId: number, ok: boolean, value: string, bytes?: Uint8Array): void {
    const p = pending.get(reqId)
    if (!p) return
    pending.delete(reqId)
    if (!ok) return p.reject(new SafeError(String(value)))
    let parsed: unknown
    try {
      parsed = value === '' ? undefined : JSON.parse(String(value))
    } catch {
      return p.reject(new SafeError('invalid host answer'))
    }
    p.resolve({ value: parsed, bytes: text.own(bytes) })
  }

  function fire(timerId: number): void {
    const timer = timers.get(timerId)
    if (!timer) return
    if (timer.repeat) env.setTimer(timerId, Math.max(1, timer.ms))
    else {
      timers.delete(timerId)
      timer.entry.timers?.delete(timerId)
    }
    active = timer.entry
    try {
      timer.fn()
    } catch (e) {
      env.host(timer.entry.call.id, 0, 'log', JSON.stringify(['error', `uncaught error in a timer callback: ${message(e)}`, timer.entry.program.entry]))
    } finally {
      active = undefined
    }
  }

  function abort(callId: number): void {
    const entry = calls.get(callId)
    if (entry) stop(entry)
  }

  return harden({
    load,
    loadNative,
    unload: (programId: string) => {
      programs.delete(programId)
    },
    run,
    deliver,
    fire,
    abort,
  })
}
