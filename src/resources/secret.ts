import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * A secret as stored. `data` is write-only: no API, log or error ever returns it.
 * @public
 */
export interface Secret {
  /** Unique name in the namespace. */
  name: string
  /** The namespace it belongs to. */
  namespace: string
  /** The secret value. Write-only: reads return a {@link SecretInfo} without it. */
  data: string
  /** Free-form labels. */
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
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** The secret value, 1 to 65536 characters; never returned. */
  data: string
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
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
