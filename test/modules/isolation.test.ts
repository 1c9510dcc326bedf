import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorkerRuntime } from '../../src/modules/runtimes/worker.js'
import type { ModuleRuntime } from '../../src/modules/types.js'
import { bundleForNode } from '../helpers/bundle.js'
import { FakeHost, SANDBOXES, exchange, single } from './helpers.js'

describe('worker isolation', () => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = createWorkerRuntime({ size: 1, deadlineMs: 150, stuckGraceMs: 100, maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 })
  })
  afterAll(() => rt.close())

  const program = single(`
export function requestModifier(ctx) {
  const mode = ctx.request().path
  if (mode === '/spin') while (true) {}
  if (mode === '/bomb') { const keep = []; for (;;) keep.push(new Array(1e5).fill(mode)) }
  if (mode === '/spin-async') return Promise.resolve().then(() => { for (;;) {} })
  ctx.request().headers.set('x-ok', '1')
}`)

  it('fails only the stuck call within its deadline; the next call succeeds on a respawned worker', async () => {
    await rt.prepare(program)
    const host = new FakeHost()
    const t0 = performance.now()
    const [stuck, queued] = await Promise.all([
      rt.run(program.id, 'requestModifier', exchange({ request: { path: '/spin' } }), host),
      rt.run(program.id, 'requestModifier', exchange(), host),
    ])
    expect(stuck.error).toEqual({ message: 'the module did not finish within 150 ms', code: 'deadline' })
    expect(performance.now() - t0).toBeLessThan(1500)
    // The call queued behind the stuck one either ran after it or failed with it; the next one must succeed.
    expect([undefined, 'deadline', 'crashed']).toContain(queued.error?.code)
    const next = await rt.run(program.id, 'requestModifier', exchange(), host)
    expect(next.error).toBeUndefined()
    expect(next.request?.headers).toContainEqual(['x-ok', '1'])
  })

  it('stops a loop started in an async continuation too', async () => {
    await rt.prepare(program)
    const out = await rt.run(program.id, 'requestModifier', exchange({ request: { path: '/spin-async' } }), new FakeHost())
    expect(out.error?.code).toBe('deadline')
    expect((await rt.run(program.id, 'requestModifier', exchange(), new FakeHost())).error).toBeUndefined()
  })

  it('stops an unbounded allocation at the heap limit and keeps serving', async () => {
    await rt.prepare(program)
    const out = await rt.run(program.id, 'requestModifier', exchange({ request: { path: '/bomb' } }), new FakeHost(), { deadlineMs: 10_000 })
    expect(out.error).toEqual({ message: 'the module exceeded its memory limit', code: 'crashed' })
    const next = await rt.run(program.id, 'requestModifier', exchange(), new FakeHost())
    expect(next.error).toBeUndefined()
  })

  it('refuses a program whose top-level code never finishes, and stays usable', async () => {
    await expect(rt.prepare(single('while (true) {}\nexport const requestModifier = () => 1', 'stuck-top'))).rejects.toThrow(/top-level code did not finish within 150 ms/)
    expect((await rt.run(program.id, 'requestModifier', exchange(), new FakeHost())).error).toBeUndefined()
  })

  it('bounds the queue: beyond it, calls fail at once as overloaded', async () => {
    const small = createWorkerRuntime({ size: 1, maxInFlightPerWorker: 1, maxQueue: 1, deadlineMs: 1000 })
    const slow = single(`export const requestModifier = () => new Promise((r) => setTimeout(r, 100))`, 'slow')
    await small.prepare(slow)
    const outcomes = await Promise.all([1, 2, 3].map(() => small.run(slow.id, 'requestModifier', exchange(), new FakeHost())))
    expect(outcomes.map((o) => o.error?.code)).toEqual([undefined, undefined, 'overloaded'])
    await small.close()
  })
})

