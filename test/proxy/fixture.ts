import type { IncomingHttpHeaders, RequestListener } from 'node:http'
import { afterEach } from 'vitest'
import { request } from 'undici'
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index.js'
import { echoUpstream, listen, type Echo, type Running } from '../helpers/servers.js'

/**
 * Test fixtures for the proxy suite: each helper starts something real on 127.0.0.1 and registers it for closing
 * after the test, fronts first (so in-flight requests end), then gateways, then upstreams.
 */
const fronts: Running[] = []
const gateways: Gateway[] = []
const others: (() => Promise<void>)[] = []

afterEach(async () => {
  await Promise.all(fronts.splice(0).map((f) => f.close()))
  await Promise.all(gateways.splice(0).map((g) => g.close()))
  await Promise.all(others.splice(0).map((close) => close()))
})

/** A gateway behind a plain `http.Server` on 127.0.0.1 (`gw.handler` as the request listener). */
export async function startGateway(options: GatewayOptions = {}): Promise<{ gw: Gateway; url: string; port: number }> {
  const gw = await createGateway(options)
  gateways.push(gw)
  const front = await listen(gw.handler)
  fronts.push(front)
  return { gw, url: front.url, port: front.port }
}

/** A gateway (not listening) with one route to an echo upstream, service `echo`; both are closed after the test. */
export async function echoGateway(route: { paths: string[]; methods: string[] }): Promise<{ gw: Gateway; upstream: Running & { seen: Echo[] } }> {
  const upstream = await echo()
  const gw = await createGateway()
  gateways.push(gw)
  await gw.services.put({ name: 'echo', urls: [upstream.url] })
  await gw.routes.put({ name: 'echo', service: 'echo', ...route })
  return { gw, upstream }
}

/** An upstream HTTP server running `handler`. */
export async function serve(handler: RequestListener): Promise<Running> {
  const running = await listen(handler)
  others.push(() => running.close())
  return running
}

/** An upstream that answers with a JSON description of each request it saw (see {@link Echo}). */
export async function echo(name = 'echo'): Promise<Running & { seen: Echo[] }> {
  const running = await echoUpstream(name)
  others.push(() => running.close())
  return running
}

/** Closes `close` after the test, with the upstreams. */
export function cleanup(close: () => Promise<void>): void {
  others.push(close)
}

/** The parts of a response the tests look at, with the body read as text. */
export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One request with undici, body read to the end. */
export async function call(url: string, options: Parameters<typeof request>[1] = {}): Promise<Answer> {
  const res = await request(url, options)
  return { status: res.statusCode, headers: res.headers as IncomingHttpHeaders, body: await res.body.text() }
}

/** A request through the gateway to an echo upstream: what the upstream saw. */
export async function echoed(url: string, options: Parameters<typeof request>[1] = {}): Promise<Echo & { upstream: string }> {
  const answer = await call(url, options)
  if (answer.status !== 200) throw new Error(`expected 200 from the echo upstream, got ${answer.status}: ${answer.body}`)
  return JSON.parse(answer.body) as Echo & { upstream: string }
}

/** Milliseconds since `start`. */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6
}
