import Type from 'typebox'
import { defineKind } from './define.js'
import { Name, Tags } from './fields.js'

/**
 * A namespace: the unit that routes, services, modules, domains, collections and secrets live in.
 * @public
 */
export interface Namespace {
  name: string
  tags: string[]
}

/**
 * Input for a namespace.
 * @public
 */
export interface NamespaceSpec {
  name: string
  tags?: string[]
}

export const namespaceKind = defineKind<NamespaceSpec, Namespace>({
  kind: 'namespace',
  schema: Type.Object({ name: Name, tags: Type.Optional(Tags) }, { additionalProperties: false }),
  normalize: (input) => ({ name: input.name, tags: input.tags ?? [] }),
})
