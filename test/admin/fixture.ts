import { request } from 'undici'
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index.js'
import { listen, type Running } from '../helpers/servers.js'

/** A gateway whose admin API listens on 127.0.0.1. */
export interface AdminFixture {
  gw: Gateway
  server: Running
  url: string
  /** One request; the body is parsed as JSON when it can be. */
  call(method: string, path: string, options?: { body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Answer>
  close(): Promise<void>
}

/** A response as tests look at it. */
export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: unknown
}

export async function adminFixture(options: GatewayOptions = {}, defaults: Record<string, string> = {}): Promise<AdminFixture> {
  const gw = await createGateway(options)
  const server = await listen(gw.admin.handler)
  const call: AdminFixture['call'] = async (method, path, opts = {}) => {
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
    const res = await request(`${server.url}${path}`, {
      method: method as 'GET',
      headers: { ...defaults, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      ...(body === undefined ? {} : { body }),
    })
    const text = await res.body.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.statusCode, headers: res.headers, text, json }
  }
  return {
    gw,
    server,
    url: server.url,
    call,
    async close() {
      await server.close()
      await gw.close()
    },
  }
}
