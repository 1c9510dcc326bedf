// One gateway under test, as its own process: `http.createServer(gw.handler)` with one service and one `/*` route,
// and the route's module (if any) per --variant. Bundled at run time by main.ts, so a source tree in the middle of a
// change breaks only the targets, not the benchmark; announces `unavailable` with the reason instead of failing.
import http from 'node:http'
import { announce, argValue, serveParent } from '../lib/children.js'
import { createGateway, defineModule } from '../../src/index.js'
import { listen } from '../proxy/upstream.js'

/** A trivial requestModifier: sets one header (the same code in every runtime). */
const SET_HEADER = `export function requestModifier(ctx) { ctx.request().headers.set('x-bench', '1') }`
/** A responseModifier that rewrites the upstream's JSON body. */
const REWRITE_JSON = `export async function responseModifier(ctx) {
  const upstream = ctx.upstream()
  const data = await upstream.readJson()
  data.rewritten = true
  upstream.writeJson(data)
}`

// wrk closes its connections mid-request when a run ends; the warnings for those aborted hooks are not the bench's output.
const silent = { debug() {}, info() {}, warn() {}, error() {} }

const upstream = argValue('upstream')
const variant = argValue('variant') ?? 'none'
if (!upstream) throw new Error('modules target: --upstream is required')
serveParent()
try {
  const gw = await createGateway({ logger: silent, ...(variant === 'realm' ? { modules: { runtime: 'realm' as const } } : {}) })
  await gw.services.put({ name: 'up', urls: [upstream] })
  let modules: string[] = []
  switch (variant) {
    case 'none':
      break
    case 'native':
      await gw.modules.register('m', defineModule({ requestModifier: (ctx) => void ctx.request().headers.set('x-bench', '1') }))
      modules = ['m']
      break
    case 'realm':
    case 'worker':
      await gw.modules.put({ name: 'm', payload: SET_HEADER, moduleType: 'javascript' })
      modules = ['m']
      break
    case 'worker-json':
      await gw.modules.put({ name: 'm', payload: REWRITE_JSON, moduleType: 'javascript' })
      modules = ['m']
      break
    default:
      throw new Error(`unknown variant '${variant}'`)
  }
  await gw.routes.put({ name: 'all', paths: ['/*'], methods: ['*'], service: 'up', modules })
  announce({ type: 'ready', port: await listen(http.createServer(gw.handler)) })
} catch (err) {
  announce({ type: 'unavailable', reason: err instanceof Error ? err.message : String(err) })
}
