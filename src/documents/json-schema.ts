import type { TSchema } from 'typebox'
import type { FieldIssue } from '../errors.js'
import { compileStructure, type StructureCheck } from '../resources/check.js'

/**
 * A JSON Schema (draft 2020-12 / draft-07 keywords) describing a collection's documents.
 * @public
 */
export type JsonSchema = boolean | { [keyword: string]: unknown }

const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'])
const SCHEMA_KEYWORDS = ['additionalProperties', 'additionalItems', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems']
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains']
const MAX_DEPTH = 32

/**
 * Checks that a value is a usable JSON Schema. The validator compiles nonsense such as
 * `{ "type": "nonsense" }` into a check that accepts everything, so we refuse it here, naming the keyword.
 */
export function checkJsonSchema(schema: unknown, field = 'schema'): FieldIssue[] {
  const issues: FieldIssue[] = []
  walk(schema, field, 0, issues)
  return issues
}

function walk(schema: unknown, at: string, depth: number, issues: FieldIssue[]): void {
  if (typeof schema === 'boolean') return
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    issues.push({ field: at, reason: 'must be a JSON Schema (an object or a boolean)' })
    return
  }
  if (depth > MAX_DEPTH) {
    issues.push({ field: at, reason: `nests deeper than ${MAX_DEPTH} levels` })
    return
  }
  const s = schema as Record<string, unknown>
  const sub = (key: string) => `${at}.${key}`
  if ('type' in s) {
    const list = Array.isArray(s.type) ? s.type : [s.type]
    if (list.length === 0 || !list.every((t) => typeof t === 'string' && TYPES.has(t))) {
      issues.push({ field: sub('type'), reason: `must be one of ${[...TYPES].join(', ')} (or a list of them)` })
    }
  }
  for (const key of SCHEMA_KEYWORDS) if (key in s) walk(s[key], sub(key), depth + 1, issues)
  for (const key of SCHEMA_MAP_KEYWORDS) {
    if (!(key in s)) continue
    const map = s[key]
    if (map === null || typeof map !== 'object' || Array.isArray(map)) {
      issues.push({ field: sub(key), reason: 'must be an object of schemas' })
      continue
    }
    for (const [name, value] of Object.entries(map)) walk(value, `${sub(key)}.${name}`, depth + 1, issues)
  }
  for (const key of SCHEMA_LIST_KEYWORDS) {
    if (!(key in s)) continue
    const list = s[key]
    if (!Array.isArray(list) || list.length === 0) issues.push({ field: sub(key), reason: 'must be a non-empty list of schemas' })
    else list.forEach((value, i) => walk(value, `${sub(key)}[${i}]`, depth + 1, issues))
  }
  if ('items' in s) {
    if (Array.isArray(s.items)) s.items.forEach((value, i) => walk(value, `${sub('items')}[${i}]`, depth + 1, issues))
    else walk(s.items, sub('items'), depth + 1, issues)
  }
  if ('required' in s && !(Array.isArray(s.required) && s.required.every((r) => typeof r === 'string'))) {
    issues.push({ field: sub('required'), reason: 'must be a list of property names' })
  }
  if ('enum' in s && !Array.isArray(s.enum)) issues.push({ field: sub('enum'), reason: 'must be a list' })
  for (const key of NUMBER_KEYWORDS) {
    if (key in s && typeof s[key] !== 'number') issues.push({ field: sub(key), reason: 'must be a number' })
  }
  if ('multipleOf' in s && !(typeof s.multipleOf === 'number' && s.multipleOf > 0)) {
    issues.push({ field: sub('multipleOf'), reason: 'must be a number greater than 0' })
  }
  for (const key of COUNT_KEYWORDS) {
    if (key in s && !(Number.isInteger(s[key]) && (s[key] as number) >= 0)) {
      issues.push({ field: sub(key), reason: 'must be an integer >= 0' })
    }
  }
  if ('pattern' in s) {
    if (typeof s.pattern !== 'string') issues.push({ field: sub('pattern'), reason: 'must be a regular expression string' })
    else {
      try {
        new RegExp(s.pattern, 'u')
      } catch (err) {
        issues.push({ field: sub('pattern'), reason: `is not a valid regular expression: ${(err as Error).message}` })
      }
    }
  }
  if ('format' in s && typeof s.format !== 'string') issues.push({ field: sub('format'), reason: 'must be a string' })
  // Only local references: a schema must never make the gateway fetch anything.
  if ('$ref' in s && !(typeof s.$ref === 'string' && s.$ref.startsWith('#'))) {
    issues.push({ field: sub('$ref'), reason: 'must be a local reference starting with "#"' })
  }
}

/** Compiles a checked JSON Schema into a validator whose issues name fields under `data`. */
export function compileDocumentSchema(schema: JsonSchema): StructureCheck {
  const check = compileStructure(schema as unknown as TSchema)
  return {
    issues(value) {
      return check.issues(value).map((i) => ({ field: i.field ? `data.${i.field}` : 'data', reason: i.reason }))
    },
  }
}
