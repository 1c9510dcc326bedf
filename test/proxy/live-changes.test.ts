import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { call, serve, startGateway } from './fixture.js'

/** An upstream that answers `name` after `delayMs`, counting requests in flight. */
async function slowUpstream(name: string, delayMs: number) {
  const state = { inFlight: 0, peak: 0, served: 0 }
  const up = await serve((req, res) => {
    state.inFlight++
    state.peak = Math.max(state.peak, state.inFlight)
    req.resume()
    setTimeout(() => {
      state.inFlight--
      state.served++
      res.end(name)
    }, delayMs)
  })
  return Object.assign(up, { state })
}

describe('live changes under load', () => {
  it('keeps 100 in-flight requests whole while routes and services are replaced again and again', async () => {
    const [a, b] = await Promise.all([slowUpstream('a', 300), slowUpstream('b', 300)])
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [a.url] })
    await gw.routes.put({ name: 'r', paths: ['/slow/*'], methods: ['GET'], service: 'svc' })

    let changing = true
    let changes = 0
    const churn = (async () => {
      // Alternate the service between a, b and both; rewrite the route's paths and methods; add and remove a
      // second service and route. Runs past the 1 s pool pruning so unused pools get closed under load.
      const deadline = Date.now() + 1300
      for (let i = 0; Date.now() < deadline; i++) {
        const urls = [[b.url], [a.url], [a.url, b.url]][i % 3]!
        await gw.services.put({ name: 'svc', urls, retries: i % 4 })
        await gw.routes.put({ name: 'r', paths: ['/slow/*', `/extra-${i}`], methods: i % 2 ? ['GET'] : ['GET', 'POST'], service: 'svc' })
        await gw.services.put({ name: `tmp-${i}`, urls: [i % 2 ? a.url : b.url] })
        await gw.routes.put({ name: 'tmp', paths: ['/tmp'], methods: ['GET'], service: `tmp-${i}` })
        if (i > 0) await gw.services.delete(`tmp-${i - 1}`)
        changes += 5
        await sleep(5)
      }
      changing = false
    })()

    const answers: Promise<{ status: number; body: string }>[] = []
    for (let i = 0; i < 100; i++) {
      answers.push(call(`${url}/slow/${i}`))
      await sleep(i % 10 === 0 ? 20 : 2)
    }
    const results = await Promise.all(answers)
    await churn
    expect(changing).toBe(false)
    expect(changes).toBeGreaterThan(100)
    const failures = results.filter((r) => r.status !== 200 || (r.body !== 'a' && r.body !== 'b'))
    expect(failures).toEqual([])
    expect(a.state.served + b.state.served).toBe(100)
    // They really overlapped: many requests were waiting on the upstreams at once.
    expect(a.state.peak + b.state.peak).toBeGreaterThanOrEqual(30)

    // The last state applies to new requests.
    await gw.services.put({ name: 'svc', urls: [b.url] })
    expect((await call(`${url}/slow/after`)).body).toBe('b')
  })

  it('lets requests already sent to a replaced upstream finish after its pool is pruned', async () => {
    const a = await slowUpstream('a', 1500)
    const b = await slowUpstream('b', 10)
    const { gw, url } = await startGateway()
    await gw.services.put({ name: 'svc', urls: [a.url] })
    await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
    const pending = Array.from({ length: 10 }, (_, i) => call(`${url}/${i}`))
    while (a.state.inFlight < 10) await sleep(5)
    // a's pool has no service left: it is pruned about a second later, while these requests still wait on a.
    await gw.services.put({ name: 'svc', urls: [b.url] })
    expect((await call(`${url}/new`)).body).toBe('b')
    const results = await Promise.all(pending)
    expect(results.map((r) => `${r.status} ${r.body}`)).toEqual(Array(10).fill('200 a'))
  })
})
