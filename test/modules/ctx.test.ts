import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModuleContext } from '../../src/modules/types.js'
import type { ModuleRuntime } from '../../src/modules/types.js'
import { FakeHost, RUNTIMES, exchange, load, runHook, text } from './helpers.js'

// Hooks below are self-contained functions: the sandboxes get their source text, the native runtime the functions.
describe.each(RUNTIMES)('ctx in the %s runtime', (_name, create) => {
  let rt: ModuleRuntime
  beforeAll(() => {
    rt = create()
  })
  afterAll(() => rt.close())

  it('exposes the request line, id and client as read from the exchange', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      const r = ctx.request()
      return { id: ctx.id, method: r.method, path: r.path, host: r.host, proto: r.proto, remote: r.remoteAddress, length: r.contentLength }
    })
    expect(out.error).toBeUndefined()
    expect(out.result).toEqual({ id: 'req-1', method: 'GET', path: '/users/42/rest/of/path', host: 'api.example.com', proto: 'HTTP/1.1', remote: '10.1.2.3', length: -1 })
    expect(out.request).toBeUndefined()
  })

  it('reads request headers case-insensitively and reports every change', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      const h = ctx.request().headers
      const seen = { first: h.get('X-Multi'), all: h.values('x-multi'), missing: h.get('nope'), has: h.has('ACCEPT'), keys: h.keys(), json: h.toJSON() }
      h.set('X-Added', 1).add('x-multi', 'c').del('accept')
      let refused = ''
      try {
        h.set('x-bad', 'a\r\nb')
      } catch (e) {
        refused = (e as Error).message
      }
      return { ...seen, iterated: [...h].map(([k]) => k), refused }
    })
    expect(out.result).toEqual({
      first: 'a',
      all: ['a', 'b'],
      missing: '',
      has: true,
      keys: ['accept', 'x-multi', 'cookie'],
      json: { accept: 'application/json', 'x-multi': 'a, b', cookie: 'sid=abc; theme="dark"' },
      iterated: ['x-multi', 'x-multi', 'cookie', 'x-added', 'x-multi'],
      refused: 'invalid header value: contains CR, LF or NUL',
    })
    expect(out.request?.headers).toEqual([['x-multi', 'a'], ['x-multi', 'b'], ['cookie', 'sid=abc; theme="dark"'], ['x-added', '1'], ['x-multi', 'c']])
  })

  it('edits the query so the edit reaches the upstream; ctx.query() is the same object', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      const q = ctx.request().query
      const seen = { a: q.get('a'), as: q.values('a'), b: q.get('b'), none: q.get('zz'), has: q.has('b'), same: ctx.query() === q }
      q.set('a', 'x y').add('c', '&').del('b')
      return { ...seen, encoded: q.encode(), entries: q.entries() }
    })
    expect(out.result).toEqual({ a: '1', as: ['1', '3'], b: 'two words', none: '', has: true, same: true, encoded: 'a=x+y&c=%26', entries: [['a', 'x y'], ['c', '&']] })
    expect(out.request?.query).toBe('a=x+y&c=%26')
  })

  it('reads the request body as promises without consuming it, buffering it once', async () => {
    const host = new FakeHost()
    const out = await runHook(
      rt,
      'requestModifier',
      async (ctx: ModuleContext) => {
        const r = ctx.request()
        const buf = await r.readBody()
        const again = await r.readText()
        const json = (await r.readJson()) as { name: string }
        return { isArrayBuffer: buf instanceof ArrayBuffer, size: buf.byteLength, again, name: json.name }
      },
      exchange(),
      host,
    )
    expect(out.result).toEqual({ isArrayBuffer: true, size: 14, again: '{"name":"ada"}', name: 'ada' })
    expect(host.requestBodyReads).toBe(1)
    expect(out.request).toBeUndefined()
  })

  it('uses an already buffered request body without asking the host', async () => {
    const host = new FakeHost()
    const out = await runHook(rt, 'requestModifier', async (ctx: ModuleContext) => ctx.request().readText(), exchange({ request: { body: new TextEncoder().encode('pre') } }), host)
    expect(out.result).toBe('pre')
    expect(host.requestBodyReads).toBe(0)
  })

  it('rewrites the request body with a correct length, and writeJson sets the content type', async () => {
    const out = await runHook(rt, 'requestModifier', async (ctx: ModuleContext) => {
      const r = ctx.request()
      const body = (await r.readJson()) as Record<string, unknown>
      r.writeJson({ ...body, extra: 'é' })
      return { length: r.contentLength, readBack: await r.readText() }
    }, exchange({ request: { headers: [['transfer-encoding', 'chunked']] } }))
    const expected = '{"name":"ada","extra":"é"}'
    expect(out.result).toEqual({ length: Buffer.byteLength(expected), readBack: expected })
    expect(text(out.request?.body)).toBe(expected)
    expect(out.request?.headers).toEqual([['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(expected))]])
  })

  it('lets a hook change the method and the path that go upstream', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      ctx.request().method = 'post'
      ctx.request().path = '/v2/users'
    })
    expect(out.request).toEqual({ method: 'POST', path: '/v2/users' })
  })

  it('answers with response().status().json(): the request is ended', async () => {
    const out = await runHook(rt, 'requestHandler', (ctx: ModuleContext) => {
      const res = ctx.response()
      const before = res.headersSent
      res.status(201).json({ ok: true })
      return { before, after: res.headersSent }
    })
    expect(out.result).toEqual({ before: false, after: true })
    expect(out.response).toMatchObject({ status: 201, ended: true, headers: [['content-type', 'application/json']] })
    expect(text(out.response?.body)).toBe('{"ok":true}')
  })

  it('appends repeated end/send calls, defaults the status to 200, and accepts end() without data', async () => {
    const out = await runHook(rt, 'requestHandler', (ctx: ModuleContext) => {
      ctx.response().send('a').end(new Uint8Array([98])).end()
    })
    expect(out.response).toMatchObject({ status: 200, ended: true })
    expect(text(out.response?.body)).toBe('ab')
  })

  it('stores a status without ending the request, and sets Location', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      ctx.response().status(202).location('/elsewhere')
    })
    expect(out.response).toEqual({ status: 202, ended: false, headers: [['location', '/elsewhere']] })
  })

  it('redirects with 307 (relative to the request path) and 301', async () => {
    const temp = await runHook(rt, 'requestHandler', (ctx: ModuleContext) => {
      ctx.response().redirect('other')
    })
    expect(temp.response).toMatchObject({ status: 307, ended: true })
    expect(temp.response?.headers).toContainEqual(['location', '/users/42/rest/of/other'])
    expect(text(temp.response?.body)).toBe('<a href="/users/42/rest/of/other">Temporary Redirect</a>.\n')
    const perm = await runHook(rt, 'requestHandler', (ctx: ModuleContext) => {
      ctx.response().redirectPermanent('https://example.com/x')
    })
    expect(perm.response).toMatchObject({ status: 301, ended: true })
    expect(perm.response?.headers).toContainEqual(['location', 'https://example.com/x'])
  })

  it('sets cookies and reads the request cookies', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      const res = ctx.response()
      res.cookie('session', 'v1', { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 60, expires: new Date(0) })
      return { all: res.getCookies(), one: res.getCookie('theme'), none: res.getCookie('nope') }
    })
    expect(out.result).toEqual({ all: [{ name: 'sid', value: 'abc' }, { name: 'theme', value: 'dark' }], one: { name: 'theme', value: 'dark' }, none: null })
    expect(out.response?.headers).toEqual([['set-cookie', 'session=v1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60; HttpOnly; Secure; SameSite=Lax']])
  })

  it('shares ctx.get/ctx.set and response().locals across the hooks of a request', async () => {
    const id = await load(rt, {
      requestModifier: (ctx: ModuleContext) => {
        ctx.set('user', { id: 7 })
        ctx.response().locals.count = 1
      },
      responseModifier: (ctx: ModuleContext) => ({ user: ctx.get('user'), count: ctx.get('count'), missing: ctx.get('missing') }),
    })
    const first = await rt.run(id, 'requestModifier', exchange(), new FakeHost())
    expect(first.locals).toEqual({ user: { id: 7 }, count: 1 })
    const second = await rt.run(id, 'responseModifier', exchange({ locals: first.locals, upstream: { statusCode: 200, headers: [] } }), new FakeHost())
    expect(second.result).toEqual({ user: { id: 7 }, count: 1, missing: null })
  })

  it('refuses to store a value in the scratch that cannot cross as JSON', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      const loop: Record<string, unknown> = {}
      loop.self = loop
      ctx.set('loop', loop)
    })
    expect(out.error?.code).toBe('thrown')
    expect(out.error?.message).toMatch(/circular/i)
  })

  it('gives plain snapshots of the service, route, namespace and path params', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => ({
      service: ctx.service(),
      route: (ctx.route() as { name: string }).name,
      namespace: ctx.namespace(),
      params: ctx.pathParams(),
      id: ctx.pathParam('id'),
      rest: ctx.pathParam('*'),
      missing: ctx.pathParam('nope'),
    }))
    expect(out.result).toEqual({
      service: { name: 's1', urls: ['http://127.0.0.1:1'], namespace: 'default' },
      route: 'r1',
      namespace: { name: 'default', tags: [] },
      params: { id: '42', '*': 'rest/of/path' },
      id: '42',
      rest: 'rest/of/path',
      missing: '',
    })
    const none = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => ctx.service(), exchange({ service: null }))
    expect(none.result).toBeNull()
  })

  it('has no upstream outside responseModifier', async () => {
    const out = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => ctx.upstream() === null)
    expect(out.result).toBe(true)
  })

  it('reads and rewrites the upstream response with a correct length', async () => {
    const host = new FakeHost()
    const out = await runHook(
      rt,
      'responseModifier',
      async (ctx: ModuleContext) => {
        const up = ctx.upstream()!
        const seen = { status: up.statusCode, text: up.statusText, type: up.headers.get('content-type') }
        const body = (await up.readJson()) as Record<string, unknown>
        const again = await up.readText()
        up.writeJson({ ...body, wrapped: true })
        up.status(203)
        return { ...seen, again }
      },
      exchange({ upstream: { statusCode: 200, headers: [['content-type', 'application/json'], ['content-length', '11']] } }),
      host,
    )
    expect(out.result).toEqual({ status: 200, text: '200 OK', type: 'application/json', again: '{"ok":true}' })
    expect(host.upstreamBodyReads).toBe(1)
    expect(out.upstream?.statusCode).toBe(203)
    expect(text(out.upstream?.body)).toBe('{"ok":true,"wrapped":true}')
    expect(out.upstream?.headers).toEqual([['content-type', 'application/json'], ['content-length', '26']])
  })

  it('redirects the upstream response with an empty body and a zero length', async () => {
    const out = await runHook(
      rt,
      'responseModifier',
      (ctx: ModuleContext) => {
        ctx.upstream()!.redirect('/moved')
      },
      exchange({ upstream: { statusCode: 200, headers: [['content-length', '11']] } }),
    )
    expect(out.upstream?.statusCode).toBe(307)
    expect(out.upstream?.headers).toEqual([['location', '/moved'], ['content-length', '0']])
    expect(out.upstream?.body?.byteLength ?? 0).toBe(0)
    const perm = await runHook(rt, 'responseModifier', (ctx: ModuleContext) => {
      ctx.upstream()!.statusCode = 404
      ctx.upstream()!.redirectPermanent('/p')
    }, exchange({ upstream: { statusCode: 200, headers: [] } }))
    expect(perm.upstream?.statusCode).toBe(301)
  })

  it("returns fetchUpstream's URL as the result", async () => {
    const out = await runHook(rt, 'fetchUpstream', (ctx: ModuleContext) => `http://backend-${ctx.pathParam('id')}.local:8080`)
    expect(out.result).toBe('http://backend-42.local:8080')
  })

  it('reports a throw or a rejection as a message without a stack, and drops the failed hook changes', async () => {
    const thrown = await runHook(rt, 'requestModifier', (ctx: ModuleContext) => {
      ctx.request().headers.set('x-partial', '1')
      throw new Error('boom')
    })
    expect(thrown.error).toEqual({ message: 'boom', code: 'thrown' })
    expect(thrown.request).toBeUndefined()
    const rejected = await runHook(rt, 'requestModifier', async () => Promise.reject(new TypeError('nope')))
    expect(rejected.error).toEqual({ message: 'nope', code: 'thrown' })
    const odd = await runHook(rt, 'requestModifier', () => {
      throw 42
    })
    expect(odd.error).toEqual({ message: '42', code: 'thrown' })
  })

  it('passes the failure to errorHandler, which answers', async () => {
    const out = await runHook(
      rt,
      'errorHandler',
      (ctx: ModuleContext, err: Error & { status?: number }) => {
        ctx.response().status(err.status ?? 500).json({ error: err.message, isError: err instanceof Error })
      },
      exchange({ error: { message: 'upstream refused', status: 502 } }),
    )
    expect(out.response).toMatchObject({ status: 502, ended: true })
    expect(JSON.parse(text(out.response?.body))).toEqual({ error: 'upstream refused', isError: true })
  })

  it('reports a hook that is not exported as unavailable', async () => {
    const id = await load(rt, { requestModifier: () => undefined })
    const out = await rt.run(id, 'responseModifier', exchange(), new FakeHost())
    expect(out.error?.code).toBe('unavailable')
    expect((await rt.prepare(rt.kind === 'native' ? { id, entry: 'main', native: { kind: 'dgate.module', hooks: {} } } : { id, entry: 'main', modules: [] })).hooks).toEqual(['requestModifier'])
  })
})
