import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { echoUpstream, type Echo, type Running } from '../helpers/servers.js'

let gw: Gateway
let front: Listener
let upstream: Running & { seen: Echo[] }

beforeAll(async () => {
  upstream = await echoUpstream()
  gw = await createGateway({ logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.services.put({ name: 'echo', urls: [upstream.url] })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
})

const payload = (version: number) => `export function requestModifier(ctx) { ctx.request().headers.set('x-version', '${version}') }`

describe('replacing a module under load', () => {
  it('50 replacements while 50 clients keep requesting: no failure, each answer from the version current then', async () => {
    await gw.modules.put({ name: 'versioned', payload: payload(0), moduleType: 'javascript' })
    await gw.routes.put({ name: 'versioned', paths: ['/v'], methods: ['GET'], service: 'echo', modules: ['versioned'] })
    let committed = 0
    let writing = true
    const failures: string[] = []
    const outOfOrder: string[] = []
    let answers = 0
    const dispatcher = new Agent({ connections: 50 })
    const client = async () => {
      while (writing) {
        const before = committed
        try {
          const res = await request(`${front.url}/v`, { dispatcher })
          const body = (await res.body.json()) as Echo
          const after = committed
          const version = Number(body.headers['x-version'])
          answers++
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`)
          // The version a request ran with was committed no earlier than the one current when it was sent,
          // and no later than the one current when its answer arrived (plus the one being written then).
          else if (!(version >= before && version <= after + 1)) outOfOrder.push(`${before} <= ${version} <= ${after}`)
        } catch (error) {
          failures.push((error as Error).message)
        }
      }
    }
    const clients = Array.from({ length: 50 }, client)
    for (let version = 1; version <= 50; version++) {
      await gw.modules.put({ name: 'versioned', payload: payload(version), moduleType: 'javascript' })
      committed = version
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 100))
    writing = false
    await Promise.all(clients)
    await dispatcher.close()
    expect(failures).toEqual([])
    expect(outOfOrder).toEqual([])
    expect(answers).toBeGreaterThan(200)
    const last = await request(`${front.url}/v`)
    expect(((await last.body.json()) as Echo).headers['x-version']).toBe('50')
  }, 60_000)
})
