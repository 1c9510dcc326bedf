import { describe, expect, it } from 'vitest'
import type { ModuleContext, ModuleRuntime } from '../../src/modules/types.js'
import { exchange, FakeHost, load, RUNTIMES } from './helpers.js'

// In-thread runtimes hand back the outcome of a hook that does not await as a value, so the pipeline can send the
// request on without a promise; a hook that awaits gets a promise (and a deadline). The worker always answers later.
describe.each(RUNTIMES)('the %s runtime', (kind, make) => {
  const inThread = kind !== 'worker'

  async function outcomes(runtime: ModuleRuntime) {
    const id = await load(runtime, {
      requestModifier: (ctx: ModuleContext) => void ctx.request().headers.set('x-now', '1'),
      responseModifier: async (ctx: ModuleContext) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        ctx.upstream()!.headers.set('x-later', '1')
      },
      errorHandler: () => {
        throw new Error('thrown at once')
      },
    })
    const upstream = exchange({ upstream: { statusCode: 200, headers: [] } })
    return {
      now: runtime.run(id, 'requestModifier', exchange(), new FakeHost()),
      later: runtime.run(id, 'responseModifier', upstream, new FakeHost()),
      thrown: runtime.run(id, 'errorHandler', exchange({ error: { message: 'x', status: 500 } }), new FakeHost()),
    }
  }

  it(`answers a hook that does not await ${inThread ? 'at once, as a value' : 'with a promise'}`, async () => {
    const runtime = make()
    try {
      const { now, later, thrown } = await outcomes(runtime)
      expect(now instanceof Promise).toBe(!inThread)
      expect(thrown instanceof Promise).toBe(!inThread)
      expect(later).toBeInstanceOf(Promise)
      expect((await now).request?.headers).toContainEqual(['x-now', '1'])
      expect((await thrown).error).toEqual({ message: 'thrown at once', code: 'thrown' })
      expect((await later).upstream?.headers).toContainEqual(['x-later', '1'])
    } finally {
      await runtime.close()
    }
  })
})
