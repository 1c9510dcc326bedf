import { createHash, randomBytes, randomInt, randomUUID, createHmac } from 'node:crypto'
import type * as NodeCrypto from 'node:crypto'
import type { Kernel, KernelEnv } from '../kernel/env.js'
import { makeNativeOps } from '../kernel/native-ops.js'
import { dispatchHostCall, errorMessage, logArgs } from '../host/dispatch.js'
import { ModuleLoadError } from '../errors.js'
import type { Exchange, HookName, HookOutcome, HostCalls, ModuleLogLevel, ModuleProgram, RunOptions } from '../types.js'
import { buildOutcome, exchangeBodies, exchangeFields, exchangeRefusal, failedOutcome, hostBytes, snapshotJson } from './wire.js'
import { Watchdog } from './watchdog.js'

/** Default per-call deadline: DESIGN.md 5.4. */
export const DEFAULT_DEADLINE_MS = 5000

/** Options shared by the in-thread runtimes. */
export interface KernelHostOptions {
  /** Per-call deadline in ms (default 5000). In-thread runtimes cannot preempt synchronous code: it fails calls that do not settle. */
  deadlineMs?: number
  /** Where module console output goes when no request is running (top-level code). Default: dropped. */
  log?: (level: ModuleLogLevel, message: string, module: string) => void
}

interface Pending {
  exchange: Exchange
  host: HostCalls
  /** Set once `run` has returned a promise: a call that completes synchronously never gets one. */
  resolve: ((outcome: HookOutcome) => void) | undefined
  /** The outcome of a call that completed before `run` returned. */
  outcome: HookOutcome | undefined
}

/** Hands a call's outcome over: to its promise, or to `run` when the call completes before `run` returns. */
function settle(pending: Pending, outcome: HookOutcome): void {
  if (pending.resolve) pending.resolve(outcome)
  else pending.outcome = outcome
}

const nodeCrypto = { createHash, createHmac, randomBytes, randomInt, randomUUID } as unknown as typeof NodeCrypto

/**
 * Runs a kernel on the host thread (the realm runtime's kernel lives in a vm realm, the native runtime's in the host
 * realm) and implements its env: timers, host calls dispatched to the call's {@link HostCalls}, and outcomes
 * turned into host data. Only primitives and Uint8Arrays are exchanged with the kernel.
 */
export class KernelHost {
  readonly #mode: 'primitive' | 'object'
  readonly #makeKernel: (env: KernelEnv) => Kernel
  readonly #options: KernelHostOptions
  /** Calls still running after `run` returned (they await something). */
  readonly #calls = new Map<number, Pending>()
  /**
   * The call `run` is inside of. Most hooks complete before `run` returns; they are found here and never enter
   * {@link #calls} (a map that grows and shrinks by one entry per call reallocates its table each time).
   */
  #currentId = 0
  #current: Pending | undefined
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>()
  readonly #hooks = new Map<string, HookName[]>()
  readonly #watchdog: Watchdog
  #kernel: Kernel | undefined
  #nextCall = 1
  #closed = false

  constructor(mode: 'primitive' | 'object', makeKernel: (env: KernelEnv) => Kernel, options: KernelHostOptions) {
    this.#mode = mode
    this.#makeKernel = makeKernel
    this.#options = options
    const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS
    this.#watchdog = new Watchdog(Math.min(100, Math.max(5, deadline / 10)))
  }

