import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPipeline, type PipelineProgram, type SendResult, type UpstreamBody } from '../../src/modules/pipeline.js'
import { createWorkerRuntime } from '../../src/modules/runtimes/worker.js'
import type { HookName, HostCalls, ModuleRuntime } from '../../src/modules/types.js'
import { FakeHost, exchange, single } from '../modules/helpers.js'

// A responseModifier reading a small upstream body gets it with the exchange (no host call: in the worker runtime a
// host call is a thread round trip); a large or unsized body is read on demand, as before.
let runtime: ModuleRuntime
let program: PipelineProgram
let hostReads = 0

beforeAll(async () => {
  const worker = createWorkerRuntime({ size: 1 })
  // Counts the kernel's readUpstreamBody host calls: the runtime gets the pipeline's host calls through a proxy.
  const counting = (host: HostCalls): HostCalls =>
    new Proxy(host, {
      get(target, key) {
        if (key === 'readUpstreamBody') return () => (hostReads++, target.readUpstreamBody())
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  runtime = {
    kind: worker.kind,
    prepare: (p) => worker.prepare(p),
    release: (id) => worker.release(id),
    close: () => worker.close(),
    run: (id, hook, ex, host, options) => worker.run(id, hook, ex, counting(host), options),
  }
  const compiled = single(`export async function responseModifier(ctx) {
  const data = await ctx.upstream().readJson()
  ctx.upstream().writeJson({ ...data, seen: true })
}`)
  const { hooks } = await runtime.prepare(compiled)
  program = { id: compiled.id, hooks: new Set(hooks as HookName[]), runtime }
})
afterAll(() => runtime.close())

async function through(length: number | undefined, text: string): Promise<{ body: string; reads: number; bodyReads: number }> {
  hostReads = 0
  let bodyReads = 0
  const bytes = new TextEncoder().encode(text)
  const body: UpstreamBody = { length, read: async () => (bodyReads++, bytes), discard() {} }
  const sent: SendResult = { kind: 'response', statusCode: 200, headers: [['content-type', 'application/json']], body }
  const host = new FakeHost()
  const answer = await runPipeline(program, exchange(), { proxied: true, calls: host, send: async () => sent })
  if (answer.kind !== 'relay' || !answer.body) throw new Error(`unexpected answer ${answer.kind}`)
  return { body: new TextDecoder().decode(answer.body), reads: hostReads, bodyReads }
}

describe('the upstream body a responseModifier reads', () => {
  it('comes with the exchange when its declared length is small: no host call', async () => {
    expect(await through(11, '{"ok":true}')).toEqual({ body: '{"ok":true,"seen":true}', reads: 0, bodyReads: 1 })
  })

  it('is read through a host call when its length is unknown or large', async () => {
    expect(await through(undefined, '{"ok":true}')).toEqual({ body: '{"ok":true,"seen":true}', reads: 1, bodyReads: 1 })
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) })
    const out = await through(big.length, big)
    expect([out.reads, out.bodyReads, JSON.parse(out.body).seen]).toEqual([1, 1, true])
  })
})
