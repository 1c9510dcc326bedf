import type { KernelEnv, TextTools } from './env.js'
import type { MapTools } from './maps.js'
import type { WebTools } from './web.js'

/** A host call attributed to the request that is running: resolves to the JSON value and the bytes. */
export type Rpc = (op: string, args: string, bytes?: Uint8Array) => Promise<{ value: unknown; bytes: Uint8Array | undefined }>

/** What the boot code gives the imports part. */
export interface ImportDeps {
  env: KernelEnv
  text: TextTools
  web: WebTools
  maps: MapTools
  SafeError: ErrorConstructor
  /** The host call of the request module code is running for, or undefined outside any request (top-level code). */
  rpcFor(program: unknown): Rpc | undefined
  /** Sends a log line for the current request (or the runtime's own log outside requests). */
  log(program: unknown, level: string, message: string, module: string): void
  /** A timer owned by the current request; throws outside requests. Returns its id. */
  setTimer(program: unknown, fn: () => void, ms: number, repeat: boolean): number
  /** Cancels a timer. */
  clearTimer(id: unknown): void
}

/** What `makeImports` provides. */
export interface ImportTools {
  /** The `dgate` and `dgate/*` namespaces of one program (hardened by the caller). */
  namespaces(program: unknown): Record<string, Record<string, unknown>>
  /** The globals of one module's compartment. */
  globals(program: unknown, moduleName: string, namespaces: Record<string, Record<string, unknown>>): Record<string, unknown>
  /** Classes whose instances modules see, to harden once. */
  classes: unknown[]
}

/**
 * Kernel part: the `dgate/*` imports and the module globals (console, timers, URL, TextEncoder…). Host capabilities
 * go through `rpcFor`/`env`, with plain arguments; failures are re-created as errors of this realm.
 * Self-contained: serialized into the sandbox.
 */
