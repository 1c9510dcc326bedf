/** What `makeMaps` provides. */
export interface MapTools {
  /** A header map over `pairs` (not copied until the first change). */
  headers(pairs: [string, string][]): unknown
  /** A query map over pairs. */
  query(pairs: [string, string][]): unknown
  /** The current pairs of a map made here, and whether it changed. */
  stateOf(map: unknown): { pairs: [string, string][]; dirty: boolean }
  /**
   * The pairs of a header map, handed out: the map copies them before its next change, so whoever got them (the
   * host, in native mode) never sees a later write by a module that kept the map.
   */
  release(map: unknown): [string, string][]
  /** Sets or replaces one header in a map made here without marking it changed by the module. */
  put(map: unknown, name: string, value: string): void
  /** Removes a header without validation. */
  remove(map: unknown, name: string): void
  /** The classes whose instances modules see, to harden once. */
  classes: unknown[]
}

/**
 * Kernel part: the header and query maps of `ctx` (DGate's `get/set/add/del/values`, plus iteration and `toJSON`).
 * Copy-on-write over the exchange's pairs, so an untouched map costs nothing and the host's arrays are never
 * mutated. Self-contained: serialized into the sandbox.
 */
export function makeMaps(encodeQuery: (pairs: [string, string][]) => string): MapTools {
  const { String, TypeError, Symbol, Object, JSON } = globalThis
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
  const BAD_VALUE = /[\r\n\0]/

  function headerName(name: unknown): string {
    const text = String(name)
    if (!TOKEN.test(text)) throw new TypeError(`invalid header name: ${JSON.stringify(text)}`)
    return text.toLowerCase()
  }
  function headerValue(value: unknown): string {
    const text = String(value)
    if (BAD_VALUE.test(text)) throw new TypeError('invalid header value: contains CR, LF or NUL')
    return text
  }

  let stateOfHeaders: (m: HeaderMap) => { pairs: [string, string][]; dirty: boolean } = () => ({ pairs: [], dirty: false })
  let rawPut: (m: HeaderMap, name: string, value: string | undefined) => void = () => {}
  let releaseHeaders: (m: HeaderMap) => [string, string][] = () => []
  class HeaderMap {
    #pairs: [string, string][]
    #owned = false
    #dirty = false
    static {
      stateOfHeaders = (m) => ({ pairs: m.#pairs, dirty: m.#dirty })
      releaseHeaders = (m) => {
        m.#owned = false
        return m.#pairs
      }
      rawPut = (m, name, value) => {
        // filter() makes a fresh list: the map owns it.
        m.#pairs = m.#pairs.filter(([k]) => k.toLowerCase() !== name)
        m.#owned = true
        if (value !== undefined) m.#pairs.push([name, value])
      }
    }
    constructor(pairs: [string, string][]) {
      this.#pairs = pairs
    }
    /** Copies the list before its first change; the pairs themselves are never changed in place, so they are shared. */
    #own(): void {
      if (!this.#owned) {
        this.#pairs = this.#pairs.slice()
        this.#owned = true
      }
    }
    get(name: string): string {
      const key = String(name).toLowerCase()
      for (const [k, v] of this.#pairs) if (k.toLowerCase() === key) return v
      return ''
    }
    values(name: string): string[] {
      const key = String(name).toLowerCase()
      return this.#pairs.filter(([k]) => k.toLowerCase() === key).map(([, v]) => v)
    }
    has(name: string): boolean {
      const key = String(name).toLowerCase()
      return this.#pairs.some(([k]) => k.toLowerCase() === key)
    }
    set(name: string, value: unknown): this {
      const key = headerName(name)
      const text = headerValue(value)
      rawPut(this, key, text)
      this.#dirty = true
      return this
    }
    add(name: string, value: unknown): this {
      const key = headerName(name)
      const text = headerValue(value)
      this.#own()
      this.#pairs.push([key, text])
      this.#dirty = true
      return this
    }
    del(name: string): this {
      const key = String(name).toLowerCase()
      if (this.has(key)) {
        rawPut(this, key, undefined)
        this.#dirty = true
      }
      return this
    }
    keys(): string[] {
      const seen: string[] = []
      for (const [k] of this.#pairs) if (!seen.includes(k.toLowerCase())) seen.push(k.toLowerCase())
      return seen
    }
    entries(): [string, string][] {
      return this.#pairs.map(([k, v]) => [k.toLowerCase(), v])
    }
    forEach(fn: (value: string, name: string) => void): void {
      for (const [k, v] of this.entries()) fn(v, k)
    }
    [Symbol.iterator](): Iterator<[string, string]> {
      return this.entries()[Symbol.iterator]()
    }
    toJSON(): Record<string, string> {
      const out: Record<string, string> = {}
      for (const [k, v] of this.entries()) out[k] = Object.hasOwn(out, k) ? out[k] + ', ' + v : v
      return out
    }
  }

  let stateOfQuery: (m: QueryValues) => { pairs: [string, string][]; dirty: boolean } = () => ({ pairs: [], dirty: false })
  class QueryValues {
    #pairs: [string, string][]
    #dirty = false
    static {
      stateOfQuery = (m) => ({ pairs: m.#pairs, dirty: m.#dirty })
    }
    constructor(pairs: [string, string][]) {
      this.#pairs = pairs
    }
    get(name: string): string {
      const key = String(name)
      for (const [k, v] of this.#pairs) if (k === key) return v
      return ''
    }
    values(name: string): string[] {
      const key = String(name)
      return this.#pairs.filter(([k]) => k === key).map(([, v]) => v)
    }
    has(name: string): boolean {
      const key = String(name)
      return this.#pairs.some(([k]) => k === key)
    }
    set(name: string, value: unknown): this {
      const key = String(name)
      this.#pairs = this.#pairs.filter(([k]) => k !== key)
      this.#pairs.push([key, String(value)])
      this.#dirty = true
      return this
    }
    add(name: string, value: unknown): this {
      this.#pairs = [...this.#pairs, [String(name), String(value)]]
      this.#dirty = true
      return this
    }
    del(name: string): this {
      const key = String(name)
      const next = this.#pairs.filter(([k]) => k !== key)
      if (next.length !== this.#pairs.length) {
        this.#pairs = next
        this.#dirty = true
      }
      return this
    }
    keys(): string[] {
      const seen: string[] = []
      for (const [k] of this.#pairs) if (!seen.includes(k)) seen.push(k)
      return seen
    }
    entries(): [string, string][] {
      return this.#pairs.map(([k, v]) => [k, v])
    }
    [Symbol.iterator](): Iterator<[string, string]> {
      return this.entries()[Symbol.iterator]()
    }
    encode(): string {
      return encodeQuery(this.#pairs)
    }
    toString(): string {
      return this.encode()
    }
    toJSON(): Record<string, string> {
      const out: Record<string, string> = {}
      for (const [k, v] of this.#pairs) if (!Object.hasOwn(out, k)) out[k] = v
      return out
    }
  }
  return {
    headers: (pairs) => new HeaderMap(pairs),
    query: (pairs) => new QueryValues(pairs),
    stateOf: (map) => (map instanceof HeaderMap ? stateOfHeaders(map) : stateOfQuery(map as QueryValues)),
    release: (map) => releaseHeaders(map as HeaderMap),
    put: (map, name, value) => rawPut(map as HeaderMap, name.toLowerCase(), value),
    remove: (map, name) => rawPut(map as HeaderMap, name.toLowerCase(), undefined),
    classes: [HeaderMap, QueryValues],
  }
}
