import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildOutcome, exchangeFields, snapshotJson } from '../../src/modules/runtimes/wire.js'
import type { ModuleContext, ModuleRuntime } from '../../src/modules/types.js'
import { createNativeRuntime, defineModule } from '../../src/modules/runtimes/native.js'
import { createHostKernel } from '../../src/modules/kernel/source.js'
import type { KernelEnv } from '../../src/modules/kernel/env.js'
import { FakeHost, RUNTIMES, exchange, load } from './helpers.js'

// The cheap per-call path: positional fields, snapshots serialized once per object, locals sent back only when a
// hook may have changed them, batched worker messages. These tests pin the behaviour the shortcuts must keep.

/** Outcome fields with the given positions set (the rest undefined, `responseEnded` false), then `tail`. */
function fields(set: Record<number, unknown>, ...tail: unknown[]): unknown[] {
  const out: unknown[] = Array.from({ length: 16 }, (_, i) => (i === 6 ? false : undefined))
  for (const [i, v] of Object.entries(set)) out[Number(i)] = v
  return [...out, ...tail]
}

describe('wire encoding', () => {
  it('sends the header lists as their lengths, then their names and values', () => {
    const ex = exchange({
      request: { headers: [['accept', '*/*'], ['x-del', 'a\x7fb']] },
      response: { headers: [['x-r', '1']], ended: false },
      upstream: { statusCode: 200, headers: [] },
    })
    const sent = exchangeFields(ex)
    expect(sent.slice(15)).toEqual([2, 1, 0, 'accept', '*/*', 'x-del', 'a\x7fb', 'x-r', '1'])
  })

  it('reads the header lists of an outcome back in order: request, response, upstream', () => {
    const ex = exchange({ upstream: { statusCode: 200, headers: [] } })
    const out = buildOutcome(ex, fields({ 8: 201, 13: 1, 14: 0, 15: 2 }, 'x-a', '1', 'u-1', 'a', 'u-2', ''), false)
    expect(out.request?.headers).toEqual([['x-a', '1']])
    expect(out.response).toEqual({ headers: [], ended: false })
    expect(out.upstream).toEqual({ statusCode: 201, headers: [['u-1', 'a'], ['u-2', '']] })
  })

  it('refuses malformed outcomes, and arrays from a sandbox', () => {
    const ex = exchange()
    const crashed = (f: unknown[], objects = false): string | undefined => buildOutcome(ex, f, objects).error?.code
    expect(crashed(fields({ 13: 2 }, 'a', 'b', 'c'))).toBe('crashed') // fewer names and values than announced
    expect(crashed(fields({ 13: 1 }, 'a', 1))).toBe('crashed')
    expect(crashed(fields({ 13: -1 }))).toBe('crashed')
    expect(crashed(fields({ 13: '1' }, 'a', 'b'))).toBe('crashed')
    expect(crashed(fields({ 13: [['a', '1']] }))).toBe('crashed') // an array is read only from the host-realm kernel
    expect(buildOutcome(ex, fields({ 13: [['a', '1']] }), true).request?.headers).toEqual([['a', '1']])
    expect(crashed(fields({ 13: [['a', 1]] }), true)).toBe('crashed')
    expect(crashed(fields({ 14: 7 }))).toBe('crashed')
    expect(crashed(fields({ 8: '200', 15: 0 }))).toBe('crashed')
    expect(crashed(fields({ 0: '[1]' }))).toBe('crashed')
    expect(crashed(fields({ 0: '{not json' }))).toBe('crashed')
    expect(crashed(fields({ 0: { a: 1 } }), true)).toBe('crashed')
    expect(crashed(fields({ 9: { a: 1 } }), true)).toBe('crashed')
    expect(crashed(fields({ 1: { toString: () => 'x' } }))).toBe('crashed')
    expect(buildOutcome(ex, 'not fields', false).error?.code).toBe('crashed')
  })

  it('keeps only the documented request changes of an outcome', () => {
    const ex = exchange()
    const out = buildOutcome(ex, fields({ 3: 'a=1', 4: 'POST', 5: '/x', 13: 1 }, 'a', '1', { evil: true }), false)
    expect(out.request).toEqual({ query: 'a=1', method: 'POST', path: '/x', headers: [['a', '1']] })
    expect(out.locals).toBe(ex.locals)
    expect(Object.keys(out)).toEqual(['locals', 'request'])
  })

  it('copies bodies out of the fields, and reads locals and the result as JSON text', () => {
    const ex = exchange()
    const body = new Uint8Array([1, 2, 3])
    const out = buildOutcome(ex, fields({ 0: '{"n":1}', 9: '[true]', 10: body }), false)
    expect(out.locals).toEqual({ n: 1 })
    expect(out.result).toEqual([true])
    expect(out.request?.body).toEqual(body)
    expect(out.request?.body).not.toBe(body)
  })

  it('serializes a snapshot once per object, and never the route into the exchange fields', () => {
    const route = { name: 'r', paths: ['/a'] }
    const first = snapshotJson(route)
    expect(snapshotJson(route)).toBe(first)
    expect(JSON.parse(first.json)).toEqual(route)
    expect(snapshotJson({ name: 'r', paths: ['/a'] }).id).not.toBe(first.id)
    expect(snapshotJson(null)).toEqual({ id: 0, json: '' })
    const sent = exchangeFields(exchange({ route }))
    expect(sent.every((f) => f === undefined || typeof f !== 'object')).toBe(true)
    expect(JSON.stringify(sent)).not.toContain('paths')
    // Whoever built the exchange, only primitives are sent.
    const odd = exchangeFields(exchange({ request: { headers: [['x-n', 7 as unknown as string]] }, error: { message: { evil: true } as unknown as string } }))
    expect(odd.every((f) => f === undefined || typeof f !== 'object')).toBe(true)
    expect(odd.slice(-2)).toEqual(['x-n', '7'])
  })
})

