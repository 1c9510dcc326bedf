import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { dispatchHostCall, errorMessage, logArgs } from '../host/dispatch.js'
import { ModuleLoadError } from '../errors.js'
import type { CompiledProgram, Exchange, HookName, HookOutcome, HostCalls, ModuleLogLevel, ModuleProgram, ModuleRuntime, RunOptions } from '../types.js'
import { DEFAULT_DEADLINE_MS } from './kernel-host.js'
import { sesScriptPath } from './ses-realm.js'
import { Watchdog } from './watchdog.js'
import { buildOutcome, exchangeBodies, exchangeFields, exchangeRefusal, failedOutcome, snapshotJson, type SnapshotText } from './wire.js'
import { workerSource, type FromWorker, type ToWorker } from './worker-main.js'

/** Options of the worker runtime. */
export interface WorkerRuntimeOptions {
  /** Worker threads in the pool (default: cores − 1, at least 1, at most 4). */
  size?: number
  /** Per-call deadline in ms from dispatch (default 5000); also bounds a program's top-level code at load. */
  deadlineMs?: number
  /** V8 old-generation heap limit per worker in MB (default 64). */
  maxOldGenerationSizeMb?: number
  /** V8 young-generation limit per worker in MB (default 16). */
  maxYoungGenerationSizeMb?: number
  /** Calls dispatched to one worker at a time (default 64); more wait in the queue. */
  maxInFlightPerWorker?: number
  /** Calls that may wait for a worker (default 1024); beyond that, calls fail at once with code `overloaded`. */
  maxQueue?: number
  /**
   * After a deadline, how long a worker has to answer a ping before it is considered stuck, terminated and
   * respawned (default 200 ms). A worker that answers was only waiting (e.g. on a slow fetch): just the late call fails.
   */
  stuckGraceMs?: number
  /** Where module console output goes when no request is running (top-level code). Default: dropped. */
  log?: (level: ModuleLogLevel, message: string, module: string) => void
}

interface Call {
  id: number
  programId: string
  hook: HookName
  exchange: Exchange
  host: HostCalls
  deadlineMs: number
  resolve: (outcome: HookOutcome) => void
}

interface Load {
  id: number
  resolve: (answer: string) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  generation: number
  ready: boolean
  startFailures: number
  inflight: Map<number, Call>
  loads: Map<number, Load>
  loaded: Set<string>
  pingAt: number | undefined
  /** Messages for the worker, posted together at the end of the event-loop turn. */
  outbox: ToWorker[]
  flushing: boolean
  /** Snapshot texts this worker has (by {@link SnapshotText.id}). */
  snapshots: Set<number>
}

/** A worker forgets its snapshot texts when it holds more than this many (old resource versions pile up). */
const MAX_SNAPSHOTS_PER_WORKER = 512

interface ProgramEntry {
  program: CompiledProgram
  modules: string
  hooks: HookName[] | undefined
}

const MAX_START_FAILURES = 3

/**
 * The `worker` runtime (the default for payload modules): SES locked down inside a pool of `worker_threads`.
 * One periodic watchdog enforces every call's deadline; a worker that stays stuck is terminated and respawned, and
 * only the calls it held fail. `resourceLimits` caps each worker's heap: a module that allocates without bound kills
 * its worker (its calls fail with code `crashed`), and the pool respawns it. Programs are (re)loaded into a worker on
 * first use there, so a respawned worker gets them back.
 */
export function createWorkerRuntime(options: WorkerRuntimeOptions = {}): ModuleRuntime {
  return new WorkerRuntime(options)
}

class WorkerRuntime implements ModuleRuntime {
  readonly kind = 'worker' as const
  readonly #options: Required<Omit<WorkerRuntimeOptions, 'log'>> & Pick<WorkerRuntimeOptions, 'log'>
  readonly #slots: Slot[] = []
  readonly #queue: Call[] = []
  readonly #programs = new Map<string, ProgramEntry>()
  readonly #watchdog: Watchdog
  readonly #sesPath = sesScriptPath()
  #nextId = 1
  #closed = false
  #broken: string | undefined

