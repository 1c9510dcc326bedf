import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildOutcome, exchangeJson, flatHeaders, headerPairs, snapshotJson } from '../../src/modules/runtimes/wire.js'
import type { HeaderList, ModuleContext, ModuleRuntime } from '../../src/modules/types.js'
import { createNativeRuntime } from '../../src/modules/runtimes/native.js'
import { FakeHost, RUNTIMES, exchange, load } from './helpers.js'

// The cheap per-call path: flat header lists, snapshots serialized once per object, locals sent back only when a
// hook may have changed them, batched worker messages. These tests pin the behaviour the shortcuts must keep.

describe('wire encoding', () => {
  it('flattens header lists and reads them back as fresh string pairs', () => {
    const list: HeaderList = [['accept', '*/*'], ['x-empty', ''], ['x-multi', 'a'], ['x-multi', 'b']]
    const flat = flatHeaders(list)
    expect(typeof flat).toBe('string')
    expect(headerPairs(flat)).toEqual(list)
    expect(headerPairs(flatHeaders([]))).toEqual([])
  })

  it('keeps a list whose names or values hold the separator as pairs', () => {
    const list: HeaderList = [['x-del', 'a\x7fb']]
    expect(flatHeaders(list)).toBe(list)
    expect(headerPairs(list)).toEqual(list)
  })

  it('refuses malformed header lists from a sandbox', () => {
    expect(headerPairs('a\x7fb\x7fc')).toBeUndefined()
    expect(headerPairs([['a', 1]])).toBeUndefined()
    expect(headerPairs({})).toBeUndefined()
    const ex = exchange()
    expect(buildOutcome(ex, JSON.stringify({ request: { headers: 'odd' } }), undefined, undefined, undefined).error?.code).toBe('crashed')
    expect(buildOutcome(ex, JSON.stringify({ response: { headers: 7, ended: true } }), undefined, undefined, undefined).error?.code).toBe('crashed')
    expect(buildOutcome(ex, JSON.stringify({ upstream: { statusCode: '200', headers: '' } }), undefined, undefined, undefined).error?.code).toBe('crashed')
  })

  it('keeps only the documented request changes of an outcome', () => {
    const ex = exchange()
    const out = buildOutcome(ex, JSON.stringify({ request: { query: 'a=1', method: 'POST', path: '/x', extra: { evil: true }, headers: 'a\x7f1' } }), undefined, undefined, undefined)
    expect(out.request).toEqual({ query: 'a=1', method: 'POST', path: '/x', headers: [['a', '1']] })
    expect(out.locals).toBe(ex.locals)
  })

  it('serializes a snapshot once per object, and never the route into the exchange text', () => {
    const route = { name: 'r', paths: ['/a'] }
    const first = snapshotJson(route)
    expect(snapshotJson(route)).toBe(first)
    expect(JSON.parse(first.json)).toEqual(route)
    expect(snapshotJson({ name: 'r', paths: ['/a'] }).id).not.toBe(first.id)
    expect(snapshotJson(null)).toEqual({ id: 0, json: '' })
    expect(exchangeJson(exchange({ route }))).not.toContain('"paths"')
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
