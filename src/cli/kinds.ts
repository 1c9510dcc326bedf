import type { ResourceKind } from '../resources/kinds.js'

/** dgate-cli's resource commands and their aliases. */
export const RESOURCE_COMMANDS: Record<string, ResourceKind> = {
  namespace: 'namespace',
  ns: 'namespace',
  service: 'service',
  svc: 'service',
  module: 'module',
  mod: 'module',
  route: 'route',
  rt: 'route',
  domain: 'domain',
  dom: 'domain',
  collection: 'collection',
  col: 'collection',
  document: 'document',
  doc: 'document',
  secret: 'secret',
  sec: 'secret',
}

/** The alias shown in help for each kind. */
export const ALIASES: Record<ResourceKind, string> = { namespace: 'ns', service: 'svc', module: 'mod', route: 'rt', domain: 'dom', collection: 'col', document: 'doc', secret: 'sec' }

/** Verbs and their aliases. */
export const VERBS: Record<string, 'create' | 'get' | 'list' | 'delete'> = { create: 'create', mk: 'create', get: 'get', list: 'list', ls: 'list', delete: 'delete', rm: 'delete' }
