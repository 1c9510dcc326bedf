// Benchmark child processes. Each role (an upstream, a proxy, a load generator) runs in its own process so its CPU
// can be measured alone, optionally pinned to one CPU with taskset. Parent and child talk over Node's IPC channel:
// the child announces `ready` (with the port it listens on), then answers calls such as `cpu-start`/`cpu-stop`.
// Every child is tracked and killed when the parent exits, fails or gets Ctrl-C, and a child exits by itself when
// its parent goes away (IPC disconnect), so nothing is left listening.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process'

/** CPU used by a process over a window, in microseconds, as `process.cpuUsage()` reports it (all threads). */
export interface CpuDelta {
  userMicros: number
  systemMicros: number
  wallMillis: number
}

/** What a child sends once it is serving: the port it listens on, or why it cannot run. */
export type ReadyMessage = { type: 'ready'; port: number } | { type: 'unavailable'; reason: string }

type Handler = (payload: unknown) => unknown
interface CallMessage {
  type: 'call'
  id: number
  name: string
  payload: unknown
}
interface ReplyMessage {
  type: 'reply'
  id: number
  ok: boolean
  result?: unknown
  error?: string
}

const live = new Set<ChildProcess>()
let cleanupInstalled = false

/** Kills every tracked child (synchronous, so it also works from an 'exit' handler). */
export function killChildren(): void {
  for (const child of live) child.kill('SIGTERM')
  live.clear()
}

/** Tracks a process so it is killed on exit, error and Ctrl-C. */
export function track(child: ChildProcess): ChildProcess {
  installCleanup()
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

function installCleanup(): void {
  if (cleanupInstalled) return
  cleanupInstalled = true
  process.once('exit', killChildren)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes`)
      killChildren()
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  }
  process.once('uncaughtException', (err) => {
    console.error(err)
    killChildren()
    process.exit(1)
  })
}

/** Whether a command is on PATH (asked again each time: `--install` may have just added it). */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

let hasTaskset: boolean | undefined

/** Spawns `command args`, through `taskset -c cpu` when a CPU is given and taskset exists (taskset execs, so the pid is the command's). */
export function spawnPinned(command: string, args: string[], cpu: number | undefined, stdio: StdioOptions): ChildProcess {
  // Looked up once: spawnPinned also starts wrk inside measured windows, where a shell lookup would add delay.
  const pinned = cpu !== undefined && (hasTaskset ??= hasCommand('taskset'))
  const child = pinned ? spawn('taskset', ['-c', String(cpu), command, ...args], { stdio }) : spawn(command, args, { stdio })
  return track(child)
}

/** Parent side of a child that speaks the ready/call protocol. */
export class BenchChild {
  readonly ready: Promise<ReadyMessage>
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>()
  private exited = false

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
    readyTimeoutMs = 20_000,
  ) {
    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs)
      process.on('message', (message: ReadyMessage | ReplyMessage) => {
        if (message.type === 'ready' || message.type === 'unavailable') {
          clearTimeout(timer)
          resolve(message)
        } else if (message.type === 'reply') {
          const waiter = this.pending.get(message.id)
          this.pending.delete(message.id)
          if (message.ok) waiter?.resolve(message.result)
          else waiter?.reject(new Error(`${name}: ${message.error ?? 'call failed'}`))
        }
      })
      process.once('exit', (code, signal) => {
        this.exited = true
        clearTimeout(timer)
        const err = new Error(`${name}: exited (${signal ?? `code ${code}`})`)
        reject(err)
        for (const waiter of this.pending.values()) waiter.reject(err)
        this.pending.clear()
      })
    })
    // Callers that never await `ready` must not crash the run with an unhandled rejection.
    this.ready.catch(() => {})
  }

  /** Calls a handler registered in the child with `serveParent`. */
  call<T>(name: string, payload?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name}: already exited`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.process.send({ type: 'call', id, name, payload } satisfies CallMessage)
    })
  }

  cpuStart(): Promise<void> {
    return this.call('cpu-start')
  }

  cpuStop(): Promise<CpuDelta> {
    return this.call('cpu-stop')
  }

  /** Stops the child and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exited) return
    const exited = new Promise((resolve) => this.process.once('exit', resolve))
    this.process.kill('SIGTERM')
    await exited
  }
}

/**
 * Forks the running bundle again (`process.argv[1]`) as `--role <role>`, pinned to `cpu` when given. The child calls
 * `roleOf()` to find its role and `serveParent()` to answer.
 */
export function spawnRole(role: string, args: string[] = [], cpu?: number, script = process.argv[1]): BenchChild {
  if (!script) throw new Error('spawnRole: no script to run')
  const child = spawnPinned(process.execPath, [script, '--role', role, ...args], cpu, ['ignore', 'inherit', 'inherit', 'ipc'])
  return new BenchChild(role, child)
}

/** The `--role` this process was started with, if any. */
export function roleOf(argv = process.argv): string | undefined {
  const at = argv.indexOf('--role')
  return at >= 0 ? argv[at + 1] : undefined
}

/** The value after `--name` in argv, if any. */
export function argValue(name: string, argv = process.argv): string | undefined {
  const at = argv.indexOf(`--${name}`)
  return at >= 0 ? argv[at + 1] : undefined
}

/**
 * Child side: answers the parent's calls, with `cpu-start`/`cpu-stop` built in, and exits when the parent goes away.
 * The CPU window is measured here, inside the child, so it counts only this process (every thread of it).
 */
export function serveParent(handlers: Record<string, Handler> = {}): void {
  const send = process.send?.bind(process)
  if (!send) throw new Error('serveParent: not started with an IPC channel')
  let start = process.cpuUsage()
  let startedAt = performance.now()
  const builtIn: Record<string, Handler> = {
    'cpu-start': () => {
      start = process.cpuUsage()
      startedAt = performance.now()
    },
    'cpu-stop': (): CpuDelta => {
      const used = process.cpuUsage(start)
      return { userMicros: used.user, systemMicros: used.system, wallMillis: performance.now() - startedAt }
    },
  }
  process.on('message', async (message: CallMessage) => {
    if (message?.type !== 'call') return
    const handler = handlers[message.name] ?? builtIn[message.name]
    try {
      if (!handler) throw new Error(`no handler '${message.name}'`)
      const result = await handler(message.payload)
      send({ type: 'reply', id: message.id, ok: true, result } satisfies ReplyMessage)
    } catch (err) {
      send({ type: 'reply', id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies ReplyMessage)
    }
  })
  process.once('disconnect', () => process.exit(0))
}

/** Child side: tells the parent it is serving on `port` (or cannot run, and why). */
export function announce(message: ReadyMessage): void {
  process.send?.(message)
}
