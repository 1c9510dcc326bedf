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
  name: string
  namespace: string
  schema: JsonSchema
  visibility: CollectionVisibility
  type: 'document'
  tags: string[]
}

/**
 * Input for a collection. Without a schema any JSON document is accepted.
 * @public
 */
export interface CollectionSpec {
  name: string
  namespace?: string
  schema?: JsonSchema
  visibility?: CollectionVisibility
  type?: 'document'
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