  #env(): KernelEnv {
    const ops = makeNativeOps({ crypto: nodeCrypto, Buffer, URL, TextDecoder })
    return {
      mode: this.#mode,
      complete: (callId, ...outcome) => {
        const pending = this.#pending(callId)
        if (!pending) return
        if (pending === this.#current) this.#current = undefined
        else {
          this.#calls.delete(callId)
          this.#watchdog.untrack(callId)
        }
        // Primitive mode: only primitives and byte arrays are read from the realm's fields (buildOutcome checks each).
        settle(pending, buildOutcome(pending.exchange, outcome, this.#mode === 'object'))
      },
      host: (callId, reqId, op, args, bytes) => this.#hostCall(Number(callId), Number(reqId), String(op), typeof args === 'string' ? args : '', hostBytes(bytes)),
      setTimer: (id, ms) => {
        const timerId = Number(id)
        this.#timers.set(
          timerId,
          setTimeout(() => {
            this.#timers.delete(timerId)
            this.#kernel?.fire(timerId)
          }, Number(ms)),
        )
      },
      clearTimer: (id) => {
        clearTimeout(this.#timers.get(Number(id)))
        this.#timers.delete(Number(id))
      },
      crypto: (op, args, a, b) => ops.crypto(String(op), String(args), hostBytes(a), hostBytes(b)),
      url: (input, base, prop, value) => ops.url(String(input), String(base), String(prop), String(value)),
      utf8Encode: (text) => ops.utf8Encode(String(text)),
      utf8Decode: (bytes, fatal, ignoreBom) => ops.utf8Decode(hostBytes(bytes) ?? new Uint8Array(0), fatal === true, ignoreBom === true),
    }
  }

  /** A running call by id. */
  #pending(callId: number): Pending | undefined {
    return callId === this.#currentId && this.#current !== undefined ? this.#current : this.#calls.get(callId)
  }

  #hostCall(callId: number, reqId: number, op: string, args: string, bytes: Uint8Array | undefined): void {
    const pending = this.#pending(callId)
    if (reqId === 0) {
      if (op !== 'log') return
      try {
        const [level, message, module] = logArgs(args)
        if (pending) pending.host.log(level, message, module)
        else this.#options.log?.(level, message, module)
      } catch {
        // A logger failure must not fail the module.
      }
      return
    }
    if (!pending) {
      queueMicrotask(() => this.#kernel?.deliver(reqId, false, 'the request has finished'))
      return
    }
    dispatchHostCall(pending.host, op, args, bytes).then(
      (answer) => this.#kernel?.deliver(reqId, true, answer.value, answer.bytes),
      (e: unknown) => this.#kernel?.deliver(reqId, false, errorMessage(e)),
    )
  }

  /** The kernel, created on first use. */
  kernel(): Kernel {
    if (this.#closed) throw new Error('the module runtime is closed')
    return (this.#kernel ??= this.#makeKernel(this.#env()))
  }

  /** Loads a program with `load` (compiled) or `loadNative`, once per id. */
  prepare(program: ModuleProgram): { hooks: HookName[] } {
    const known = this.#hooks.get(program.id)
    if (known) return { hooks: known }
    const kernel = this.kernel()
    const answer: unknown =
      'native' in program
        ? kernel.loadNative(program.id, program.entry, program.native.hooks)
        : kernel.load(program.id, JSON.stringify(program.modules.map(({ name, record, dependencies }) => ({ name, record, dependencies }))), program.entry)
    const parsed = JSON.parse(typeof answer === 'string' ? answer : '{"error":"unreadable answer"}') as { hooks?: HookName[]; error?: string }
    if (parsed.error !== undefined || !parsed.hooks) throw new ModuleLoadError(program.entry, String(parsed.error))
    this.#hooks.set(program.id, parsed.hooks)
    return { hooks: parsed.hooks }
  }

  /**
   * Runs one hook: the outcome itself when the hook finished synchronously (no promise, no suspended frame on the
   * request path), else a promise of it. Never rejects.
   */
  run(programId: string, hook: HookName, exchange: Exchange, host: HostCalls, options?: RunOptions): HookOutcome | Promise<HookOutcome> {
    if (this.#closed) return failedOutcome(exchange, 'the module runtime is closed', 'unavailable')
    const refusal = exchangeRefusal(exchange)
    if (refusal !== undefined) return failedOutcome(exchange, refusal, 'unavailable')
    const kernel = this.kernel()
    const callId = this.#nextCall++
    const pending: Pending = { exchange, host, resolve: undefined, outcome: undefined }
    // Saved and restored, should a host call made by the hook ever run another hook before it returns.
    const outerId = this.#currentId
    const outer = this.#current
    this.#currentId = callId
    this.#current = pending
    try {
      const [a, b, c] = exchangeBodies(exchange)
      if (this.#mode === 'primitive') {
        // Primitives pass into a vm realm as they are (same isolate): the cached snapshot texts cost nothing per call.
        const json = snapshotJson
        kernel.run(callId, programId, hook, json(exchange.route).json, json(exchange.service).json, json(exchange.namespace).json, a, b, c, ...exchangeFields(exchange))
      } else kernel.run(callId, programId, hook, exchange.route, exchange.service, exchange.namespace, a, b, c, exchange)
    } catch {
      // The kernel never throws by design; if it does (e.g. a stack overflow), only this call fails.
      return pending.outcome ?? failedOutcome(exchange, 'the module runtime failed', 'crashed')
    } finally {
      this.#currentId = outerId
      this.#current = outer
    }
    if (pending.outcome) return pending.outcome
    // Still running (it awaits something): it gets a promise and a deadline.
    this.#calls.set(callId, pending)
    return new Promise<HookOutcome>((resolve) => {
      pending.resolve = resolve
      const deadline = options?.deadlineMs ?? this.#options.deadlineMs ?? DEFAULT_DEADLINE_MS
      this.#watchdog.track(callId, performance.now() + deadline, () => {
        if (!this.#calls.delete(callId)) return
        kernel.abort(callId)
        resolve(failedOutcome(exchange, `the module did not finish within ${deadline} ms`, 'deadline'))
      })
    })
  }

  /** Forgets a program. */
  release(programId: string): void {
    this.#hooks.delete(programId)
    this.#kernel?.unload(programId)
  }

  /** Fails pending calls and drops the kernel (and with it the realm). */
  close(): void {
    this.#closed = true
    for (const [, pending] of this.#calls) settle(pending, failedOutcome(pending.exchange, 'the module runtime is closed', 'unavailable'))
    this.#calls.clear()
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    this.#watchdog.stop()
    this.#kernel = undefined
  }
}