describe.each(RUNTIMES)('the per-call path in the %s runtime', (name, create) => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = create()
  })
  afterAll(() => rt.close())

  it('hands back the same locals when the hook did not touch them, and changed ones when it did', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => void ctx.request().headers.set('x-a', '1'),
      responseModifier: (ctx: ModuleContext) => {
        // An object read with ctx.get and changed in place must reach the next hook.
        ;(ctx.get('user') as { seen?: boolean }).seen = true
      },
      errorHandler: (ctx: ModuleContext) => void (ctx.response().locals.n = 2),
    })
    const locals = { user: { id: 7 } }
    const untouched = await rt.run(id, 'requestModifier', exchange({ locals }), new FakeHost())
    expect(untouched.error).toBeUndefined()
    expect(untouched.locals).toBe(locals)
    const changed = await rt.run(id, 'responseModifier', exchange({ locals, upstream: { statusCode: 200, headers: [] } }), new FakeHost())
    expect(changed.locals).toEqual({ user: { id: 7, seen: true } })
    expect(locals).toEqual({ user: { id: 7 } })
    const viaResponse = await rt.run(id, 'errorHandler', exchange({ locals: {}, error: { message: 'x' } }), new FakeHost())
    expect(viaResponse.locals).toEqual({ n: 2 })
  })

  it('fails a hook that leaves locals which cannot cross as JSON, and keeps the locals the host had', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        const locals = ctx.response().locals
        locals.self = locals
        ctx.request().headers.set('x-lost', '1')
      },
    })
    const locals = { kept: true }
    const out = await rt.run(id, 'requestModifier', exchange({ locals }), new FakeHost())
    expect(out.error?.message).toMatch(/^the per-request locals are not JSON: .*circular/i)
    expect(out.request).toBeUndefined()
    expect(out.locals).toBe(locals)
  })

  it('fails a hook that leaves more than 10000 header lines in a list, and the next call succeeds', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        const n = Number(ctx.request().headers.get('x-lines'))
        const h = ctx.response().headers
        for (let i = 0; i < n; i++) h.add('x-f', 'v')
      },
    })
    const flood = await rt.run(id, 'requestModifier', exchange({ request: { headers: [['x-lines', '10001']] } }), new FakeHost())
    expect(flood.error?.message).toBe('the hook left 10001 response header lines; at most 10000 are allowed')
    expect(flood.response).toBeUndefined()
    const most = await rt.run(id, 'requestModifier', exchange({ request: { headers: [['x-lines', '10000']] } }), new FakeHost())
    expect(most.error).toBeUndefined()
    expect(most.response?.headers).toHaveLength(10_000)
  })

  it('refuses an exchange with more than 10000 lines in a header list, and the next call succeeds', async () => {
    const id = await load(rt, { requestModifier: (ctx: ModuleContext) => ctx.request().headers.get('x-last') })
    const lines: [string, string][] = Array.from({ length: 10_000 }, (_, i) => [`x-${i}`, 'v'])
    lines.push(['x-last', 'seen'])
    const over = await rt.run(id, 'requestModifier', exchange({ request: { headers: lines } }), new FakeHost())
    expect(over.error).toEqual({ message: 'the request has 10001 header lines; at most 10000 are passed to a hook', code: 'unavailable' })
    const most = await rt.run(id, 'requestModifier', exchange({ request: { headers: lines.slice(1) } }), new FakeHost())
    expect(most.error).toBeUndefined()
    expect(most.result).toBe('seen')
  })

  it('gives every call its own copy of a snapshot that many calls share', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        const route = ctx.route() as { name: string; paths: string[] }
        const before = route.paths.length
        route.paths.push('/mutated')
        return { name: route.name, before, service: ctx.service(), namespace: ctx.namespace() }
      },
    })
    const route = { name: 'shared', paths: ['/a'] }
    const service = { name: 's', urls: ['http://127.0.0.1:1'] }
    const namespace = { name: 'default', tags: [] }
    for (let i = 0; i < 3; i++) {
      const out = await rt.run(id, 'requestModifier', exchange({ route, service, namespace }), new FakeHost())
      expect(out.result).toEqual({ name: 'shared', before: 1, service, namespace })
    }
    expect(route.paths).toEqual(['/a'])
  })

  it('carries header values that hold the flat separator both ways', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        const h = ctx.request().headers
        h.set('x-copy', h.get('x-del') + '\x7f!')
      },
    })
    const out = await rt.run(id, 'requestModifier', exchange({ request: { headers: [['x-del', 'a\x7fb']] } }), new FakeHost())
    expect(out.error).toBeUndefined()
    expect(out.request?.headers).toEqual([['x-del', 'a\x7fb'], ['x-copy', 'a\x7fb\x7f!']])
  })

  it('answers many concurrent calls each with its own exchange', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        ctx.request().headers.set('x-echo', ctx.request().headers.get('x-n'))
        return (ctx.route() as { name: string }).name
      },
    })
    // Distinct route objects per call also exercise the worker's snapshot cache past its size bound (512).
    const calls = Array.from({ length: 600 }, (_, n) =>
      rt.run(id, 'requestModifier', exchange({ route: { name: `r${n}` }, request: { headers: [['x-n', String(n)]] } }), new FakeHost()),
    )
    const outs = await Promise.all(calls)
    outs.forEach((out, n) => {
      expect(out.error).toBeUndefined()
      expect(out.result).toBe(`r${n}`)
      expect(out.request?.headers).toEqual([['x-n', String(n)], ['x-echo', String(n)]])
    })
  })
})

