import { readFileSync } from 'node:fs'
import type { FieldInfo } from './fields.js'

/** Bad command-line input: exit code 2, with this message. */
export class UsageError extends Error {}

/**
 * Parses dgate-cli style arguments into a JSON object using the kind's fields: `key=value` (converted to the field's
 * type: lists split on commas, numbers, booleans, durations), `key:=<json>` (raw JSON), and `key=@file` or
 * `key@=file` (the file's text). Unknown keys and repeated keys are refused, naming them.
 */
export function parseAssignments(tokens: readonly string[], fields: readonly FieldInfo[], kind: string): Record<string, unknown> {
  const byName = new Map(fields.map((f) => [f.name, f]))
  const out: Record<string, unknown> = {}
  for (const token of tokens) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(:=|@=|=)([\s\S]*)$/.exec(token)
    if (!match) throw new UsageError(`"${token}" is not key=value, key:=json or key@=file`)
    const [, key = '', op, value = ''] = match
    const field = byName.get(key)
    if (!field) throw new UsageError(`unknown field "${key}" for ${kind} (fields: ${fields.map((f) => f.name).join(', ')})`)
    if (key in out) throw new UsageError(`${key} is given twice`)
    if (op === ':=') out[key] = parseJson(key, value)
    else if (op === '@=' || value.startsWith('@')) out[key] = convert(field, readArgumentFile(key, op === '@=' ? value : value.slice(1)), true)
    else out[key] = convert(field, value, false)
  }
  return out
}

/** The names of required fields missing from `input`. */
export function missingFields(input: Record<string, unknown>, fields: readonly FieldInfo[]): string[] {
  return fields.filter((f) => f.required && !(f.name in input)).map((f) => f.name)
}

function convert(field: FieldInfo, value: string, fromFile: boolean): unknown {
  switch (field.type) {
    case 'list':
      return fromFile ? [value] : value === '' ? [] : value.split(',').map((s) => s.trim())
    case 'integer':
    case 'number': {
      const n = Number(value)
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${field.name} must be a number, not "${value}"`)
      return n
    }
    case 'boolean':
      if (value !== 'true' && value !== 'false') throw new UsageError(`${field.name} must be true or false, not "${value}"`)
      return value === 'true'
    case 'duration':
      return /^\d+(\.\d+)?$/.test(value) ? Number(value) : value
    case 'json':
      if (fromFile) return parseJson(field.name, value)
      try {
        return JSON.parse(value) as unknown
      } catch {
        return value
      }
    default:
      return value
  }
}

function parseJson(key: string, value: string): unknown {
  try {
    return JSON.parse(value) as unknown
  } catch (error) {
    throw new UsageError(`${key}:= must be followed by JSON: ${(error as Error).message}`)
  }
}

function readArgumentFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
