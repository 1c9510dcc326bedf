import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { createModuleHarness, type HarnessFetchHandler } from '../../src/testing/index.js'
import { closedPort, listen, type Running } from '../helpers/servers.js'

// examples/merge-upstreams: a requestHandler merging three dgate/http fetches, through a live gateway in the
// default runtime (SES in worker threads): the fetches are host calls from a worker, which is the point here.
const payload = readFileSync(new URL('../../examples/merge-upstreams/merge.js', import.meta.url), 'utf8')

let gw: Gateway
let front: Listener
const upstreams: Record<string, Running> = {}
/** Requests the upstreams got since the last holdUntilThree(), and the gate they wait at. */
let arrived = 0
let release: () => void = () => {}
let gate = Promise.resolve()

/** The example's upstreams: GET /{user} from `data`, 404 otherwise. Each holds its answer until `gate` opens. */
function source(data: Record<string, unknown>): Promise<Running> {
  return listen(async (req, res) => {
    arrived++
    await gate
    const found = data[decodeURIComponent(req.url!.slice(1))]
    res.writeHead(found === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(found ?? { error: 'unknown user' }))
  })
}

/** Makes the next three upstream requests wait until all three have arrived (so they must be concurrent). */
function holdUntilThree(): void {
  arrived = 0
  gate = new Promise((resolve) => (release = resolve))
  const check = setInterval(() => {
    if (arrived >= 3) {
      clearInterval(check)
      release()
    }
  }, 5)
  // Never hang the test: without concurrency the first fetch times out (2 s) and the test fails on its errors.
  setTimeout(() => (clearInterval(check), release()), 3000).unref()
}

async function setSources(sources: Record<string, string>): Promise<void> {
  await gw.modules.put({ name: 'sources', moduleType: 'javascript', payload: `export const sources = ${JSON.stringify(sources)}` })
}

async function dashboard(user: string): Promise<{ status: number; body: unknown }> {
  const res = await request(`${front.url}/dashboard/${user}`)
  return { status: res.statusCode, body: await res.body.json() }
}

beforeAll(async () => {
  upstreams.profile = await source({ ada: { name: 'Ada Lovelace', plan: 'pro' }, alan: { name: 'Alan Turing', plan: 'free' } })
  upstreams.orders = await source({ ada: [{ id: 'o-1', total: 42 }], alan: [] })
  upstreams.recommendations = await source({ ada: ['difference engine'] })
  gw = await createGateway({ logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await setSources(Object.fromEntries(Object.entries(upstreams).map(([k, u]) => [k, u.url])))
  await gw.modules.put({ name: 'merge', moduleType: 'javascript', payload })
  await gw.routes.put({ name: 'dashboard', paths: ['/dashboard/{user}'], methods: ['GET'], modules: ['merge'] })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw?.close()
  await Promise.all(Object.values(upstreams).map((u) => u.close()))
})

describe('examples/merge-upstreams through a live gateway (worker runtime)', () => {
  it("answers one JSON object with every upstream's part, fetched concurrently", async () => {
    holdUntilThree()
    expect(await dashboard('ada')).toEqual({
      status: 200,
      body: { user: 'ada', profile: { name: 'Ada Lovelace', plan: 'pro' }, orders: [{ id: 'o-1', total: 42 }], recommendations: ['difference engine'] },
    })
    expect(arrived).toBe(3)
  })

  it('a failing part is reported under errors and the others still arrive; nothing at all is a 502', async () => {
    gate = Promise.resolve()
    expect(await dashboard('alan')).toEqual({
      status: 200,
      body: { user: 'alan', profile: { name: 'Alan Turing', plan: 'free' }, orders: [], errors: { recommendations: 'recommendations answered 404' } },
    })
    expect(await dashboard('nobody')).toEqual({
      status: 502,
      body: { user: 'nobody', errors: { profile: 'profile answered 404', orders: 'orders answered 404', recommendations: 'recommendations answered 404' } },
    })
  })

  it('an upstream that is down costs only its part; the sources module can be replaced live', async () => {
    gate = Promise.resolve()
    const down = `http://127.0.0.1:${await closedPort()}`
    await setSources({ profile: upstreams.profile!.url, orders: down })
    const { status, body } = await dashboard('ada')
    expect(status).toBe(200)
    expect(body).toEqual({ user: 'ada', profile: { name: 'Ada Lovelace', plan: 'pro' }, errors: { orders: `connect ECONNREFUSED ${down.slice('http://'.length)}` } })
  })
})

describe('examples/merge-upstreams in the module harness', () => {
  const sources = { profile: 'http://profile.test', orders: 'http://orders.test' }
  const data: Record<string, object> = { 'http://profile.test/ada': { name: 'Ada' }, 'http://orders.test/ada': [{ id: 'o-1' }] }
  /** The module with its `sources` sibling, `user` = ada, and `fetch` answering its dgate/http calls (no sockets). */
  const harnessWith = (fetch: HarnessFetchHandler) =>
    createModuleHarness({
      module: payload,
      moduleType: 'javascript',
      modules: { sources: { payload: `export const sources = ${JSON.stringify(sources)}`, moduleType: 'javascript' } },
      params: { user: 'ada' },
      fetch,
    })

  it("merges every source's part, fetching each source once", async () => {
    const harness = await harnessWith((req) => ({ body: data[req.url]! }))
    try {
      const run = await harness.run({ url: '/dashboard/ada' })
      expect(run.fetches.map((f) => `${f.method} ${f.url}`).sort()).toEqual(['GET http://orders.test/ada', 'GET http://profile.test/ada'])
      expect([run.response.status, run.response.json()]).toEqual([200, { user: 'ada', profile: { name: 'Ada' }, orders: [{ id: 'o-1' }] }])
    } finally {
      await harness.close()
    }
  })

  it('a source that fails or answers an error status goes under errors; all failing is a 502', async () => {
    const partial = await harnessWith((req) => {
      if (req.url.startsWith('http://orders.test/')) throw new Error('connect ECONNREFUSED')
      return { body: data[req.url]! }
    })
    const none = await harnessWith(() => ({ status: 404, body: { error: 'unknown user' } }))
    try {
      const some = await partial.run({ url: '/dashboard/ada' })
      expect([some.response.status, some.response.json()]).toEqual([200, { user: 'ada', profile: { name: 'Ada' }, errors: { orders: 'connect ECONNREFUSED' } }])
      const nothing = await none.run({ url: '/dashboard/ada' })
      expect([nothing.response.status, nothing.response.json()]).toEqual([502, { user: 'ada', errors: { profile: 'profile answered 404', orders: 'orders answered 404' } }])
    } finally {
      await Promise.all([partial.close(), none.close()])
    }
  })
})
