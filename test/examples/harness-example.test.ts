// The "Testing modules" example of the README, runnable: there it imports from 'dgate/testing'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModuleHarness, type ModuleHarness } from '../../src/testing/index.js'

const auth = `
import { getDocument } from 'dgate/state'

export async function requestModifier(ctx) {
  const key = ctx.request().headers.get('x-api-key')
  const client = key ? await getDocument(key, 'api-keys') : null
  if (!client) return ctx.response().status(401).json({ error: 'unknown API key' })
  console.info('client', client.data.name)
  ctx.request().headers.set('x-client', client.data.name).del('x-api-key')
}
`

describe('auth module', () => {
  let harness: ModuleHarness
  beforeAll(async () => {
    harness = await createModuleHarness({
      module: auth,
      upstream: { status: 200, body: { orders: [] } },
      collections: [{ name: 'api-keys', schema: { type: 'object', required: ['name'] } }],
      documents: [{ collection: 'api-keys', id: 'k-123', data: { name: 'shop' } }],
    })
  })
  afterAll(() => harness.close())

  it('answers 401 without a known key, and nothing reaches the upstream', async () => {
    const { response, upstreamRequest, hooks } = await harness.run({ url: '/orders', headers: { 'x-api-key': 'nope' } })
    expect(response.status).toBe(401)
    expect(response.json()).toEqual({ error: 'unknown API key' })
    expect(upstreamRequest).toBeUndefined()
    expect(hooks).toEqual(['requestModifier'])
  })

  it('names the client to the upstream and drops the key', async () => {
    const { response, upstreamRequest, logs } = await harness.run({ url: '/orders?page=2', headers: { 'x-api-key': 'k-123' } })
    expect(upstreamRequest?.path).toBe('/orders?page=2')
    expect(upstreamRequest?.headers.get('x-client')).toBe('shop')
    expect(upstreamRequest?.headers.has('x-api-key')).toBe(false)
    expect(response.json()).toEqual({ orders: [] })
    expect(logs).toEqual([{ level: 'info', message: 'client shop', module: 'main' }])
  })

  it('calls one hook on its own', async () => {
    const { request, response } = await harness.call('requestModifier', { headers: { 'x-api-key': 'k-123' } })
    expect(response).toBeUndefined()
    expect(request.headers.get('x-client')).toBe('shop')
  })
})
