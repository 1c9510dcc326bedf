import { KINDS, type ResourceKind } from '../resources/kinds.js'

/** How a `key=value` argument is turned into the field's JSON value. */
export type FieldType = 'string' | 'list' | 'integer' | 'number' | 'boolean' | 'duration' | 'json'

/** One input field of a kind, as the CLI shows and parses it. */
export interface FieldInfo {
  name: string
  type: FieldType
  required: boolean
  /** Allowed values, when the field is an enumeration. */
  values?: string[]
}

interface JsonSchemaLike {
  type?: string
  const?: unknown
  anyOf?: JsonSchemaLike[]
  properties?: Record<string, JsonSchemaLike>
  required?: string[]
}

/** The input fields of a kind, read from its typebox schema (so they can't drift from what the server accepts). */
export function fieldsOf(kind: ResourceKind): FieldInfo[] {
  const schema = KINDS[kind].schema as JsonSchemaLike
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const info: FieldInfo = { name, type: typeOf(s), required: required.has(name) }
    const values = s.anyOf?.every((a) => typeof a.const === 'string') ? s.anyOf.map((a) => a.const as string) : typeof s.const === 'string' ? [s.const] : undefined
    if (values) info.values = values
    return info
  })
}

function typeOf(s: JsonSchemaLike): FieldType {
  if (s.anyOf) {
    const types = new Set(s.anyOf.map((a) => a.type))
    if (types.has('number') && types.has('string')) return 'duration'
    return s.anyOf.every((a) => typeof a.const === 'string') ? 'string' : 'json'
  }
  switch (s.type) {
    case 'string':
      return 'string'
    case 'array':
      return 'list'
    case 'integer':
      return 'integer'
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    default:
      return 'json'
  }
}

/** How a type is described in help text. */
export function describeType(field: FieldInfo): string {
  if (field.values) return field.values.map((v) => JSON.stringify(v)).join(' | ')
  switch (field.type) {
    case 'list':
      return 'list: a,b,c or :=["a","b"]'
    case 'duration':
      return 'duration: 5s, 250ms or milliseconds'
    case 'json':
      return 'JSON: key:=<json> (key=value tries JSON, else text)'
    default:
      return field.type
  }
}
