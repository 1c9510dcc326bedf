import { AdminApiError, createAdminClient, type AdminClient, type AdminResourceClient } from '../../admin/client.js'
import type { NamespacedKind, ResourceKind } from '../../resources/kinds.js'
import { UsageError, missingFields, parseAssignments } from '../args.js'
import { describeType, fieldsOf, type FieldInfo } from '../fields.js'
import { ALIASES } from '../kinds.js'
import type { GlobalOptions } from '../globals.js'

type Verb = 'create' | 'get' | 'list' | 'delete'

/** The fields each verb takes besides the resource's own (for create). */
function verbFields(kind: ResourceKind, verb: Exclude<Verb, 'create'>): FieldInfo[] {
  const str = (name: string, required: boolean): FieldInfo => ({ name, type: 'string', required })
  const int = (name: string): FieldInfo => ({ name, type: 'integer', required: false })
  if (kind === 'namespace') return verb === 'list' ? [] : [str('name', true)]
  if (kind === 'document') {
    if (verb === 'list') return [str('collection', true), str('namespace', false), int('limit'), int('offset')]
    return [str('id', true), str('collection', true), str('namespace', false)]
  }
  return verb === 'list' ? [str('namespace', false)] : [str('name', true), str('namespace', false)]
}

/** `dgate <resource> <verb> --help`. */
export function resourceHelp(kind: ResourceKind, verb: Verb | undefined): string {
  if (verb === undefined) {
    return `Usage: dgate ${kind}|${ALIASES[kind]} <command> [key=value…]

Commands:
  create|mk   Create or replace a ${kind}
  get         Show one ${kind}
  list|ls     List ${kind}s${kind === 'namespace' ? '' : ' in a namespace'}
  delete|rm   Delete a ${kind}

Run "dgate ${kind} <command> --help" for its fields.`
  }
  const fields = verb === 'create' ? fieldsOf(kind) : verbFields(kind, verb)
  const line = (f: FieldInfo) => `  ${f.name.padEnd(20)} ${describeType(f)}`
  const required = fields.filter((f) => f.required)
  const optional = fields.filter((f) => !f.required)
  const positional = verb === 'get' || verb === 'delete' ? ` [<${kind === 'document' ? 'id' : 'name'}>]` : ''
  return [
    `Usage: dgate ${kind} ${verb}${positional} ${fields.length > 0 ? 'key=value…' : ''}`.trimEnd(),
    '',
    `Required fields:${required.length === 0 ? ' none' : ''}`,
    ...required.map(line),
    `Optional fields:${optional.length === 0 ? ' none' : ''}`,
    ...optional.map(line),
    '',
    'Values: key=value (lists: a,b), key:=<json>, key=@file or key@=file (the file\'s text).',
  ].join('\n')
}

/** Runs a resource command and returns what to print (JSON). */
export async function runResource(kind: ResourceKind, verb: Verb, tokens: string[], globals: GlobalOptions): Promise<unknown> {
  const client = createAdminClient(globals.admin, { ...(globals.key === undefined ? {} : { key: globals.key }), ...(globals.keyHeader === undefined ? {} : { keyHeader: globals.keyHeader }) })
  const fields = verb === 'create' ? fieldsOf(kind) : verbFields(kind, verb)
  // get and delete take the name (or document id) as a bare word too, as dgate-cli's namespace delete does.
  const idField = kind === 'document' ? 'id' : 'name'
  if ((verb === 'get' || verb === 'delete') && tokens[0] !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(:=|@=|=)/.test(tokens[0])) tokens = [`${idField}=${tokens[0]}`, ...tokens.slice(1)]
  const input = parseAssignments(tokens, fields, kind)
  const missing = missingFields(input, fields)
  if (missing.length > 0) throw new UsageError(`missing required field${missing.length === 1 ? '' : 's'} for ${kind} ${verb}: ${missing.join(', ')} (see dgate ${kind} ${verb} --help)`)
  const ns = typeof input.namespace === 'string' ? { namespace: input.namespace } : {}
  if (kind === 'namespace') return namespaceCommand(client, verb, input)
  if (kind === 'document') return documentCommand(client, verb, input, ns)
  const api = resourceClient(client, kind)
  switch (verb) {
    case 'create':
      return api.put(input as never)
    case 'list':
      return api.list(ns)
    case 'get':
      return (await api.get(input.name as string, ns)) ?? notFound(kind, input.name as string)
    case 'delete':
      await api.delete(input.name as string, ns)
      return { deleted: { kind, name: input.name, ...ns } }
  }
}

async function namespaceCommand(client: AdminClient, verb: Verb, input: Record<string, unknown>): Promise<unknown> {
  switch (verb) {
    case 'create':
      return client.namespaces.put(input as never)
    case 'list':
      return client.namespaces.list()
    case 'get':
      return (await client.namespaces.get(input.name as string)) ?? notFound('namespace', input.name as string)
    case 'delete':
      await client.namespaces.delete(input.name as string)
      return { deleted: { kind: 'namespace', name: input.name } }
  }
}

async function documentCommand(client: AdminClient, verb: Verb, input: Record<string, unknown>, ns: { namespace?: string }): Promise<unknown> {
  const collection = input.collection as string
  switch (verb) {
    case 'create':
      return client.documents.put(input as never)
    case 'list': {
      const page = { ...(typeof input.limit === 'number' ? { limit: input.limit } : {}), ...(typeof input.offset === 'number' ? { offset: input.offset } : {}) }
      return (await client.documents.list(collection, { ...ns, ...page })).documents
    }
    case 'get':
      return (await client.documents.get(collection, input.id as string, ns)) ?? notFound('document', input.id as string)
    case 'delete':
      await client.documents.delete(collection, input.id as string, ns)
      return { deleted: { kind: 'document', id: input.id, collection, ...ns } }
  }
}

function resourceClient(client: AdminClient, kind: NamespacedKind): AdminResourceClient<NamespacedKind> {
  const apis = { domain: client.domains, service: client.services, route: client.routes, module: client.modules, collection: client.collections, secret: client.secrets }
  return apis[kind] as AdminResourceClient<NamespacedKind>
}

/** The client's get answers undefined for a 404; the command reports it as the error it is. */
function notFound(kind: string, name: string): never {
  throw new AdminApiError(`${kind} "${name}" not found`, 404, 'GET', '')
}
