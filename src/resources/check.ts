import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { ValidationError, type FieldIssue } from '../errors.js'
import { OUTPUT_ONLY_FIELDS } from './fields.js'

/** A compiled structural check for one kind: returns every issue, never throws. */
export interface StructureCheck {
  issues(value: unknown): FieldIssue[]
}

interface RawError {
  keyword: string
  schemaPath: string
  instancePath: string
  params: Record<string, unknown>
  message: string
}

/** Compiles a typebox schema into a check whose issues name fields the way users write them. */
export function compileStructure(schema: TSchema): StructureCheck {
  const compiled = Compile(schema)
  return {
    issues(value) {
      if (compiled.Check(value)) return []
      const out: FieldIssue[] = []
      const seen = new Set<string>()
      for (const e of compiled.Errors(value) as Iterable<RawError>) {
        const issue = toIssue(schema, e)
        if (!issue) continue
        const key = `${issue.field}\u0000${issue.reason}`
        if (!seen.has(key)) {
          seen.add(key)
          out.push(issue)
        }
      }
      return out.length > 0 ? out : [{ field: '', reason: 'is invalid' }]
    },
  }
}

function toIssue(schema: TSchema, e: RawError): FieldIssue | undefined {
  const field = fieldPath(e.instancePath)
  switch (e.keyword) {
    case 'boolean':
      // `additionalProperties: false` reports each extra key twice; the `additionalProperties` error names them.
      return undefined
    case 'additionalProperties': {
      const extra = (e.params.additionalProperties as string[] | undefined) ?? []
      return { field: '', reason: `${prefixed(field, `unknown field "${extra[0] ?? '?'}"`)}` }
    }
    case 'required': {
      const names = (e.params.requiredProperties as string[] | undefined) ?? []
      return { field: joinField(field, names[0] ?? '?'), reason: 'is required' }
    }
    default: {
      const custom = annotatedMessage(schema, e.schemaPath)
      return { field, reason: custom ?? e.message }
    }
  }
}

function prefixed(field: string, reason: string): string {
  return field ? `${field}: ${reason}` : reason
}

/** `/paths/1/x` becomes `paths[1].x`. */
export function fieldPath(pointer: string): string {
  let out = ''
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    out = /^\d+$/.test(part) ? `${out}[${part}]` : joinField(out, part)
  }
  return out
}

function joinField(base: string, name: string): string {
  return base ? `${base}.${name}` : name
}

/** Walks the schema path up from the failing keyword to the nearest `errorMessage` annotation. */
function annotatedMessage(schema: TSchema, schemaPath: string): string | undefined {
  const parts = schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)
  const chain: unknown[] = [schema]
  let node: unknown = schema
  for (const part of parts) {
    if (node === null || typeof node !== 'object') break
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    chain.push(node)
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const n = chain[i]
    if (n && typeof n === 'object' && typeof (n as { errorMessage?: unknown }).errorMessage === 'string') {
      return (n as { errorMessage: string }).errorMessage
    }
  }
  return undefined
}

/** A shallow copy of an input object without the server-set output fields. */
export function withoutOutputFields(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input
  let copy: Record<string, unknown> | undefined
  for (const key of OUTPUT_ONLY_FIELDS) {
    if (key in input) {
      copy ??= { ...(input as Record<string, unknown>) }
      delete copy[key]
    }
  }
  return copy ?? input
}

/** Throws a ValidationError for `kind` when there are issues. */
export function refuse(kind: string, name: unknown, issues: FieldIssue[]): void {
  if (issues.length > 0) throw new ValidationError(kind, typeof name === 'string' ? name : undefined, issues)
}
