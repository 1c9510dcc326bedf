import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, type Gateway } from '../../src/index.js'

// Bugs the examples ran into, each as the smallest test of the right behaviour.

let gw: Gateway
beforeAll(async () => {
  gw = await createGateway({ modules: { runtime: 'realm' }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
})
afterAll(async () => {
  await gw?.close()
})

describe('module compile', () => {
  // SES refuses any source text that looks like `import(`, comments included; compile blanks such comments, so the
  // usual way to type a JavaScript module, a JSDoc `{import('dgate').ModuleContext}`, is accepted.
  it('accepts a JavaScript module typed with a JSDoc import() type', async () => {
    const payload = `/** @param {import('dgate').ModuleContext} ctx */\nexport function requestHandler(ctx) { ctx.response().json({ ok: true }) }`
    await expect(gw.modules.put({ name: 'jsdoc', moduleType: 'javascript', payload })).resolves.toMatchObject({ name: 'jsdoc' })
  })
})

describe('module compile after blanking a comment', () => {
  it('keeps line numbers right after a blanked comment', async () => {
    const broken = `/** {import('dgate')} */\nconst a = 1\nexport const b = ;`
    await expect(gw.modules.put({ name: 'broken', moduleType: 'javascript', payload: broken })).rejects.toThrow(/line 3/)
  })
})
