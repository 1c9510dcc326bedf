import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway } from '../../src/index.js'
import { echoUpstream, listen, type Echo, type Running } from '../helpers/servers.js'

let gw: Gateway
let upstream: Running & { seen: Echo[] }
let front: Running

beforeEach(async () => {
  upstream = await echoUpstream()
  gw = await createGateway()
  front = await listen(gw.handler)
})
afterEach(async () => {
  await front.close()
  await gw.close()
  await upstream.close()
})

describe('proxying', () => {
  it('forwards a routed request to the service and streams the answer back', async () => {
    await gw.services.put({ name: 'users', urls: [upstream.url] })
    await gw.routes.put({ name: 'users', paths: ['/users/*'], methods: ['GET'], service: 'users' })
    const res = await request(`${front.url}/users/42?x=1`)
    expect(res.statusCode).toBe(200)
    const body = (await res.body.json()) as Echo
    expect(body.url).toBe('/users/42?x=1')
    expect(res.headers['x-upstream']).toBe('echo')
    expect(res.headers.via).toBe('1.1 dgate')
  })

  it('answers 404 and 405 with Allow when nothing routes', async () => {
    await gw.services.put({ name: 'users', urls: [upstream.url] })
    await gw.routes.put({ name: 'users', paths: ['/users'], methods: ['GET', 'POST'], service: 'users' })
    const missing = await request(`${front.url}/nope`)
    expect(missing.statusCode).toBe(404)
    expect(await missing.body.json()).toEqual({ error: 'not found', status: 404 })
    const wrong = await request(`${front.url}/users`, { method: 'DELETE' })
    expect(wrong.statusCode).toBe(405)
    expect(wrong.headers.allow).toBe('GET, HEAD, POST')
    await wrong.body.dump()
    expect(upstream.seen).toEqual([])
  })
})
