import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * A secret as stored. `data` is write-only: no API, log or error ever returns it.
 * @public
 */
export interface Secret {
  name: string
  namespace: string
  data: string
  tags: string[]
}

/**
 * What reads return for a secret: everything but the data.
 * @public
 */
export type SecretInfo = Omit<Secret, 'data'>

/**
 * Input for a secret.
 * @public
 */
export interface SecretSpec {
  name: string
  namespace?: string
  data: string
  tags?: string[]
}

export const secretKind = defineKind<SecretSpec, Secret>({
  kind: 'secret',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      data: Type.String({ minLength: 1, maxLength: 65_536, errorMessage: 'must be a non-empty string of at most 65536 characters' }),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize: (input, issues, ctx) => ({
    name: input.name,
    namespace: namespaceOf(input, issues, ctx),
    data: input.data,
    tags: input.tags ?? [],
  }),
})
