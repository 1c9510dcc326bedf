import Type from 'typebox'
import { defineKind } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * A namespace: the unit that routes, services, modules, domains, collections and secrets live in.
 * @public
 */
export interface Namespace {
  /** Unique name. */
  name: string
  /** Free-form labels. */
  tags: string[]
}

/**
 * Input for a namespace.
 * @public
 */
export interface NamespaceSpec {
  /** 1 to 128 characters of letters, digits, `.`, `_` or `-`; unique. */
  name: string
  /** Free-form labels: up to 64 strings of 1 to 256 characters (default none). */
  tags?: string[]
}

export const namespaceKind = defineKind<NamespaceSpec, Namespace>({
  kind: 'namespace',
  schema: Type.Object({ name: Name, tags: Type.Optional(Tags) }, { additionalProperties: false }),
  normalize: (input) => ({ name: input.name, tags: input.tags ?? [] }),
})
