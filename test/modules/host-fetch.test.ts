import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModuleFetch } from '../../src/modules/host/fetch.js'
import { listen, type Running } from '../helpers/servers.js'

// dgate/http's fetch as the host performs it, against real servers on 127.0.0.1.
let server: Running
const seen: string[] = []
beforeAll(async () => {
  server = await listen((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    if (req.url === '/moved') return void res.writeHead(302, { location: '/target' }).end()
    if (req.url === '/see-other') return void res.writeHead(303, { location: '/target' }).end()
    res.writeHead(200, { 'x-at': req.url ?? '' }).end(`hello ${req.method}`)
  })
})
afterAll(async () => {
  await server.close()
})

const init = { method: 'GET', headers: [] as [string, string][], redirect: 'follow' as const }

describe('the host fetch of modules', () => {
  it('follows redirects, and turns a 303 after POST into a GET', async () => {
    const fetcher = new ModuleFetch({ disablePrivateIps: false })
    const followed = await fetcher.fetch(`${server.url}/moved`, init)
    expect([followed.status, followed.redirected, followed.url, Buffer.from(followed.body).toString()]).toEqual([200, true, `${server.url}/target`, 'hello GET'])
    const posted = await fetcher.fetch(`${server.url}/see-other`, { ...init, method: 'POST', body: new TextEncoder().encode('x') })
    expect(Buffer.from(posted.body).toString()).toBe('hello GET')
    await fetcher.close()
  })

  it('returns the redirect itself in manual mode and refuses it in error mode', async () => {
    const fetcher = new ModuleFetch({ disablePrivateIps: false })
    const manual = await fetcher.fetch(`${server.url}/moved`, { ...init, redirect: 'manual' })
    expect([manual.status, manual.headers.find(([n]) => n === 'location')?.[1]]).toEqual([302, '/target'])
    await expect(fetcher.fetch(`${server.url}/moved`, { ...init, redirect: 'error' })).rejects.toThrow(`fetch: ${server.url}/moved redirected to /target`)
    await expect(fetcher.fetch('ftp://example.test/x', init)).rejects.toThrow('fetch: only http and https URLs, not ftp:')
    await fetcher.close()
  })

  it('with disablePrivateIps refuses loopback by literal and by name, before connecting', async () => {
    const fetcher = new ModuleFetch({ disablePrivateIps: true })
    const before = seen.length
    await expect(fetcher.fetch(`${server.url}/x`, init)).rejects.toThrow(/not allowed \(disablePrivateIps\)/)
    await expect(fetcher.fetch(`http://localhost:${server.port}/x`, init)).rejects.toThrow(/not allowed \(disablePrivateIps\)/)
    expect(seen.length).toBe(before)
    await fetcher.close()
  })
})
