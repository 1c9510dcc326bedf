import type { ExchangeFields, Kernel, KernelEnv, OutcomeFields } from '../kernel/env.js'
import { kernelSource } from '../kernel/source.js'
import { makeNativeOps } from '../kernel/native-ops.js'
import { lockdownScript } from './lockdown.js'

/**
 * Messages from the host to a worker. They travel in batches (one `postMessage` of an array per event-loop turn),
 * since a message's fixed cost (clone, wake-up, dispatch) dominates a trivial hook.
 */
export type ToWorker =
  | { t: 'load'; loadId: number; programId: string; modules: string; entry: string }
  | { t: 'unload'; programId: string }
  /** Route/service/namespace JSON text, sent once per worker; `run` names it by `id`. */
  | { t: 'snap'; id: number; json: string }
  /** The worker forgets every snapshot text (the host's record of what it sent grew too large). */
  | { t: 'snapReset' }
  | { t: 'run'; callId: number; programId: string; hook: string; exchange: ExchangeFields; s: [number, number, number]; a?: Uint8Array; b?: Uint8Array; c?: Uint8Array }
  | { t: 'deliver'; reqId: number; ok: boolean; value: string; bytes?: Uint8Array }
  | { t: 'abort'; callId: number }
  | { t: 'ping'; n: number }

/** Messages from a worker to the host, batched the same way. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'loaded'; loadId: number; answer: string }
  | { t: 'done'; callId: number; outcome: OutcomeFields }
  | { t: 'host'; callId: number; reqId: number; op: string; args: string; bytes?: Uint8Array }
  | { t: 'pong'; n: number }

interface WorkerDeps {
  port: { postMessage(message: FromWorker[]): void; on(event: 'message', fn: (message: ToWorker[]) => void): void }
  boot: (env: KernelEnv) => Kernel
  ops: Pick<KernelEnv, 'crypto' | 'url' | 'utf8Encode' | 'utf8Decode'>
  setTimeout: typeof setTimeout
  clearTimeout: typeof clearTimeout
  setImmediate: (fn: () => void) => unknown
}

/**
 * The worker's message loop around the kernel. Self-contained (serialized into the worker source): it runs in the
 * worker's main realm after `lockdown()`, outside every compartment, so it may use the Node facilities it is given.
 */
export function workerMain(deps: WorkerDeps): void {
  const { port, boot, ops } = deps
  const timers = new Map<number, ReturnType<typeof setTimeout>>()
  const snapshots = new Map<number, string>()
  // Outgoing messages wait here: those made while a batch is handled leave together at its end, the rest (async
  // completions, host calls) at the end of the event-loop turn.
  let outbox: FromWorker[] = []
  let handling = false
  let scheduled = false
  const flush = (): void => {
    scheduled = false
    if (outbox.length === 0) return
    const batch = outbox
    outbox = []
    port.postMessage(batch)
  }
  const send = (message: FromWorker): void => {
    outbox.push(message)
    if (!handling && !scheduled) {
      scheduled = true
      deps.setImmediate(flush)
    }
  }
  const env: KernelEnv = {
    mode: 'primitive',
    complete: (callId, ...outcome) => send({ t: 'done', callId, outcome }),
    host: (callId, reqId, op, args, bytes) => send({ t: 'host', callId, reqId, op, args, bytes }),
    setTimer: (id, ms) => {
      timers.set(
        id,
        deps.setTimeout(() => {
          timers.delete(id)
          kernel.fire(id)
        }, ms),
      )
    },
    clearTimer: (id) => {
      deps.clearTimeout(timers.get(id))
      timers.delete(id)
    },
    crypto: ops.crypto,
    url: ops.url,
    utf8Encode: ops.utf8Encode,
    utf8Decode: ops.utf8Decode,
  }
  // The env's timer callback refers to `kernel` only when a timer fires, after this line has run.
  const kernel = boot(env)
  const k = kernel
  const snapshot = (id: number): string => (id === 0 ? '' : (snapshots.get(id) ?? ''))
  const handle = (m: ToWorker): void => {
    switch (m.t) {
      case 'load':
        send({ t: 'loaded', loadId: m.loadId, answer: k.load(m.programId, m.modules, m.entry) })
        break
      case 'unload':
        k.unload(m.programId)
        break
      case 'snap':
        snapshots.set(m.id, m.json)
        break
      case 'snapReset':
        snapshots.clear()
        break
      case 'run':
        k.run(m.callId, m.programId, m.hook, snapshot(m.s[0]), snapshot(m.s[1]), snapshot(m.s[2]), m.a, m.b, m.c, ...m.exchange)
        break
      case 'deliver':
        k.deliver(m.reqId, m.ok, m.value, m.bytes)
        break
      case 'abort':
        k.abort(m.callId)
        break
      case 'ping':
        send({ t: 'pong', n: m.n })
        break
    }
  }
  port.on('message', (batch) => {
    handling = true
    try {
      for (const m of batch) handle(m)
    } finally {
      handling = false
      flush()
    }
  })
  port.postMessage([{ t: 'ready' }])
}

let source: string | undefined

/**
 * The worker's whole source, started with `new Worker(source, { eval: true })`. Being text assembled from
 * self-contained functions, it loads the same from `src` (vitest), from the `dist` bundle and from bench bundles,
 * with no worker file to ship or resolve. `ses` itself is read from `workerData.sesPath` and evaluated as a script
 * in the worker's realm, where `lockdown()` then runs: the host realm is never touched. No Babel is loaded in
 * the worker: module records arrive precompiled.
 */
export function workerSource(): string {
  return (source ??= `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const fs = require('node:fs');
const crypto = require('node:crypto');
const __name = (fn) => fn;
// A rejection module code leaves unhandled must not kill the worker (and every call on it) or print anything.
process.on('unhandledRejection', () => {});
const ops = (${makeNativeOps.toString()})({ crypto, Buffer, URL, TextDecoder });
vm.runInThisContext(fs.readFileSync(workerData.sesPath, 'utf8'), { filename: 'ses.umd.js' });
${lockdownScript({ errorTaming: 'safe', errorTrapping: 'none', unhandledRejectionTrapping: 'none', reporting: 'none', consoleTaming: 'unsafe' })}
const boot = ${kernelSource()};
(${workerMain.toString()})({ port: parentPort, boot, ops, setTimeout, clearTimeout, setImmediate });
`)
}