  constructor(options: WorkerRuntimeOptions) {
    this.#options = {
      size: Math.max(1, Math.trunc(options.size ?? Math.min(4, Math.max(1, availableParallelism() - 1)))),
      deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
      maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 64,
      maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb ?? 16,
      maxInFlightPerWorker: Math.max(1, options.maxInFlightPerWorker ?? 64),
      maxQueue: Math.max(0, options.maxQueue ?? 1024),
      stuckGraceMs: options.stuckGraceMs ?? 200,
      log: options.log,
    }
    this.#watchdog = new Watchdog(Math.min(100, Math.max(5, this.#options.deadlineMs / 10)))
  }

  async prepare(program: ModuleProgram): Promise<{ hooks: HookName[] }> {
    if ('native' in program) throw new TypeError('the worker runtime runs compiled modules; use the native runtime for defineModule()')
    this.#usable()
    const known = this.#programs.get(program.id)
    if (known?.hooks) return { hooks: known.hooks }
    const modules = JSON.stringify(program.modules.map(({ name, record, dependencies }) => ({ name, record, dependencies })))
    const entry: ProgramEntry = known ?? { program, modules, hooks: undefined }
    const slot = this.#leastBusy(false)
    const answer = await this.#load(slot, program.id, entry)
    const parsed = JSON.parse(answer) as { hooks?: HookName[]; error?: string }
    if (parsed.error !== undefined || !parsed.hooks) {
      this.#post(slot, { t: 'unload', programId: program.id })
      slot.loaded.delete(program.id)
      throw new ModuleLoadError(program.entry, String(parsed.error))
    }
    entry.hooks = parsed.hooks
    this.#programs.set(program.id, entry)
    return { hooks: parsed.hooks }
  }

  run(programId: string, hook: HookName, exchange: Exchange, host: HostCalls, options?: RunOptions): Promise<HookOutcome> {
    if (this.#closed) return Promise.resolve(failedOutcome(exchange, 'the module runtime is closed', 'unavailable'))
    if (this.#broken) return Promise.resolve(failedOutcome(exchange, this.#broken, 'unavailable'))
    if (!this.#programs.get(programId)?.hooks) return Promise.resolve(failedOutcome(exchange, `program ${programId} is not prepared`, 'unavailable'))
    const refusal = exchangeRefusal(exchange)
    if (refusal !== undefined) return Promise.resolve(failedOutcome(exchange, refusal, 'unavailable'))
    if (this.#queue.length >= this.#options.maxQueue && !this.#hasCapacity()) {
      return Promise.resolve(failedOutcome(exchange, 'too many module calls waiting', 'overloaded'))
    }
    return new Promise<HookOutcome>((resolve) => {
      this.#queue.push({ id: this.#nextId++, programId, hook, exchange, host, deadlineMs: options?.deadlineMs ?? this.#options.deadlineMs, resolve })
      this.#pump()
    })
  }

  release(programId: string): void {
    this.#programs.delete(programId)
    for (const slot of this.#slots) {
      if (slot.loaded.delete(programId)) this.#post(slot, { t: 'unload', programId })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#watchdog.stop()
    for (const call of this.#queue.splice(0)) call.resolve(failedOutcome(call.exchange, 'the module runtime is closed', 'unavailable'))
    await Promise.all(
      this.#slots.map((slot) => {
        this.#failSlot(slot, 'the module runtime is closed', 'unavailable')
        return slot.worker.terminate()
      }),
    )
  }

  #usable(): void {
    if (this.#closed) throw new Error('the module runtime is closed')
    if (this.#broken) throw new Error(this.#broken)
    this.#ensureSlots()
  }

  /** Workers start on first use: a runtime nobody uses costs no threads. */
  #ensureSlots(): void {
    if (this.#slots.length === 0) for (let i = 0; i < this.#options.size; i++) this.#slots.push(this.#spawn(undefined))
  }

  #spawn(previous: Slot | undefined): Slot {
    const worker = new Worker(workerSource(), {
      eval: true,
      workerData: { sesPath: this.#sesPath },
      // Defence in depth: module code cannot reach `process`, and the worker gets no environment or flags anyway.
      env: {},
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.#options.maxOldGenerationSizeMb, maxYoungGenerationSizeMb: this.#options.maxYoungGenerationSizeMb },
    })
    worker.unref()
    const slot: Slot = previous ?? {
      worker, generation: 0, ready: false, startFailures: 0, inflight: new Map(), loads: new Map(), loaded: new Set(), pingAt: undefined,
      outbox: [], flushing: false, snapshots: new Set(),
    }
    slot.worker = worker
    slot.generation++
    slot.ready = false
    slot.loaded = new Set()
    slot.pingAt = undefined
    // Whatever was waiting for the old worker is moot: its calls have failed, and the new worker starts empty.
    slot.outbox = []
    slot.snapshots = new Set()
    const generation = slot.generation
    let oom = false
    worker.on('message', (batch: FromWorker[]) => {
      for (const m of batch) {
        // Handling one message can replace the slot's worker; the rest of the batch is from the old one.
        if (slot.generation === generation) this.#onMessage(slot, m)
      }
    })
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') oom = true
    })
    worker.on('exit', () => {
      if (slot.generation !== generation || this.#closed) return
      this.#restart(slot, oom ? 'the module exceeded its memory limit' : 'the module worker exited unexpectedly')
    })
    return slot
  }

  /** Fails what the slot holds, then replaces its worker (unless start-up keeps failing). */
  #restart(slot: Slot, reason: string): void {
    const wasReady = slot.ready
    this.#failSlot(slot, reason, 'crashed')
    const old = slot.worker
    slot.generation++
    void old.terminate()
    slot.startFailures = wasReady ? 0 : slot.startFailures + 1
    if (slot.startFailures >= MAX_START_FAILURES) {
      this.#broken = `module workers fail to start (${reason})`
      for (const call of this.#queue.splice(0)) call.resolve(failedOutcome(call.exchange, this.#broken, 'unavailable'))
      return
    }
    this.#spawn(slot)
  }

  #failSlot(slot: Slot, reason: string, code: 'crashed' | 'unavailable'): void {
    for (const call of slot.inflight.values()) {
      this.#watchdog.untrack(call.id)
      call.resolve(failedOutcome(call.exchange, reason, code))
    }
    slot.inflight.clear()
    for (const load of slot.loads.values()) {
      this.#watchdog.untrack(load.id)
      load.reject(new Error(reason))
    }
    slot.loads.clear()
    this.#readyWaiters.delete(slot)
    slot.worker.unref()
  }

  /**
   * Queues a message for the worker. One `postMessage` per worker per event-loop turn carries them all: under load
   * many requests dispatch in one turn, and a message's fixed cost (clone, wake-up, dispatch on both threads) is
   * most of a trivial hook's price.
   */
  #post(slot: Slot, message: ToWorker): void {
    slot.outbox.push(message)
    if (slot.flushing) return
    slot.flushing = true
    setImmediate(() => {
      slot.flushing = false
      // A respawn empties the outbox, so what is here now is for the current worker.
      if (slot.outbox.length === 0) return
      const batch = slot.outbox
      slot.outbox = []
      slot.worker.postMessage(batch)
    })
  }

  /**
   * The ids of a call's snapshot texts on this worker, sending the texts it does not have first. Room for all of
   * them is made before any is sent: a reset between two of them would drop the first.
   */
  #snapshots(slot: Slot, list: SnapshotText[]): [number, number, number] {
    if (slot.snapshots.size + list.length > MAX_SNAPSHOTS_PER_WORKER) {
      slot.snapshots.clear()
      this.#post(slot, { t: 'snapReset' })
    }
    for (const snapshot of list) {
      if (snapshot.id === 0 || slot.snapshots.has(snapshot.id)) continue
      slot.snapshots.add(snapshot.id)
      this.#post(slot, { t: 'snap', id: snapshot.id, json: snapshot.json })
    }
    return [list[0]!.id, list[1]!.id, list[2]!.id]
  }

  #load(slot: Slot, programId: string, entry: ProgramEntry): Promise<string> {
    const id = this.#nextId++
    return new Promise<string>((resolve, reject) => {
      slot.loads.set(id, { id, resolve, reject })
      slot.loaded.add(programId)
      this.#post(slot, { t: 'load', loadId: id, programId, modules: entry.modules, entry: entry.program.entry })
      // Top-level code runs at load: it gets the call deadline, counted from when the worker is ready.
      const arm = (): void => {
        if (slot.loads.has(id)) this.#arm(slot, id)
      }
      if (slot.ready) arm()
      else this.#whenReady(slot, arm)
    }).catch((e: unknown) => {
      throw new ModuleLoadError(entry.program.entry, errorMessage(e))
    })
  }

  #arm(slot: Slot, id: number): void {
    this.#watchdog.track(id, performance.now() + this.#options.deadlineMs, () => this.#stuck(slot, `the module's top-level code did not finish within ${this.#options.deadlineMs} ms`))
  }

  readonly #readyWaiters = new Map<Slot, (() => void)[]>()
  #whenReady(slot: Slot, fn: () => void): void {
    const list = this.#readyWaiters.get(slot) ?? []
    list.push(fn)
    this.#readyWaiters.set(slot, list)
  }

  #leastBusy(requireReady: boolean): Slot {
    let best: Slot | undefined
    for (const slot of this.#slots) {
      if (requireReady && !slot.ready) continue
      if (!best || slot.inflight.size + slot.loads.size < best.inflight.size + best.loads.size) best = slot
    }
    return best ?? this.#slots[0]!
  }

  #hasCapacity(): boolean {
    return this.#slots.some((s) => s.ready && s.pingAt === undefined && s.inflight.size < this.#options.maxInFlightPerWorker)
  }

  #pump(): void {
    if (this.#closed || this.#broken) return
    this.#ensureSlots()
    while (this.#queue.length > 0) {
      let slot: Slot | undefined
      for (const s of this.#slots) {
        // A worker under suspicion (pinged after a deadline) gets no new calls until it answers or is replaced.
        if (s.ready && s.pingAt === undefined && s.inflight.size < this.#options.maxInFlightPerWorker && (!slot || s.inflight.size < slot.inflight.size)) slot = s
      }
      if (!slot) return
      this.#dispatch(slot, this.#queue.shift()!)
    }
  }

  #dispatch(slot: Slot, call: Call): void {
    const entry = this.#programs.get(call.programId)
    if (!entry) return call.resolve(failedOutcome(call.exchange, `program ${call.programId} was released`, 'unavailable'))
    if (!slot.loaded.has(call.programId)) {
      // Messages are handled in order, so the run below finds the program loaded; the answer is not awaited.
      slot.loaded.add(call.programId)
      this.#post(slot, { t: 'load', loadId: 0, programId: call.programId, modules: entry.modules, entry: entry.program.entry })
    }
    if (slot.inflight.size === 0) slot.worker.ref()
    slot.inflight.set(call.id, call)
    this.#watchdog.track(call.id, performance.now() + call.deadlineMs, () => this.#expire(slot, call))
    const ex = call.exchange
    const s = this.#snapshots(slot, [snapshotJson(ex.route), snapshotJson(ex.service), snapshotJson(ex.namespace)])
    const [a, b, c] = exchangeBodies(ex)
    this.#post(slot, { t: 'run', callId: call.id, programId: call.programId, hook: call.hook, exchange: exchangeFields(ex), s, a, b, c })
  }

  /** A call passed its deadline: it fails now; the worker is asked to drop it and must prove it is not stuck. */
  #expire(slot: Slot, call: Call): void {
    if (!slot.inflight.delete(call.id)) return
    if (slot.inflight.size === 0) slot.worker.unref()
    call.resolve(failedOutcome(call.exchange, `the module did not finish within ${call.deadlineMs} ms`, 'deadline'))
    this.#post(slot, { t: 'abort', callId: call.id })
    this.#stuck(slot, undefined)
  }

  /** Pings the worker; no pong within the grace period means its thread is stuck: terminate and respawn it. */
  #stuck(slot: Slot, loadFailure: string | undefined): void {
    if (loadFailure !== undefined) {
      this.#restart(slot, loadFailure)
      return
    }
    if (slot.pingAt !== undefined) return
    const generation = slot.generation
    const n = this.#nextId++
    slot.pingAt = n
    this.#post(slot, { t: 'ping', n })
    this.#watchdog.track(n, performance.now() + this.#options.stuckGraceMs, () => {
      if (slot.generation === generation && slot.pingAt === n) this.#restart(slot, 'the module worker was restarted: a call on it was stuck past its deadline')
    })
  }

  #onMessage(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'ready': {
        slot.ready = true
        slot.startFailures = 0
        const waiters = this.#readyWaiters.get(slot) ?? []
        this.#readyWaiters.delete(slot)
        for (const fn of waiters) fn()
        this.#pump()
        return
      }
      case 'pong':
        if (slot.pingAt === m.n) {
          slot.pingAt = undefined
          this.#watchdog.untrack(m.n)
          this.#pump()
        }
        return
      case 'loaded': {
        const load = slot.loads.get(m.loadId)
        if (!load) return
        slot.loads.delete(m.loadId)
        this.#watchdog.untrack(m.loadId)
        load.resolve(String(m.answer))
        return
      }
      case 'done': {
        const call = slot.inflight.get(m.callId)
        if (!call) return
        slot.inflight.delete(m.callId)
        if (slot.inflight.size === 0) slot.worker.unref()
        this.#watchdog.untrack(call.id)
        call.resolve(buildOutcome(call.exchange, m.outcome, false))
        this.#pump()
        return
      }
      case 'host':
        return this.#hostCall(slot, m)
    }
  }

  #hostCall(slot: Slot, m: Extract<FromWorker, { t: 'host' }>): void {
    const call = slot.inflight.get(m.callId)
    if (m.reqId === 0) {
      if (m.op !== 'log') return
      try {
        const [level, message, module] = logArgs(m.args)
        if (call) call.host.log(level, message, module)
        else this.#options.log?.(level, message, module)
      } catch {
        // A logger failure must not fail the module.
      }
      return
    }
    const generation = slot.generation
    const answer = (message: ToWorker): void => {
      if (slot.generation === generation) this.#post(slot, message)
    }
    if (!call) return answer({ t: 'deliver', reqId: m.reqId, ok: false, value: 'the request has finished' })
    dispatchHostCall(call.host, m.op, m.args, m.bytes).then(
      (r) => answer({ t: 'deliver', reqId: m.reqId, ok: true, value: r.value, bytes: r.bytes }),
      (e: unknown) => answer({ t: 'deliver', reqId: m.reqId, ok: false, value: errorMessage(e) }),
    )
  }
}
