import type { KernelEnv } from './env.js'

/** What `makeWeb` provides. */
export interface WebTools {
  /** `a=1&b=2` → pairs, decoding `+` and percent escapes (invalid escapes are kept as written). */
  parseQuery(raw: string): [string, string][]
  /** Pairs → form-encoded text (as URLSearchParams serializes). */
  encodeQuery(pairs: [string, string][]): string
  /** The URL class modules get. */
  URL: unknown
  /** The URLSearchParams class modules get. */
  URLSearchParams: unknown
}

/**
 * Kernel part: `URL` and `URLSearchParams` for module code. A vm realm has neither, so URL parsing is delegated to
 * the runtime's WHATWG parser through `env.url` (strings in, JSON text out) and the classes live in the kernel's
 * realm. Self-contained: serialized into the sandbox.
 */
export function makeWeb(env: KernelEnv): WebTools {
  const { JSON, Object, String, TypeError, Symbol, decodeURIComponent, encodeURIComponent } = globalThis

  function decodePart(text: string): string {
    const plus = text.replace(/\+/g, ' ')
    try {
      return decodeURIComponent(plus)
    } catch {
      return plus
    }
  }
  function parseQuery(raw: string): [string, string][] {
    const out: [string, string][] = []
    const text = raw.startsWith('?') ? raw.slice(1) : raw
    if (text === '') return out
    for (const part of text.split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      out.push(eq < 0 ? [decodePart(part), ''] : [decodePart(part.slice(0, eq)), decodePart(part.slice(eq + 1))])
    }
    return out
  }
  function encodePart(text: string): string {
    return encodeURIComponent(text).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
  }
  function encodeQuery(pairs: [string, string][]): string {
    return pairs.map(([k, v]) => encodePart(k) + '=' + encodePart(v)).join('&')
  }

  let attach: (params: URLSearchParams, onChange: (search: string) => void) => void = () => {}
  class URLSearchParams {
    #pairs: [string, string][]
    #onChange: ((search: string) => void) | undefined
    static {
      attach = (params, onChange) => {
        params.#onChange = onChange
      }
    }
    constructor(init: unknown = '') {
      if (typeof init === 'string') this.#pairs = parseQuery(init)
      else if (init instanceof URLSearchParams) this.#pairs = init.#pairs.map(([k, v]) => [k, v] as [string, string])
      else if (init !== null && typeof init === 'object') {
        const source = init as Record<string, unknown> & { [Symbol.iterator]?: unknown }
        this.#pairs = []
        if (typeof source[Symbol.iterator] === 'function') {
          for (const pair of init as Iterable<unknown[]>) {
            if (pair.length !== 2) throw new TypeError('URLSearchParams: each pair must have two items')
            this.#pairs.push([String(pair[0]), String(pair[1])])
          }
        } else for (const key of Object.keys(source)) this.#pairs.push([key, String(source[key])])
      } else this.#pairs = parseQuery(String(init))
    }
    #changed(): void {
      if (this.#onChange) this.#onChange(this.toString())
    }
    get size(): number {
      return this.#pairs.length
    }
    append(name: string, value: unknown): void {
      this.#pairs.push([String(name), String(value)])
      this.#changed()
    }
    delete(name: string): void {
      const key = String(name)
      this.#pairs = this.#pairs.filter(([k]) => k !== key)
      this.#changed()
    }
    get(name: string): string | null {
      const key = String(name)
      const found = this.#pairs.find(([k]) => k === key)
      return found ? found[1] : null
    }
    getAll(name: string): string[] {
      const key = String(name)
      return this.#pairs.filter(([k]) => k === key).map(([, v]) => v)
    }
    has(name: string): boolean {
      const key = String(name)
      return this.#pairs.some(([k]) => k === key)
    }
    set(name: string, value: unknown): void {
      const key = String(name)
      const at = this.#pairs.findIndex(([k]) => k === key)
      if (at < 0) this.#pairs.push([key, String(value)])
      else {
        this.#pairs[at] = [key, String(value)]
        this.#pairs = this.#pairs.filter(([k], i) => k !== key || i === at)
      }
      this.#changed()
    }
    sort(): void {
      this.#pairs = this.#pairs.map((p, i) => [p, i] as const).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map(([p]) => p)
      this.#changed()
    }
    forEach(fn: (value: string, name: string, params: URLSearchParams) => void): void {
      for (const [k, v] of this.#pairs) fn(v, k, this)
    }
    keys(): IterableIterator<string> {
      return this.#pairs.map(([k]) => k)[Symbol.iterator]()
    }
    values(): IterableIterator<string> {
      return this.#pairs.map(([, v]) => v)[Symbol.iterator]()
    }
    entries(): IterableIterator<[string, string]> {
      return this.#pairs.map(([k, v]) => [k, v] as [string, string])[Symbol.iterator]()
    }
    [Symbol.iterator](): IterableIterator<[string, string]> {
      return this.entries()
    }
    toString(): string {
      return encodeQuery(this.#pairs)
    }
  }

  interface Parts {
    href: string
    origin: string
    protocol: string
    username: string
    password: string
    host: string
    hostname: string
    port: string
    pathname: string
    search: string
    hash: string
  }
  function parse(input: string, base: string, prop: string, value: string): Parts | undefined {
    const json = env.url(input, base, prop, value)
    return json === '' ? undefined : (JSON.parse(json) as Parts)
  }
  class URL {
    #parts: Parts
    #params: URLSearchParams | undefined
    static canParse(input: unknown, base?: unknown): boolean {
      return parse(String(input), base === undefined ? '' : String(base), '', '') !== undefined
    }
    constructor(input: unknown, base?: unknown) {
      const parts = parse(String(input), base === undefined ? '' : String(base), '', '')
      if (!parts) throw new TypeError(`Invalid URL: ${String(input)}`)
      this.#parts = parts
    }
    #set(prop: string, value: unknown): void {
      const parts = parse(this.#parts.href, '', prop, String(value))
      if (parts) this.#parts = parts
      if (prop === 'search' || prop === 'href') this.#params = undefined
    }
    get href(): string { return this.#parts.href }
    set href(v: string) {
      const parts = parse(String(v), '', '', '')
      if (!parts) throw new TypeError(`Invalid URL: ${String(v)}`)
      this.#parts = parts
      this.#params = undefined
    }
    get origin(): string { return this.#parts.origin }
    get protocol(): string { return this.#parts.protocol }
    set protocol(v: string) { this.#set('protocol', v) }
    get username(): string { return this.#parts.username }
    set username(v: string) { this.#set('username', v) }
    get password(): string { return this.#parts.password }
    set password(v: string) { this.#set('password', v) }
    get host(): string { return this.#parts.host }
    set host(v: string) { this.#set('host', v) }
    get hostname(): string { return this.#parts.hostname }
    set hostname(v: string) { this.#set('hostname', v) }
    get port(): string { return this.#parts.port }
    set port(v: string) { this.#set('port', v) }
    get pathname(): string { return this.#parts.pathname }
    set pathname(v: string) { this.#set('pathname', v) }
    get search(): string { return this.#parts.search }
    set search(v: string) { this.#set('search', v) }
    get hash(): string { return this.#parts.hash }
    set hash(v: string) { this.#set('hash', v) }
    get searchParams(): URLSearchParams {
      if (!this.#params) {
        const params = new URLSearchParams(this.#parts.search)
        attach(params, (search) => {
          const parts = parse(this.#parts.href, '', 'search', search)
          if (parts) this.#parts = parts
        })
        this.#params = params
      }
      return this.#params
    }
    toString(): string { return this.#parts.href }
    toJSON(): string { return this.#parts.href }
  }
  return { parseQuery, encodeQuery, URL, URLSearchParams }
}
