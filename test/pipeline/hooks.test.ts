import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type Listener } from '../../src/index.js'
import { echoUpstream, type Echo, type Running } from '../helpers/servers.js'

// One gateway for the file: a worker pool costs ~100 ms to start, and module state is per program anyway.
let gw: Gateway
let front: Listener
let upstream: Running & { seen: Echo[] }
let other: Running & { seen: Echo[] }

beforeAll(async () => {
  upstream = await echoUpstream('main')
  other = await echoUpstream('other')
  gw = await createGateway({ modules: { deadlineMs: 1000 }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  await gw.services.put({ name: 'echo', urls: [upstream.url] })
  front = await gw.listen({ host: '127.0.0.1' })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
  await other.close()
})

async function route(name: string, payload: string, extra: { service?: string; methods?: string[] } = {}): Promise<string> {
  await gw.modules.put({ name, payload, moduleType: 'javascript' })
  const path = `/${name}/*`
  await gw.routes.put({ name, paths: [path], methods: extra.methods ?? ['GET', 'POST'], modules: [name], ...(extra.service ? { service: extra.service } : {}) })
  return `${front.url}/${name}/`
}

describe('hooks through a live gateway (worker runtime)', () => {
  it('requestModifier edits headers and query that reach the upstream', async () => {
    const base = await route('modreq', `export function requestModifier(ctx) {
      ctx.request().headers.set('x-added', 'yes')
      ctx.request().query.set('page', '2')
      ctx.set('seen', ctx.request().headers.get('x-in'))
    }`, { service: 'echo' })
    const res = await request(`${base}x?a=1`, { headers: { 'x-in': 'hello' } })
    expect(res.statusCode).toBe(200)
    const echo = (await res.body.json()) as Echo
    expect(echo.headers['x-added']).toBe('yes')
    expect(echo.url).toMatch(/^\/modreq\/x\?(a=1&page=2|page=2&a=1)$/)
  })

  it('a requestModifier that answers ends the request: nothing is proxied', async () => {
    const before = upstream.seen.length
    const base = await route('auth', `export const requestModifier = (ctx) => {
      if (!ctx.request().headers.get('x-key')) ctx.response().status(401).json({ error: 'no key' })
    }`, { service: 'echo' })
    const refused = await request(`${base}a`)
    expect([refused.statusCode, await refused.body.json()]).toEqual([401, { error: 'no key' }])
    expect(upstream.seen.length).toBe(before)
    const allowed = await request(`${base}a`, { headers: { 'x-key': 'k' } })
    expect(allowed.statusCode).toBe(200)
    await allowed.body.dump()
  })

  it('fetchUpstream picks the upstream', async () => {
    const base = await route('pick', `export const fetchUpstream = () => '${other.url}'`, { service: 'echo' })
    const res = await request(`${base}z`)
    expect(((await res.body.json()) as { upstream: string }).upstream).toBe('other')
  })

  it('responseModifier rewrites a JSON body with a correct length', async () => {
    const base = await route('resmod', `export async function responseModifier(ctx) {
      const body = await ctx.upstream().readJson()
      ctx.upstream().writeJson({ method: body.method, modified: true })
    }`, { service: 'echo' })
    const res = await request(`${base}r`)
    const text = await res.body.text()
    expect(JSON.parse(text)).toEqual({ method: 'GET', modified: true })
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(text)))
  })

  it('requestHandler answers without a service; reading the body does not lose it', async () => {
    const base = await route('handler', `export async function requestHandler(ctx) {
      const first = await ctx.request().readText()
      const again = await ctx.request().readText()
      ctx.response().status(201).json({ first, again, id: ctx.pathParam('*') })
    }`)
    const res = await request(`${base}item-7`, { method: 'POST', body: 'payload' })
    expect([res.statusCode, await res.body.json()]).toEqual([201, { first: 'payload', again: 'payload', id: 'item-7' }])
  })

  it('errorHandler answers for a failing hook; without one a failure is a 500 that leaks nothing', async () => {
    const handled = await route('handled', `export function requestHandler() { throw new Error('secret detail') }
      export function errorHandler(ctx, err) { ctx.response().status(418).json({ handled: err.message }) }`)
    const res = await request(`${handled}x`)
    expect([res.statusCode, await res.body.json()]).toEqual([418, { handled: 'secret detail' }])
    const bare = await route('bare', `export function requestHandler() { throw new Error('secret detail') }`)
    const plain = await request(`${bare}x`)
    const text = await plain.body.text()
    expect(plain.statusCode).toBe(500)
    expect(text).not.toContain('secret')
  })

  it('a stuck module fails only its own request, within the deadline', async () => {
    const base = await route('spin', `export function requestHandler(ctx) {
      if (ctx.request().query.get('spin') === '1') { while (true) {} }
      ctx.response().json({ ok: true })
    }`)
    const started = Date.now()
    const stuck = await request(`${base}x?spin=1`)
    expect(stuck.statusCode).toBe(500)
    await stuck.body.dump()
    expect(Date.now() - started).toBeLessThan(4000)
    const next = await request(`${base}x`)
    expect([next.statusCode, await next.body.json()]).toEqual([200, { ok: true }])
  })

  it('a route without a service and without requestHandler answers 501', async () => {
    const base = await route('nohandler', `export function requestModifier() {}`)
    const res = await request(`${base}x`)
    expect(res.statusCode).toBe(501)
    await res.body.dump()
  })

  it('refuses a module that does not compile or throws at load, naming the line', async () => {
    await expect(gw.modules.put({ name: 'broken', payload: 'export const x = ;', moduleType: 'javascript' })).rejects.toThrow(/module "broken": .*line 1/)
    await expect(gw.modules.put({ name: 'throws', payload: 'const a = 1\nthrow new Error("nope")', moduleType: 'javascript' })).rejects.toThrow(/module "throws": .*line 2.*nope/)
    await expect(gw.modules.put({ name: 'fs', payload: 'import fs from "node:fs"', moduleType: 'javascript' })).rejects.toThrow(/module "fs"/)
  })
})
