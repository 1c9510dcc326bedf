import { Agent, buildConnector, type Dispatcher } from 'undici'
import { guardedConnector } from '../../proxy/address-guard.js'
import type { HeaderList, HostFetchInit, HostFetchResponse } from '../types.js'

/** Longest a module fetch may take, whatever it asks for. */
const MAX_TIMEOUT_MS = 30_000
const MAX_REDIRECTS = 10
/** Largest response body a module may buffer. */
const MAX_BODY = 16 * 1024 * 1024

/**
 * `dgate/http`'s fetch, performed by the host with undici (never the global fetch): a timeout, the three redirect
 * modes, a body cap, and with `disablePrivateIps` the same address guard as upstreams, checked on every hop.
 */
export class ModuleFetch {
  readonly #agent: Dispatcher
  readonly #guard: boolean

  constructor(options: { disablePrivateIps: boolean }) {
    this.#guard = options.disablePrivateIps
    this.#agent = new Agent({ connect: this.#guard ? guardedConnector() : buildConnector({}) })
  }

  async fetch(url: string, init: HostFetchInit): Promise<HostFetchResponse> {
    const signal = AbortSignal.timeout(Math.min(init.timeoutMs ?? MAX_TIMEOUT_MS, MAX_TIMEOUT_MS))
    let target = new URL(url)
    let method = init.method || 'GET'
    let body = init.body
    for (let hop = 0; ; hop++) {
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`fetch: only http and https URLs, not ${target.protocol}`)
      const res = await this.#agent.request({ origin: target.origin, path: target.pathname + target.search, method, headers: flat(init.headers), body: body ?? null, signal })
      const location = res.headers.location
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string' && init.redirect !== 'manual') {
        await res.body.dump()
        if (init.redirect === 'error') throw new Error(`fetch: ${url} redirected to ${location}`)
        if (hop >= MAX_REDIRECTS) throw new Error(`fetch: more than ${MAX_REDIRECTS} redirects`)
        target = new URL(location, target)
        // 303, and 301/302 after POST, turn into a GET without a body, as browsers do.
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
          method = 'GET'
          body = undefined
        }
        continue
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > MAX_BODY) throw new Error(`fetch: response body over ${MAX_BODY} bytes`)
        chunks.push(chunk)
      }
      const headers: HeaderList = []
      for (const [name, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.push([name, v])
        else if (value !== undefined) headers.push([name, value])
      }
      return { status: res.statusCode, statusText: '', url: target.href, redirected: hop > 0, headers, body: new Uint8Array(Buffer.concat(chunks)) }
    }
  }

  close(): Promise<void> {
    return this.#agent.close()
  }
}

function flat(headers: HeaderList): string[] {
  const out: string[] = []
  for (const [name, value] of headers) out.push(name, value)
  return out
}
