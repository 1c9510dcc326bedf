import { isDeepStrictEqual } from 'node:util'
import { toMilliseconds } from '../resources/fields.js'
import type { ConfigNode } from './schema.js'

/** A config value that breaks the schema: `key` is the dotted path (`proxy.port`, `admin.allow_list[1]`). */
export class ConfigIssue extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`${key} ${reason}`)
  }
}

const DURATION_RE = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/

/**
 * Checks `value` against `node` and returns it with types settled: strings that substitution produced become
 * integers, booleans or millisecond durations where the key needs one (`port: ${PORT:-80}` is the number 80).
 * Throws a ConfigIssue naming the first bad key.
 */
export function checkConfig(value: unknown, node: ConfigNode, key = ''): unknown {
  switch (node.t) {
    case 'string':
      if (typeof value !== 'string') throw new ConfigIssue(key, `must be a string, not ${shown(value)}`)
      if (node.oneOf && !node.oneOf.includes(value)) throw new ConfigIssue(key, `must be one of ${node.oneOf.join(', ')}, not ${shown(value)}`)
      return value
    case 'int': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new ConfigIssue(key, `must be an integer, not ${shown(value)}`)
      if (n < node.min || n > node.max) throw new ConfigIssue(key, `must be from ${node.min} to ${node.max}, not ${n}`)
      return n
    }
    case 'bool':
      if (value === 'true' || value === 'false') return value === 'true'
      if (typeof value !== 'boolean') throw new ConfigIssue(key, `must be true or false, not ${shown(value)}`)
      return value
    case 'duration': {
      if (typeof value === 'number' && value >= 0) return Math.round(value)
      if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value)
      if (typeof value === 'string' && DURATION_RE.test(value)) return toMilliseconds(value)
      throw new ConfigIssue(key, `must be milliseconds or a duration like "5s" or "250ms", not ${shown(value)}`)
    }
    case 'strings':
      if (!Array.isArray(value)) throw new ConfigIssue(key, `must be a list of strings, not ${shown(value)}`)
      return value.map((v, i) => checkConfig(v, { t: 'string' }, `${key}[${i}]`))
    case 'headers': {
      if (!isObject(value)) throw new ConfigIssue(key, `must be a map of header names to values, not ${shown(value)}`)
      const out: Record<string, string> = {}
      for (const [name, v] of Object.entries(value)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new ConfigIssue(`${key}.${name}`, 'is not a valid header name')
        out[name] = checkConfig(typeof v === 'number' || typeof v === 'boolean' ? String(v) : v, { t: 'string' }, `${key}.${name}`) as string
      }
      return out
    }
    case 'object': {
      if (!isObject(value)) throw new ConfigIssue(key, `must be an object, not ${shown(value)}`)
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        const child = node.keys[k]
        const at = key ? `${key}.${k}` : k
        if (!child) throw new ConfigIssue(at, `is not a known key${suggestion(k, Object.keys(node.keys))}`)
        if (v === null && child.t !== 'unsupported') continue
        out[k] = checkConfig(v, child, at)
      }
      for (const k of node.required ?? []) {
        if (out[k] === undefined) throw new ConfigIssue(key ? `${key}.${k}` : k, 'is required')
      }
      return out
    }
    case 'resources':
      return value
    case 'unsupported':
      if (value === null || isDeepStrictEqual(value, node.value)) return undefined
      throw new ConfigIssue(key, 'is a DGate setting this gateway does not support (remove it, or leave it at its default)')
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function shown(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return JSON.stringify(value)
}

/** ` (did you mean "port"?)` for a key within two edits of a known one. */
function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const d = distance(key, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = row
  }
  return previous[b.length]!
}
