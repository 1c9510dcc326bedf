import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selfSignedPair } from '../helpers/tls.js'
import { adminFixture, type AdminFixture } from './fixture.js'

const SECRET = 'sup3r-s3cret-value-0451'
let f: AdminFixture
let pair: { cert: string; key: string }
const seen: string[] = []

beforeAll(async () => {
  f = await adminFixture()
  pair = selfSignedPair('secret.test')
})
afterAll(async () => {
  await f.close()
})

async function record(method: string, path: string, body?: unknown): Promise<void> {
  const res = await f.call(method, path, body === undefined ? {} : { body })
  seen.push(`${method} ${path} ${res.status} ${JSON.stringify(res.headers)} ${res.text}`)
}

describe('secret material', () => {
  it('never appears in any response: writes, reads, lists, errors', async () => {
    const keyBody = pair.key.split('\n').slice(1, -2).join('')
    await record('PUT', '/api/v1/secret', { name: 's', data: SECRET })
    await record('PUT', '/api/v1/secret', { name: 's2', data: SECRET, tags: [] })
    await record('PUT', '/api/v1/secret', { name: 'bad name', data: SECRET })
    await record('PUT', '/api/v1/secret', { name: 's3', data: SECRET, extra: SECRET })
    await record('PUT', '/api/v1/domain', { name: 'd', patterns: ['secret.test'], cert: pair.cert, key: pair.key })
    await record('PUT', '/api/v1/domain', { name: 'd2', patterns: ['x'], cert: pair.cert, key: `-----BEGIN PRIVATE KEY-----\n${keyBody.slice(0, 20)}\n-----END PRIVATE KEY-----\n` })
    await record('PUT', '/api/v1/domain', { name: 'd3', patterns: ['/[/'], cert: pair.cert, key: pair.key })
    for (const path of ['/api/v1/secret', '/api/v1/secret/s', '/api/v1/domain', '/api/v1/domain/d', '/api/v1/secret?consistent=true', '/api/v1/cluster', '/']) await record('GET', path)
    await record('DELETE', '/api/v1/secret', { name: 's', data: SECRET })
    expect(f.gw.snapshot.get('secret', 'default', 's')?.data).toBe(SECRET)
    expect(f.gw.snapshot.get('domain', 'default', 'd')?.key).toBe(pair.key)
    const all = seen.join('\n')
    expect(all).toContain('"cert"')
    expect(all).not.toContain(SECRET)
    expect(all).not.toContain(keyBody.slice(0, 16))
    expect(all).not.toMatch(/PRIVATE KEY/)
  })
})
