import type { JsonValue } from '../types.js'

/** Default lifetime of a `dgate/storage` entry without a TTL, in seconds. */
const DEFAULT_TTL_SECONDS = 3600
/** Entries one namespace may hold; the oldest are dropped beyond it (node-local cache, not a database). */
const MAX_ENTRIES = 10_000

/**
 * `dgate/storage`: a node-local cache per namespace with a TTL per entry. Values are copied in and out as JSON so a
 * module can't keep a live reference.
 */
export class ModuleCache {
  readonly #namespaces = new Map<string, Map<string, { text: string; expires: number }>>()

  get(namespace: string, key: string): JsonValue | null {
    const entries = this.#namespaces.get(namespace)
    const entry = entries?.get(key)
    if (!entry) return null
    if (entry.expires <= Date.now()) {
      entries!.delete(key)
      return null
    }
    return JSON.parse(entry.text) as JsonValue
  }

  set(namespace: string, key: string, value: JsonValue, ttlSeconds: number | undefined): void {
    let entries = this.#namespaces.get(namespace)
    if (!entries) this.#namespaces.set(namespace, (entries = new Map()))
    entries.delete(key)
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!)
    entries.set(key, { text: JSON.stringify(value), expires: Date.now() + (ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000 })
  }

  delete(namespace: string, key: string): boolean {
    return this.#namespaces.get(namespace)?.delete(key) ?? false
  }
}