describe.each(SANDBOXES)('escape attempts in the %s runtime', (_name, create) => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = create()
  })
  afterAll(() => rt.close())

  it('module code reaches no process, require, file system, host global or host prototype', async () => {
    const p = single(`
export async function requestModifier(ctx) {
  const probe = (fn) => { try { const v = fn(); return v === undefined ? 'undefined' : typeof v } catch (e) { return 'threw' } }
  const dynamic = await import('node:fs').then(() => 'loaded', () => 'refused')
  return {
    process: typeof process, require: typeof require, module: typeof module, globalProcess: typeof globalThis.process,
    buffer: typeof Buffer, setImmediate: typeof setImmediate, structuredClone: typeof structuredClone,
    viaFunction: Function('return typeof process')(),
    viaCtxConstructor: probe(() => ctx.constructor.constructor('return process')()),
    viaRequestMethod: probe(() => ctx.request().readBody.constructor('return process')()),
    viaFunctionThis: probe(() => Function('return this')().process),
    objectProtoFrozen: Object.isFrozen(Object.prototype), promiseThenFrozen: Object.isFrozen(Promise.prototype),
    patchPrototype: probe(() => { Object.prototype.polluted = 1 }),
    patchHeaders: probe(() => { Object.getPrototypeOf(ctx.request().headers).get = () => 'hijacked' }),
    dynamic,
  }
}`)
    await rt.prepare(p)
    const out = await rt.run(p.id, 'requestModifier', exchange(), new FakeHost())
    expect(out.error).toBeUndefined()
    expect(out.result).toEqual({
      process: 'undefined', require: 'undefined', module: 'undefined', globalProcess: 'undefined',
      buffer: 'undefined', setImmediate: 'undefined', structuredClone: 'undefined',
      viaFunction: 'undefined', viaCtxConstructor: 'threw', viaRequestMethod: 'threw', viaFunctionThis: 'threw',
      objectProtoFrozen: true, promiseThenFrozen: true, patchPrototype: 'threw', patchHeaders: 'threw', dynamic: 'refused',
    })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('host errors reach module code re-created, without host constructors', async () => {
    const p = single(`
import { getDocument } from 'dgate/state'
export async function requestModifier() {
  try { await getDocument('x', 'locked-out') } catch (e) {
    return { message: e.message, escaped: (() => { try { return typeof e.constructor.constructor('return process')() } catch { return 'threw' } })() }
  }
}`)
    await rt.prepare(p)
    const host = new FakeHost()
    host.documents.get = async () => {
      throw Object.assign(new Error('host says no'), { secret: 'host object' })
    }
    const out = await rt.run(p.id, 'requestModifier', exchange(), host)
    expect(out.result).toEqual({ message: 'host says no', escaped: 'threw' })
  })

  it('modules of one program cannot tamper with what another module sees', async () => {
    const a = single(`export function requestModifier(ctx) { try { URL.prototype.toString = () => 'hijacked' } catch {} try { console.log = () => {} } catch {} return String(new URL('http://a/')) }`, 'a')
    const b = single(`export function requestModifier(ctx) { console.log('b logs'); return String(new URL('http://b/')) }`, 'b')
    await rt.prepare(a)
    await rt.prepare(b)
    await rt.run(a.id, 'requestModifier', exchange(), new FakeHost())
    const host = new FakeHost()
    const out = await rt.run(b.id, 'requestModifier', exchange(), host)
    expect(out.result).toBe('http://b/')
    expect(host.logs.map((l) => l.message)).toEqual(['b logs'])
  })
})

describe.each(SANDBOXES)('frozen intrinsics in the %s runtime', (_name, create) => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = create()
  })
  afterAll(() => rt.close())

  it('lets instances override the inherited names common code assigns, except the three V8 watches process-wide', async () => {
    const p = single(`
export function requestModifier() {
  const probe = (fn) => { try { return fn() } catch (e) { return e instanceof TypeError ? 'TypeError' : 'threw' } }
  class Problem extends Error {}
  return {
    errorMessage: probe(() => { const e = new Error(); e.message = 'set later'; return e.message }),
    subclassName: probe(() => { Problem.prototype.name = 'Problem'; return new Problem('x').name }),
    typeErrorMessage: probe(() => { const e = new TypeError(); e.message = 'typed'; return e.message }),
    objectValueOf: probe(() => { const o = {}; o.valueOf = () => 42; return +o }),
    objectToString: probe(() => { const o = {}; o.toString = () => 'mine'; return String(o) }),
    arrayPush: probe(() => { const a = []; a.push = () => 'pushed'; return a.push(1) }),
    functionBind: probe(() => { const f = function () {}; f.bind = () => 'bound'; return f.bind() }),
    arrayIterator: probe(() => { const a = []; a[Symbol.iterator] = () => null; return 'assigned' }),
    promiseConstructor: probe(() => { const q = Promise.resolve(); q.constructor = Object; return 'assigned' }),
    intrinsicStillFrozen: probe(() => { Error.prototype.message = 'global'; return 'assigned' }),
  }
}`)
    await rt.prepare(p)
    const out = await rt.run(p.id, 'requestModifier', exchange(), new FakeHost())
    expect(out.error).toBeUndefined()
    expect(out.result).toEqual({
      errorMessage: 'set later',
      subclassName: 'Problem',
      typeErrorMessage: 'typed',
      objectValueOf: 42,
      objectToString: 'mine',
      arrayPush: 'pushed',
      functionBind: 'bound',
      arrayIterator: 'TypeError',
      promiseConstructor: 'TypeError',
      intrinsicStillFrozen: 'TypeError',
    })
  })
})

describe('the host process after modules ran', () => {
  it('keeps its stacks, util.inspect, patchable prototypes, fast paths, no SES globals or shims, and default rejection handling', async () => {
    const script = await bundleForNode(fileURLToPath(new URL('./fixtures/host-intact.ts', import.meta.url)))
    // --allow-natives-syntax lets the child read V8's isolate-wide protectors (see src/modules/runtimes/lockdown.ts).
    const child = spawnSync(process.execPath, ['--allow-natives-syntax', script], { encoding: 'utf8', timeout: 30_000 })
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'))
    expect(line, child.stderr).toBeDefined()
    const report = JSON.parse(line!) as { before: unknown; after: unknown; results: string[]; polluted: unknown }
    expect(report.before).toEqual({
      stack: true, inspect: true, patched: true, bufferPatched: true, frozen: false, sesGlobals: [], transferShim: [], rejectionListeners: 0, exceptionListeners: 0,
      protectors: { arrayIterator: true, mapIterator: true, setIterator: true, promiseSpecies: true },
    })
    expect(report.after).toEqual(report.before)
    expect(report.polluted).toBeNull()
    // The hostile module ran in both runtimes; its throw became a message, and its custom inspect never ran on the host.
    expect(report.results).toEqual(['realm:getter error:{}', 'worker:getter error:{}'])
    expect(child.status).toBe(1)
    expect(child.stderr).toContain('host rejection still crashes')
  })
})
