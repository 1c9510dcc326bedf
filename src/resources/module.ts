import Type from 'typebox'
import { defineKind, namespaceOf } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * The language of a module's payload.
 * @public
 */
export type ModuleType = 'typescript' | 'javascript'

/**
 * A module: JavaScript or TypeScript source whose exported hooks run for the routes that list it.
 * @public
 */
export interface Module {
  /** Unique name in the namespace; other modules of a route import it by this name. */
  name: string
  /** The namespace it belongs to. */
  namespace: string
  /** Source text. */
  payload: string
  /** The language of `payload`. */
  moduleType: ModuleType
  /** Free-form labels. */
  tags: string[]
}

/**
 * Input for a module.
 * @public
 */
export interface ModuleSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique in the namespace. */
  name: string
  /** Namespace to put it in; defaults to `default`, and is required when the default namespace is disabled. */
  namespace?: string
  /** Source text of 1 to 1048576 characters. */
  payload: string
  /** The language of `payload` (default `'typescript'`). */
  moduleType?: ModuleType
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

/** 1 MiB of source is far beyond any hook module; the cap keeps the log and snapshots bounded. */
const MAX_PAYLOAD = 1024 * 1024

export const moduleKind = defineKind<ModuleSpec, Module>({
  kind: 'module',
  schema: Type.Object(
    {
      name: Name,
      namespace: Type.Optional(Name),
      payload: Type.String({ minLength: 1, maxLength: MAX_PAYLOAD, errorMessage: `must be non-empty source text of at most ${MAX_PAYLOAD} characters` }),
      moduleType: Type.Optional(Type.Union([Type.Literal('typescript'), Type.Literal('javascript')], { errorMessage: 'must be "typescript" or "javascript"' })),
      tags: Type.Optional(Tags),
    },
    { additionalProperties: false },
  ),
  normalize: (input, issues, ctx) => ({
    name: input.name,
    namespace: namespaceOf(input, issues, ctx),
    payload: input.payload,
    moduleType: input.moduleType ?? 'typescript',
    tags: input.tags ?? [],
  }),
})