// Only the native runtime shares the host realm, so only there can a module keep a map across calls by reference.
describe('the per-call path in the native runtime, shared realm', () => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = createNativeRuntime()
  })
  afterAll(() => rt.close())

  it('keeps the host copy of headers when a module writes to a map it kept', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        const g = globalThis as unknown as { kept?: { add(n: string, v: string): unknown } }
        if (g.kept) g.kept.add('x-late', '1')
        const h = ctx.request().headers
        h.set('x-first', '1')
        g.kept = h as unknown as { add(n: string, v: string): unknown }
      },
    })
    const first = await rt.run(id, 'requestModifier', exchange({ request: { headers: [] } }), new FakeHost())
    expect(first.request?.headers).toEqual([['x-first', '1']])
    await rt.run(id, 'requestModifier', exchange({ request: { headers: [] } }), new FakeHost())
    expect(first.request?.headers).toEqual([['x-first', '1']])
    delete (globalThis as { kept?: unknown }).kept
  })
})

describe('the kernel hand-over', () => {
  it('completes a call with a failure when the runtime cannot take its outcome, so no call is left hanging', () => {
    const completed: unknown[][] = []
    const env: KernelEnv = {
      mode: 'object',
      complete(callId, ...outcome) {
        completed.push([callId, ...outcome])
        // The runtime refuses the first hand-over, as an engine refuses too many arguments.
        if (completed.length === 1) throw new RangeError('Maximum call stack size exceeded')
      },
      host() {},
      setTimer() {},
      clearTimer() {},
      crypto: () => '',
      url: () => '',
      utf8Encode: (text) => new TextEncoder().encode(text),
      utf8Decode: (bytes) => new TextDecoder().decode(bytes),
    }
    const kernel = createHostKernel(env)
    const hooks = defineModule({ requestModifier: (ctx: ModuleContext) => void ctx.request().headers.set('x-a', '1') }).hooks
    expect(JSON.parse(kernel.loadNative('p', 'm', hooks))).toEqual({ hooks: ['requestModifier'] })
    kernel.run(7, 'p', 'requestModifier', null, null, null, undefined, undefined, undefined, exchange())
    expect(completed).toHaveLength(2)
    expect(completed[1]!.slice(0, 4)).toEqual([7, undefined, "the hook's outcome could not be handed over: Maximum call stack size exceeded", 'thrown'])
  })
})
