import Type from 'typebox'
import { checkJsonSchema, type JsonSchema } from '../documents/json-schema.js'
import { defineKind, namespaceOf } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * Who may read a collection's documents through the admin API: private collections are for modules only.
 * @public
 */
export type CollectionVisibility = 'public' | 'private'

/**
 * A collection: a JSON Schema and the documents that must satisfy it.
 * @public
 */
export interface Collection {
  /** Unique name in the namespace. */
  name: string
  /** The namespace it belongs to. */
  namespace: string
  /** JSON Schema that every document's `data` satisfies; `{}` accepts any JSON. */
  schema: JsonSchema
  /** `'private'` hides the documents from the admin API's document reads; modules still see them. */
  visibility: CollectionVisibility
  /** Always `'document'`, DGate's only collection type. */
  type: 'document'
  /** Free-form labels. */
  tags: string[]
}

/**
 * Input for a collection. Without a schema any JSON document is accepted.
 * @public
 */
export interface CollectionSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** JSON Schema for the documents (default `{}`: any JSON). Refused if existing documents would no longer satisfy it. */
  schema?: JsonSchema
  /** `'private'` hides the documents from the admin API's document reads (default `'public'`). */
  visibility?: CollectionVisibility
  /** Only `'document'`, the default. */
  type?: 'document'
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

export const collectionKind = defineKind<CollectionSpec, Collection>({
  kind: 'collection',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      schema: Type.Optional(Type.Unknown()),
      visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')], { errorMessage: 'must be "public" or "private"' })),
      type: Type.Optional(Type.Literal('document', { errorMessage: 'must be "document"' })),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize(input, issues, ctx) {
    const schema = input.schema ?? {}
    issues.push(...checkJsonSchema(schema))
    return {
      name: input.name,
      namespace: namespaceOf(input, issues, ctx),
      schema,
      visibility: input.visibility ?? 'public',
      type: 'document',
      tags: input.tags ?? [],
    }
  },
})
