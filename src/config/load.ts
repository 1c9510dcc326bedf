import { readFile } from 'node:fs/promises'
import { dirname, extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { DGateError } from '../errors.js'
import type { GatewayOptions } from '../gateway.js'
import { KINDS, type ResourceKind } from '../resources/kinds.js'
import type { GatewayResources } from '../state/seed.js'
import { substitute } from './substitute.js'

/**
 * A config file, loaded.
 * @public
 */
export interface GatewayConfig {
  /** The file's content after `${VAR}` substitution. */
  raw: Record<string, unknown>
  /** The `createGateway` options it describes. */
  options: GatewayOptions
}

/**
 * The config file is wrong: the message names the file and the key.
 * @public
 */
export class ConfigError extends DGateError {
  constructor(message: string) {
    super(message, 400)
  }
}

const RESOURCE_LISTS: Record<keyof GatewayResources, ResourceKind> = {
  namespaces: 'namespace',
  secrets: 'secret',
  modules: 'module',
  services: 'service',
  collections: 'collection',
  domains: 'domain',
  routes: 'route',
  documents: 'document',
}

/**
 * Reads a YAML or JSON config file (DGate's keys): `${VAR}` and `${VAR:-default}` are substituted in string
 * values from `env` (default `process.env`); shell commands are never run. `storage`, `disable_default_namespace`
 * and `init_resources` (top level or under `proxy`, with `payload_file`, `cert_file` and `key_file` read relative
 * to the file) become gateway options; every resource is validated here, so errors name the key.
 * @public
 */
export async function loadConfig(path: string, options: { env?: Readonly<Record<string, string | undefined>> } = {}): Promise<GatewayConfig> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const parsed = parseText(path, text)
  const raw = substitute(parsed, options.env ?? process.env) as Record<string, unknown>
  const gatewayOptions: GatewayOptions = {}
  const storage = raw.storage
  if (storage !== undefined) gatewayOptions.storage = storageOption(path, storage, dirname(file))
  if (raw.disable_default_namespace !== undefined) {
    if (typeof raw.disable_default_namespace !== 'boolean') throw new ConfigError(`${path}: disable_default_namespace must be true or false`)
    gatewayOptions.disableDefaultNamespace = raw.disable_default_namespace
  }
  const proxy = raw.proxy as Record<string, unknown> | undefined
  const init = raw.init_resources ?? (proxy && typeof proxy === 'object' ? proxy.init_resources : undefined)
  if (init !== undefined) {
    const at = raw.init_resources !== undefined ? 'init_resources' : 'proxy.init_resources'
    gatewayOptions.resources = await resources(path, at, init, dirname(file), gatewayOptions.disableDefaultNamespace ? undefined : 'default')
  }
  return { raw, options: gatewayOptions }
}

function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase()
  try {
    if (ext === '.json') return JSON.parse(text)
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text, { maxAliasCount: 100 })
  } catch (err) {
    throw new ConfigError(`${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  throw new ConfigError(`${path}: unknown config format "${ext}": use .yaml, .yml or .json`)
}

function storageOption(path: string, value: unknown, base: string): GatewayOptions['storage'] {
  if (value === null || typeof value !== 'object') throw new ConfigError(`${path}: storage must be an object with a type`)
  const { type, dir, ...rest } = value as Record<string, unknown>
  const extra = Object.keys(rest)[0]
  if (extra !== undefined) throw new ConfigError(`${path}: storage.${extra} is not a known key (type, dir)`)
  if (type === 'memory') return 'memory'
  if (type === 'file') {
    if (typeof dir !== 'string' || dir === '') throw new ConfigError(`${path}: storage.dir is required when storage.type is "file"`)
    return { dir: resolve(base, dir) }
  }
  throw new ConfigError(`${path}: storage.type must be "memory" or "file", not ${JSON.stringify(type)}`)
}

async function resources(path: string, at: string, value: unknown, base: string, defaultNamespace: string | undefined): Promise<GatewayResources> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${path}: ${at} must be an object of resource lists`)
  const out: GatewayResources = {}
  for (const [field, list] of Object.entries(value)) {
    if (field === 'skip_validation') continue
    const kind = RESOURCE_LISTS[field as keyof GatewayResources]
    if (!kind) throw new ConfigError(`${path}: ${at}.${field} is not a resource list (${Object.keys(RESOURCE_LISTS).join(', ')})`)
    if (!Array.isArray(list)) throw new ConfigError(`${path}: ${at}.${field} must be a list`)
    const specs: unknown[] = []
    for (const [i, entry] of list.entries()) {
      const where = `${at}.${field}[${i}]`
      const spec = await readFiles(path, where, entry, base)
      try {
        KINDS[kind].parse(spec, { defaultNamespace })
      } catch (err) {
        throw new ConfigError(`${path}: ${where}: ${(err as Error).message}`)
      }
      specs.push(spec)
    }
    ;(out as Record<string, unknown[]>)[field] = specs
  }
  return out
}

/** DGate's `payload_file`, `cert_file` and `key_file`: file contents in place of the inline field. */
async function readFiles(path: string, where: string, entry: unknown, base: string): Promise<unknown> {
  if (entry === null || typeof entry !== 'object') return entry
  const spec = { ...(entry as Record<string, unknown>) }
  for (const [fileKey, key] of [['payload_file', 'payload'], ['cert_file', 'cert'], ['key_file', 'key']] as const) {
    if (!(fileKey in spec)) continue
    const file = spec[fileKey]
    delete spec[fileKey]
    if (key in spec) throw new ConfigError(`${path}: ${where}: set ${key} or ${fileKey}, not both`)
    if (typeof file !== 'string') throw new ConfigError(`${path}: ${where}.${fileKey} must be a path`)
    try {
      spec[key] = await readFile(resolve(base, file), 'utf8')
    } catch (err) {
      throw new ConfigError(`${path}: ${where}.${fileKey}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  return spec
}