export function makeImports(deps: ImportDeps): ImportTools {
  const { env, text, web, maps, SafeError } = deps
  const { JSON, Object, String, Number, TypeError, RangeError, Promise, Symbol, Date, Math, Uint8Array } = globalThis

  function need(program: unknown, what: string): Rpc {
    const rpc = deps.rpcFor(program)
    if (!rpc) throw new SafeError(`${what} is only available while a hook runs`)
    return rpc
  }
  function crypto(op: string, args: unknown, a?: Uint8Array, b?: Uint8Array): string | Uint8Array {
    let out: string | Uint8Array
    try {
      out = env.crypto(op, JSON.stringify(args), a, b)
    } catch (e) {
      // Re-created in this realm with the message only: the runtime's error object never reaches module code.
      const message = e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : 'crypto operation failed'
      throw new SafeError(message)
    }
    return typeof out === 'string' ? out : (text.own(out) as Uint8Array)
  }
  function digestResult(out: string | Uint8Array): string | ArrayBuffer {
    return typeof out === 'string' ? out : text.toArrayBuffer(out)
  }

  // ---- dgate ----------------------------------------------------------------------------------------------
  function durationMs(d: unknown): number {
    if (typeof d === 'number') {
      if (!Number.isFinite(d) || d < 0) throw new RangeError(`invalid duration: ${d}`)
      return d * 1000
    }
    if (typeof d !== 'string') throw new TypeError('sleep: expected seconds (number) or a duration string like "250ms"')
    const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 }
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y
    let total = 0
    let at = 0
    while (at < d.length) {
      re.lastIndex = at
      const m = re.exec(d)
      if (!m) throw new RangeError(`invalid duration: ${JSON.stringify(d)}`)
      total += Number(m[1]) * units[m[2]!]!
      at = re.lastIndex
    }
    if (d.length === 0) throw new RangeError('invalid duration: ""')
    return total
  }

  class FetchResponse {
    #status: number
    #statusText: string
    #url: string
    #redirected: boolean
    #headers: unknown
    #body: Uint8Array
    #used = false
    constructor(meta: { status: number; statusText: string; url: string; redirected: boolean; headers: [string, string][] }, body: Uint8Array | undefined) {
      this.#status = Number(meta.status)
      this.#statusText = String(meta.statusText)
      this.#url = String(meta.url)
      this.#redirected = !!meta.redirected
      this.#headers = maps.headers(meta.headers)
      this.#body = body ?? new Uint8Array(0)
    }
    get status(): number { return this.#status }
    get statusText(): string { return this.#statusText }
    get ok(): boolean { return this.#status >= 200 && this.#status < 300 }
    get url(): string { return this.#url }
    get redirected(): boolean { return this.#redirected }
    get headers(): unknown { return this.#headers }
    get bodyUsed(): boolean { return this.#used }
    #take(): Uint8Array {
      if (this.#used) throw new TypeError('body already used')
      this.#used = true
      return this.#body
    }
    async arrayBuffer(): Promise<ArrayBuffer> { return text.toArrayBuffer(this.#take()) }
    async text(): Promise<string> { return text.decode(this.#take()) }
    async json(): Promise<unknown> { return JSON.parse(text.decode(this.#take())) }
  }

  function headerPairs(input: unknown): [string, string][] {
    const out: [string, string][] = []
    if (input === undefined || input === null) return out
    if (typeof input !== 'object') throw new TypeError('fetch: headers must be an object or a list of pairs')
    const iterable = input as { [Symbol.iterator]?: unknown; entries?: unknown }
    if (typeof iterable[Symbol.iterator] === 'function') {
      for (const pair of input as Iterable<unknown[]>) out.push([String(pair[0]), String(pair[1])])
    } else for (const key of Object.keys(input)) out.push([key, String((input as Record<string, unknown>)[key])])
    for (const [k, v] of out) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k) || /[\r\n\0]/.test(v)) throw new TypeError(`fetch: invalid header ${JSON.stringify(k)}`)
    }
    return out
  }

  function namespaces(program: unknown): Record<string, Record<string, unknown>> {
    const fail = (message: unknown): never => {
      throw new SafeError(String(message))
    }
    const sleep = (d: unknown): Promise<void> => {
      const ms = durationMs(d)
      return new Promise<void>((resolve) => {
        deps.setTimer(program, () => resolve(), ms, false)
      })
    }
    const retry = async (times: unknown, fn: unknown): Promise<unknown> => {
      const n = Math.trunc(Number(times))
      if (!(n >= 1)) throw new RangeError('retry: the number of attempts must be at least 1')
      if (typeof fn !== 'function') throw new TypeError('retry: expected a function')
      let failure: unknown
      let failed = false
      let last: unknown
      for (let i = 0; i < n; i++) {
        try {
          last = await (fn as (i: number) => unknown)(i)
          failed = false
          if (last) return last
        } catch (e) {
          failure = e
          failed = true
        }
      }
      if (failed) throw failure
      return last
    }

    const fetch = async (input: unknown, options: unknown = {}): Promise<FetchResponse> => {
      const rpc = need(program, 'fetch')
      const o = (options ?? {}) as Record<string, unknown>
      const url = String(input)
      const method = String(o.method ?? 'GET').toUpperCase()
      const headers = headerPairs(o.headers)
      const redirect = String(o.redirect ?? o.redirects ?? 'follow')
      if (redirect !== 'follow' && redirect !== 'manual' && redirect !== 'error') throw new TypeError(`fetch: redirect must be "follow", "manual" or "error"`)
      let body: Uint8Array | undefined
      if (o.body !== undefined && o.body !== null) {
        if (o.body instanceof (web.URLSearchParams as typeof URLSearchParams)) {
          body = text.encode(String(o.body))
          if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded;charset=UTF-8'])
        } else body = text.toBytes(o.body, 'fetch body')
      }
      const timeoutMs = o.timeout === undefined ? undefined : Number(o.timeout)
      const r = await rpc('fetch', JSON.stringify({ url, method, headers, redirect, timeoutMs }), body)
      return new FetchResponse(r.value as ConstructorParameters<typeof FetchResponse>[0], r.bytes)
    }

    // ---- dgate/crypto ----------------------------------------------------------------------------------------
    const createHash = (alg: unknown): unknown => {
      const algorithm = String(alg)
      crypto('check', { alg: algorithm })
      const chunks: Uint8Array[] = []
      const hash = {
        update(data: unknown) {
          chunks.push(text.toBytes(data, 'update'))
          return hash
        },
        digest(encoding?: unknown) {
          return digestResult(crypto('hash', { alg: algorithm, enc: encoding === undefined ? '' : String(encoding) }, text.concat(chunks)))
        },
      }
      return hash
    }
    const createHmac = (alg: unknown, key: unknown): unknown => {
      const algorithm = String(alg)
      crypto('check', { alg: algorithm })
      const keyBytes = text.toBytes(key, 'createHmac key')
      const chunks: Uint8Array[] = []
      const mac = {
        update(data: unknown) {
          chunks.push(text.toBytes(data, 'update'))
          return mac
        },
        digest(encoding?: unknown) {
          return digestResult(crypto('hmac', { alg: algorithm, enc: encoding === undefined ? '' : String(encoding) }, keyBytes, text.concat(chunks)))
        },
      }
      return mac
    }
    const hmac = (alg: unknown, key: unknown, data: unknown, encoding?: unknown): unknown =>
      digestResult(crypto('hmac', { alg: String(alg), enc: encoding === undefined ? '' : String(encoding) }, text.toBytes(key, 'hmac key'), text.toBytes(data, 'hmac data')))
    const shortcut = (alg: string) => (data: unknown, encoding?: unknown): unknown =>
      digestResult(crypto('hash', { alg, enc: encoding === undefined ? '' : String(encoding) }, text.toBytes(data, alg)))
    const cryptoNs: Record<string, unknown> = {
      createHash,
      createHmac,
      hmac,
      md5: shortcut('md5'),
      sha1: shortcut('sha1'),
      sha256: shortcut('sha256'),
      sha384: shortcut('sha384'),
      sha512: shortcut('sha512'),
      sha512_224: shortcut('sha512_224'),
      sha512_256: shortcut('sha512_256'),
      randomBytes: (size: unknown) => text.toArrayBuffer(crypto('randomBytes', { size: Number(size) }) as Uint8Array),
      randomInt: (a: unknown, b?: unknown, ...rest: unknown[]) => {
        if (a === undefined || rest.length > 0) throw new TypeError('randomInt: expected (max) or (min, max)')
        return Number(crypto('randomInt', b === undefined ? { min: 0, max: Number(a) } : { min: Number(a), max: Number(b) }))
      },
      randomUUID: () => crypto('randomUUID', {}) as string,
      getHashes: () => JSON.parse(crypto('getHashes', {}) as string) as string[],
      hexEncode: (data: unknown) => {
        const bytes = text.toBytes(data, 'hexEncode')
        let out = ''
        for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16)
        return out
      },
      createSign: null,
      createVerify: null,
    }

    // ---- dgate/state ------------------------------------------------------------------------------------------
    const call = async (op: string, args: unknown[]): Promise<unknown> => (await need(program, 'dgate/state')(op, JSON.stringify(args))).value
    const collectionName = (value: unknown, what: string): string => {
      if (typeof value !== 'string' || value === '') throw new TypeError(`${what}: a collection name is required`)
      return value
    }
    const stateNs: Record<string, unknown> = {
      getDocument: (id: unknown, collection: unknown) => call('documents.get', [collectionName(collection, 'getDocument'), String(id)]),
      getDocuments: (query: unknown) => {
        const q = (query ?? {}) as Record<string, unknown>
        const options: Record<string, number> = {}
        if (q.limit !== undefined && Number(q.limit) > 0) options.limit = Math.trunc(Number(q.limit))
        if (q.offset !== undefined) options.offset = Math.max(0, Math.trunc(Number(q.offset)))
        return call('documents.list', [collectionName(q.collection, 'getDocuments'), options])
      },
      addDocument: (doc: unknown) => {
        const d = (doc ?? {}) as Record<string, unknown>
        if (typeof d.id !== 'string' || d.id === '') throw new TypeError('addDocument: an id is required')
        return call('documents.put', [collectionName(d.collection, 'addDocument'), d.id, d.data === undefined ? null : d.data])
      },
      deleteDocument: (doc: unknown) => {
        const d = (doc ?? {}) as Record<string, unknown>
        return call('documents.delete', [collectionName(d.collection, 'deleteDocument'), String(d.id)])
      },
      getCollection: () => Promise.reject(new SafeError('dgate/state: collections are managed through the admin API')),
      addCollection: () => Promise.reject(new SafeError('dgate/state: collections are managed through the admin API')),
      deleteCollection: () => Promise.reject(new SafeError('dgate/state: collections are managed through the admin API')),
    }

    // ---- dgate/storage ----------------------------------------------------------------------------------------
    const cacheKey = (id: unknown): string => {
      if (typeof id !== 'string' || id === '') throw new TypeError('cache id must be a non-empty string')
      return id
    }
    const storageNs: Record<string, unknown> = {
      getCache: async (id: unknown) => (await need(program, 'dgate/storage')('storage.get', JSON.stringify([cacheKey(id)]))).value ?? null,
      setCache: async (id: unknown, value: unknown, options?: unknown) => {
        const key = cacheKey(id)
        const ttl = options !== null && typeof options === 'object' ? (options as { ttl?: unknown }).ttl : undefined
        if (ttl !== undefined && !(Number(ttl) > 0)) throw new RangeError('setCache: ttl must be a positive number of seconds')
        const json = JSON.stringify(value === undefined ? null : value)
        await need(program, 'dgate/storage')('storage.set', `[${JSON.stringify(key)},${json},${ttl === undefined ? 'null' : Number(ttl)}]`)
      },
      deleteCache: async (id: unknown) => (await need(program, 'dgate/storage')('storage.delete', JSON.stringify([cacheKey(id)]))).value === true,
    }

    // ---- dgate/util -------------------------------------------------------------------------------------------
    const utilNs: Record<string, unknown> = {
      readWriteBody: async (target: unknown, fn: unknown) => {
        const t = target as { readText?: () => Promise<string>; writeBody?: (b: unknown) => void } | null
        if (!t || typeof t.readText !== 'function' || typeof t.writeBody !== 'function') throw new TypeError('readWriteBody: expected ctx.request() or ctx.upstream()')
        if (typeof fn !== 'function') throw new TypeError('readWriteBody: expected a function')
        const next = await (fn as (body: string) => unknown)(await t.readText())
        t.writeBody(next === undefined || next === null ? '' : typeof next === 'string' ? next : JSON.stringify(next))
      },
      base64Encode: (data: unknown) => text.base64Encode(text.toBytes(data, 'base64Encode')),
      base64Decode: (data: unknown) => text.toArrayBuffer(text.base64Decode(String(data))),
    }

    const httpNs: Record<string, unknown> = { fetch }
    const dgateNs: Record<string, unknown> = { fail, sleep, asyncSleep: sleep, retry, http: httpNs, crypto: cryptoNs, state: stateNs, storage: storageNs, util: utilNs }
    return { dgate: dgateNs, 'dgate/http': httpNs, 'dgate/crypto': cryptoNs, 'dgate/state': stateNs, 'dgate/storage': storageNs, 'dgate/util': utilNs }
  }

  function format(args: unknown[]): string {
    return args
      .map((a) => {
        if (typeof a === 'string') return a
        if (a instanceof SafeError || a instanceof Error) return `${(a as Error).name}: ${(a as Error).message}`
        if (typeof a === 'object' && a !== null) {
          try {
            return JSON.stringify(a)
          } catch {
            return String(Object.prototype.toString.call(a))
          }
        }
        return String(a)
      })
      .join(' ')
  }

  function globals(program: unknown, moduleName: string, ns: Record<string, Record<string, unknown>>): Record<string, unknown> {
    const line = (level: string) => (...args: unknown[]) => {
      let message: string
      try {
        message = format(args)
      } catch {
        message = '(unprintable)'
      }
      deps.log(program, level, message, moduleName)
    }
    const console = { log: line('info'), info: line('info'), debug: line('debug'), trace: line('debug'), warn: line('warn'), error: line('error') }
    const timer = (repeat: boolean) => (fn: unknown, ms?: unknown, ...args: unknown[]): number => {
      if (typeof fn !== 'function') throw new TypeError('timer callback must be a function')
      return deps.setTimer(program, () => (fn as (...a: unknown[]) => void)(...args), Math.max(0, Number(ms) || 0), repeat)
    }
    return {
      console,
      setTimeout: timer(false),
      setInterval: timer(true),
      clearTimeout: deps.clearTimer,
      clearInterval: deps.clearTimer,
      fetch: ns['dgate/http']!.fetch,
      URL: web.URL,
      URLSearchParams: web.URLSearchParams,
      TextEncoder: text.TextEncoder,
      TextDecoder: text.TextDecoder,
      // The start compartment's Date and Math: `Date.now()` and `Math.random()` work (new compartments get tamed ones).
      Date,
      Math,
    }
  }

  return { namespaces, globals, classes: [FetchResponse] }
}
