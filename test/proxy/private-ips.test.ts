import { describe, expect, it } from 'vitest'
import { call, echo, startGateway } from './fixture.js'

async function setup(disablePrivateIps: boolean, host: string) {
  const up = await echo()
  const { gw, url } = await startGateway({ proxy: { disablePrivateIps } })
  await gw.services.put({ name: 'svc', urls: [`http://${host}:${up.port}`] })
  await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['GET'], service: 'svc' })
  return { url, up }
}

describe('disablePrivateIps', () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    it(`refuses an upstream at ${host} with 502 when on, without connecting or retrying`, async () => {
      const { url, up } = await setup(true, host)
      let connections = 0
      up.server.on('connection', () => connections++)
      const res = await call(`${url}/x`)
      expect(res.status).toBe(502)
      expect(JSON.parse(res.body)).toEqual({ error: 'upstream address not allowed', status: 502 })
      expect(connections).toBe(0)
      expect(up.seen).toEqual([])
    })

    it(`serves an upstream at ${host} when off`, async () => {
      const { url, up } = await setup(false, host)
      expect((await call(`${url}/x`)).status).toBe(200)
      expect(up.seen).toHaveLength(1)
    })
  }

  it('refuses other spellings of loopback (a bracketed IPv6 literal, 127.x beyond .1)', async () => {
    const up = await echo()
    const { gw, url } = await startGateway({ proxy: { disablePrivateIps: true } })
    for (const [name, u] of [
      ['v6', `http://[::1]:${up.port}`],
      ['v4', `http://127.0.0.2:${up.port}`],
      ['mapped', `http://[::ffff:127.0.0.1]:${up.port}`],
    ]) {
      await gw.services.put({ name: name!, urls: [u!], retries: 0 })
      await gw.routes.put({ name: name!, paths: [`/${name!}`], methods: ['GET'], service: name! })
      const res = await call(`${url}/${name!}`)
      expect([name, res.status, JSON.parse(res.body).error]).toEqual([name, 502, 'upstream address not allowed'])
    }
    expect(up.seen).toEqual([])
  })

  it('guards h2c:// and https:// upstreams the same way (DGate let h2c bypass it)', async () => {
    const up = await echo()
    let connections = 0
    up.server.on('connection', () => connections++)
    const { gw, url } = await startGateway({ proxy: { disablePrivateIps: true } })
    for (const scheme of ['h2c', 'https']) {
      await gw.services.put({ name: scheme, urls: [`${scheme}://localhost:${up.port}`] })
      await gw.routes.put({ name: scheme, paths: [`/${scheme}`], methods: ['GET'], service: scheme })
      const res = await call(`${url}/${scheme}`)
      expect([scheme, res.status, JSON.parse(res.body).error]).toEqual([scheme, 502, 'upstream address not allowed'])
    }
    expect(connections).toBe(0)
  })
})
