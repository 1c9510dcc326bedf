import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { adminFixture, type AdminFixture } from './fixture.js'

let f: AdminFixture
afterEach(async () => {
  await f.close()
})

/** Sends a raw request and returns the whole response text. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let out = ''
    socket.on('data', (d: Buffer) => (out += d.toString('utf8')))
    socket.on('end', () => resolve(out))
    socket.on('close', () => resolve(out))
    socket.on('error', reject)
  })
}

describe('body size limit', () => {
  it('answers 413 to a declared Content-Length above the limit, without applying anything', async () => {
    f = await adminFixture({ admin: { maxBodySize: 1024 } })
    const version = f.gw.snapshot.version
    const body = JSON.stringify({ name: 'big', tags: ['x'.repeat(200), 'y'.repeat(200), 'z'.repeat(200), 'w'.repeat(200), 'v'.repeat(200)] })
    const res = await f.call('PUT', '/api/v1/namespace', { raw: body })
    expect(res.status).toBe(413)
    expect(res.json).toEqual({ error: 'request body is larger than 1024 bytes', status: 413 })
    expect(f.gw.snapshot.version).toBe(version)
  })

  it('answers 413 to a chunked body once it passes the limit', async () => {
    f = await adminFixture({ admin: { maxBodySize: 64 } })
    const chunk = `{"name":"big","tags":["${'x'.repeat(100)}"]}`
    const response = await raw(f.server.port, `PUT /api/v1/namespace HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`)
    expect(response).toMatch(/^HTTP\/1\.1 413 /)
    expect(response).toContain('{"error":"request body is larger than 64 bytes","status":413}')
    expect(f.gw.snapshot.namespace('big')).toBeUndefined()
  })

  it('accepts a body at the limit', async () => {
    const body = JSON.stringify({ name: 'ok' })
    f = await adminFixture({ admin: { maxBodySize: Buffer.byteLength(body) } })
    expect((await f.call('PUT', '/api/v1/namespace', { raw: body })).status).toBe(201)
  })
})
