import type { TSchema } from 'typebox'
import type { FieldIssue } from '../errors.js'
import { compileStructure, refuse, withoutOutputFields } from './check.js'

/** What every kind's normalizer is told about its context. */
export interface NormalizeContext {
  /** The namespace used when the input names none; undefined when the default namespace is disabled. */
  defaultNamespace: string | undefined
}

/** One kind's validation: a typebox schema for the shape, then semantic checks and defaults. */
export interface KindDefinition<Input, Stored> {
  readonly kind: string
  /** Validates `input` and returns the stored form with defaults applied; throws ValidationError. */
  parse(input: unknown, ctx: NormalizeContext): Stored
  /** The identity field of the input (`name`, or `id` for documents). */
  readonly nameField: string
  /** The typebox schema of the input's shape (the CLI derives its field lists and types from it). */
  readonly schema: TSchema
  /** Type witness only. */
  readonly _input?: Input
}

/**
 * Defines a kind: `normalize` runs on structurally valid input, pushes semantic issues and returns
 * the stored value (ignored when issues were pushed).
 */
export function defineKind<Input, Stored>(options: {
  kind: string
  schema: TSchema
  nameField?: string
  normalize: (input: Input, issues: FieldIssue[], ctx: NormalizeContext) => Stored
}): KindDefinition<Input, Stored> {
  const structure = compileStructure(options.schema)
  const nameField = options.nameField ?? 'name'
  return {
    kind: options.kind,
    nameField,
    schema: options.schema,
    parse(raw, ctx) {
      const input = withoutOutputFields(raw)
      const name = input && typeof input === 'object' ? (input as Record<string, unknown>)[nameField] : undefined
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        refuse(options.kind, undefined, [{ field: '', reason: 'must be an object' }])
      }
      refuse(options.kind, name, structure.issues(input))
      const issues: FieldIssue[] = []
      const stored = options.normalize(input as Input, issues, ctx)
      refuse(options.kind, name, issues)
      return stored
    },
  }
}

/** Resolves the namespace of a namespaced input, pushing an issue when none can be chosen. */
export function namespaceOf(input: { namespace?: string }, issues: FieldIssue[], ctx: NormalizeContext): string {
  const ns = input.namespace ?? ctx.defaultNamespace
  if (ns === undefined) {
    issues.push({ field: 'namespace', reason: 'is required (the default namespace is disabled)' })
    return ''
  }
  return ns
}

/** Pushes an issue for every duplicated string in a list. */
export function noDuplicates(field: string, values: readonly string[], issues: FieldIssue[]): void {
  const seen = new Set<string>()
  values.forEach((v, i) => {
    if (seen.has(v)) issues.push({ field: `${field}[${i}]`, reason: `duplicates "${v}"` })
    seen.add(v)
  })
}
