import * as nodeCrypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HostFetchResponse, ModuleContext, ModuleRuntime } from '../../src/modules/types.js'
import { FakeHost, SANDBOXES, exchange, program, runHook, text } from './helpers.js'

const enc = new TextEncoder()

// The hooks below run inside modules that import these names; they are declared here only for the type checker.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const fail: (message: string) => never
declare const sleep: (d: number | string) => Promise<void>
declare const retry: (n: number, fn: (i: number) => unknown) => Promise<any>
declare const dgate: any
declare const dfetch: any
declare const c: any
declare const createHash: any, sha256: any, sha512_224: any, md5: any, createHmac: any, hmac: any
declare const addDocument: any, getDocument: any, getDocuments: any, deleteDocument: any
declare const setCache: any, getCache: any, deleteCache: any
declare const readWriteBody: any, base64Encode: any, base64Decode: any
/* eslint-enable @typescript-eslint/no-explicit-any */

describe.each(SANDBOXES)('dgate/* imports and globals in the %s runtime', (_name, create) => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = create()
  })
  afterAll(() => rt.close())

  /** Runs a requestModifier whose module starts with `imports`. */
  const hook = (imports: string, fn: (ctx: ModuleContext) => unknown, host = new FakeHost(), ex = exchange()) => runHook(rt, 'requestModifier', fn, ex, host, imports)

  describe('dgate', () => {
    it('fail() throws an error with the message', async () => {
      const out = await hook(`import { fail } from 'dgate'`, () => {
        fail('denied')
      })
      expect(out.error).toEqual({ message: 'denied', code: 'thrown' })
    })

    it('sleep() takes seconds (fractions too) or a duration string, as a promise', async () => {
      const out = await hook(`import { sleep } from 'dgate'`, async () => {
        const t0 = Date.now()
        await sleep(0.03)
        await sleep('30ms')
        return Date.now() - t0
      })
      expect(out.result).toBeGreaterThanOrEqual(55)
    })

    it('retry() resolves with the first truthy result and rethrows the last failure', async () => {
      const out = await hook(`import { retry } from 'dgate'`, async () => {
        let calls = 0
        const value = await retry(5, (i: number) => {
          calls++
          if (i < 2) throw new Error('not yet')
          return `ok-${i}`
        })
        let failure = ''
        try {
          await retry(2, () => Promise.reject(new Error('always')))
        } catch (e) {
          failure = (e as Error).message
        }
        let refused = ''
        try {
          await retry(0, () => 1)
        } catch (e) {
          refused = (e as Error).message
        }
        return { value, calls, failure, refused }
      })
      expect(out.result).toEqual({ value: 'ok-2', calls: 3, failure: 'always', refused: 'retry: the number of attempts must be at least 1' })
    })

    it('exposes the sub-modules on the dgate object', async () => {
      const out = await hook(`import * as dgate from 'dgate'`, () =>
        [typeof dgate.http.fetch, typeof dgate.crypto.sha256, typeof dgate.state.getDocument, typeof dgate.storage.getCache, typeof dgate.util.readWriteBody],
      )
      expect(out.result).toEqual(['function', 'function', 'function', 'function', 'function'])
    })
  })

  describe('dgate/http', () => {
    const answer = (body: string, extra: Partial<HostFetchResponse> = {}) => async (): Promise<HostFetchResponse> => ({
      status: 200, statusText: 'OK', url: 'http://api.test/x', redirected: false, headers: [['content-type', 'application/json']], body: enc.encode(body), ...extra,
    })

    it('fetch() goes through the host with method, headers, body and redirect mode', async () => {
      const host = new FakeHost(undefined, undefined, answer('{"n":1}'))
      const out = await hook(
        `import { fetch as dfetch } from 'dgate/http'`,
        async () => {
          const res = await dfetch('http://api.test/x', { method: 'post', headers: { 'x-key': 'k' }, body: 'payload', redirects: 'manual', timeout: 500 })
          const json = await res.json()
          let second = ''
          try {
            await res.text()
          } catch (e) {
            second = (e as Error).message
          }
          return { status: res.status, ok: res.ok, type: res.headers.get('content-type'), json, used: res.bodyUsed, second, url: res.url, redirected: res.redirected }
        },
        host,
      )
      expect(out.result).toEqual({ status: 200, ok: true, type: 'application/json', json: { n: 1 }, used: true, second: 'body already used', url: 'http://api.test/x', redirected: false })
      expect(host.fetches).toHaveLength(1)
      const { url, init } = host.fetches[0]!
      expect({ url, method: init.method, headers: init.headers, redirect: init.redirect, timeoutMs: init.timeoutMs, body: text(init.body) }).toEqual({
        url: 'http://api.test/x', method: 'POST', headers: [['x-key', 'k']], redirect: 'manual', timeoutMs: 500, body: 'payload',
      })
    })

    it('the global fetch is the same, with text() and arrayBuffer()', async () => {
      const host = new FakeHost(undefined, undefined, answer('hello', { status: 404, statusText: 'Not Found' }))
      const out = await hook('', async () => {
        const a = await fetch('http://api.test/a')
        const b = await fetch('http://api.test/b')
        const buf = await b.arrayBuffer()
        return { text: await a.text(), ok: a.ok, status: a.status, size: buf.byteLength, isBuffer: buf instanceof ArrayBuffer }
      }, host)
      expect(out.result).toEqual({ text: 'hello', ok: false, status: 404, size: 5, isBuffer: true })
    })

    it('a host fetch failure rejects with its message only', async () => {
      const out = await hook(`import { fetch } from 'dgate/http'`, async () => {
        await fetch('http://10.0.0.1/')
      })
      expect(out.error).toEqual({ message: 'fetch is not available in this test', code: 'thrown' })
    })

    it('refuses an unknown redirect mode before calling the host', async () => {
      const host = new FakeHost()
      const out = await hook(`import { fetch as dfetch } from 'dgate/http'`, async () => {
        await dfetch('http://x/', { redirect: 'sometimes' })
      }, host)
      expect(out.error?.message).toBe('fetch: redirect must be "follow", "manual" or "error"')
      expect(host.fetches).toHaveLength(0)
    })
  })

  describe('dgate/crypto', () => {
    it('hashes with DGate names and encodings, as Node does', async () => {
      const out = await hook(`import { createHash, sha256, sha512_224, md5 } from 'dgate/crypto'`, () => {
        const h = createHash('sha256').update('ab').update(new Uint8Array([99]))
        const raw = h.digest() as ArrayBuffer
        return {
          hex: h.digest('hex'), b64: h.digest('b64'), raw: h.digest('base64raw'), url: h.digest('base64url'), rawurl: h.digest('b64rawurl'),
          rawIsBuffer: raw instanceof ArrayBuffer, rawSize: raw.byteLength,
          short: sha256('abc', 'hex'), t224: sha512_224('abc', 'hex'), md5: md5('abc', 'hex'),
        }
      })
      const d = nodeCrypto.createHash('sha256').update('abc').digest()
      expect(out.result).toEqual({
        hex: d.toString('hex'), b64: d.toString('base64'), raw: d.toString('base64').replace(/=+$/, ''), url: d.toString('base64url') + '=', rawurl: d.toString('base64url'),
        rawIsBuffer: true, rawSize: 32,
        short: d.toString('hex'), t224: nodeCrypto.createHash('sha512-224').update('abc').digest('hex'), md5: nodeCrypto.createHash('md5').update('abc').digest('hex'),
      })
    })

    it('createHmac and hmac work (they panicked in DGate)', async () => {
      const out = await hook(`import { createHmac, hmac } from 'dgate/crypto'`, () => ({
        a: createHmac('sha256', 'key').update('data').digest('hex'),
        b: hmac('sha1', 'key', 'data', 'base64'),
      }))
      expect(out.result).toEqual({ a: nodeCrypto.createHmac('sha256', 'key').update('data').digest('hex'), b: nodeCrypto.createHmac('sha1', 'key').update('data').digest('base64') })
    })

    it('random values, UUIDs, hash names that round-trip, hexEncode, and refusals', async () => {
      const out = await hook(`import * as c from 'dgate/crypto'`, () => {
        const errors: string[] = []
        for (const bad of [() => c.createHash('whirlpool'), () => c.randomInt(5, 5), () => c.randomBytes(0)]) {
          try {
            bad()
          } catch (e) {
            errors.push((e as Error).message)
          }
        }
        const ints = Array.from({ length: 50 }, () => c.randomInt(3, 6) as number)
        return {
          bytes: (c.randomBytes(16) as ArrayBuffer).byteLength,
          uuid: c.randomUUID(),
          hashes: (c.getHashes() as string[]).map((n: string) => typeof c.createHash(n).digest('hex')),
          hex: c.hexEncode('\u00ff\u0001'),
          intsInRange: ints.every((n) => n >= 3 && n < 6),
          below: c.randomInt(1),
          errors,
        }
      })
      expect(out.result).toMatchObject({ bytes: 16, hashes: ['string', 'string', 'string', 'string', 'string', 'string', 'string'], hex: 'c3bf01', intsInRange: true, below: 0 })
      expect((out.result as { uuid: string }).uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect((out.result as { errors: string[] }).errors).toEqual([
        'unsupported hash algorithm: whirlpool',
        'randomInt: expected integers with min < max',
        'randomBytes: size must be an integer from 1 to 65536',
      ])
    })
  })

  describe('dgate/state', () => {
    it('adds, gets, lists (limit/offset) and deletes documents of the namespace through the host', async () => {
      const host = new FakeHost()
      const out = await hook(`import { addDocument, getDocument, getDocuments, deleteDocument } from 'dgate/state'`, async () => {
        const c = 'links'
        for (const id of ['c', 'a', 'b']) {
          await addDocument({ id, collection: c, data: { url: `https://${id}.test` } })
        }
        const one = await getDocument('a', c)
        const page = await getDocuments({ collection: c, limit: 2, offset: 1 })
        const gone = await deleteDocument({ id: 'a', collection: c })
        const missing = await getDocument('a', c)
        return { data: one.data, createdAt: one.createdAt, page: page.map((d: { id: string }) => d.id), gone, missing }
      }, host)
      expect(out.result).toEqual({ data: { url: 'https://a.test' }, createdAt: '2024-01-01T00:00:00.000Z', page: ['b', 'c'], gone: true, missing: null })
      expect([...host.docs.keys()].sort()).toEqual(['links/b', 'links/c'])
    })

    it("rejects with the host's refusal (e.g. a schema violation) and without a collection name", async () => {
      const out = await hook(`import { addDocument, getDocuments } from 'dgate/state'`, async () => {
        const messages: string[] = []
        await addDocument({ id: 'x', collection: 'locked', data: 1 }).catch((e: Error) => messages.push(e.message))
        try {
          getDocuments({})
        } catch (e) {
          messages.push((e as Error).message)
        }
        return messages
      })
      expect(out.result).toEqual(['collection "locked": data must be an object', 'getDocuments: a collection name is required'])
    })
  })

  describe('dgate/storage', () => {
    it('round-trips values with a TTL, deletes them, and refuses a non-positive TTL', async () => {
      const host = new FakeHost()
      const out = await hook(`import { setCache, getCache, deleteCache } from 'dgate/storage'`, async () => {
        await setCache('k', { n: 1 }, { ttl: 30 })
        const got = await getCache('k')
        const deleted = await deleteCache('k')
        const after = await getCache('k')
        let refused = ''
        await setCache('k', 1, { ttl: 0 }).catch((e: Error) => (refused = e.message))
        return { got, deleted, after, refused }
      }, host)
      expect(out.result).toEqual({ got: { n: 1 }, deleted: true, after: null, refused: 'setCache: ttl must be a positive number of seconds' })
    })
  })

  describe('dgate/util', () => {
    it('readWriteBody rewrites the upstream body; base64 helpers', async () => {
      const out = await runHook(
        rt,
        'responseModifier',
        async (ctx: ModuleContext) => {
          await readWriteBody(ctx.upstream(), (body: string) => body.toUpperCase())
          return [base64Encode('hi?'), new TextDecoder().decode(base64Decode('aGk/'))]
        },
        exchange({ upstream: { statusCode: 200, headers: [] } }),
        new FakeHost(undefined, enc.encode('{"ok":true}')),
        `import { readWriteBody, base64Encode, base64Decode } from 'dgate/util'`,
      )
      expect(out.result).toEqual(['aGk/', 'hi?'])
      expect(text(out.upstream?.body)).toBe('{"OK":TRUE}')
    })
  })

  describe('globals', () => {
    it('console goes to the host log with the level and the module name (siblings too)', async () => {
      const p = program([
        { name: 'entry', payload: `import { note } from 'helper'\nexport function requestModifier() { console.log('a', 1, { b: 2 }); console.warn('w'); console.error(new Error('e')); console.debug('d'); note() }` },
        { name: 'helper', payload: `export function note() { console.info('from helper') }` },
      ])
      await rt.prepare(p)
      const host = new FakeHost()
      await rt.run(p.id, 'requestModifier', exchange(), host)
      expect(host.logs).toEqual([
        { level: 'info', message: 'a 1 {"b":2}', module: 'entry' },
        { level: 'warn', message: 'w', module: 'entry' },
        { level: 'error', message: 'Error: e', module: 'entry' },
        { level: 'debug', message: 'd', module: 'entry' },
        { level: 'info', message: 'from helper', module: 'helper' },
      ])
    })

    it('URL, URLSearchParams, TextEncoder/TextDecoder, Date.now and Math.random work', async () => {
      const out = await hook('', () => {
        const u = new URL('../b?x=1#h', 'https://user@example.com:8443/a/c')
        u.searchParams.append('y', 'z w')
        const p = new URLSearchParams({ q: 'a&b' })
        return {
          href: u.href, host: u.host, path: u.pathname, x: u.searchParams.get('x'), can: URL.canParse('nope'),
          params: p.toString(), bytes: Array.from(new TextEncoder().encode('é')), decoded: new TextDecoder().decode(new Uint8Array([104, 105])),
          now: typeof Date.now() === 'number', random: Math.random() < 1,
        }
      })
      expect(out.result).toEqual({
        href: 'https://user@example.com:8443/b?x=1&y=z+w#h', host: 'example.com:8443', path: '/b', x: '1', can: false,
        params: 'q=a%26b', bytes: [195, 169], decoded: 'hi', now: true, random: true,
      })
    })

    it('timers work within a call and are cancelled when it ends', async () => {
      const host = new FakeHost()
      const out = await hook('', async () => {
        const fired: string[] = []
        const cancelled = setTimeout(() => fired.push('cancelled'), 5)
        clearTimeout(cancelled)
        await new Promise((resolve) => setTimeout(resolve, 10))
        setTimeout(() => console.log('late timer ran'), 30)
        return fired
      }, host)
      expect(out.result).toEqual([])
      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(host.logs).toEqual([])
    })
  })
})
