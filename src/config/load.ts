import { readFile } from 'node:fs/promises'
import { dirname, extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { DGateError } from '../errors.js'
import { allowListCheck } from '../admin/auth.js'
import { resolveAdminOptions, type AdminOptions } from '../admin/options.js'
import type { GatewayOptions } from '../gateway.js'
import type { ProxyOptions } from '../proxy/proxy.js'
import type { ListenOptions } from '../server/listen.js'
import { KINDS, type ResourceKind } from '../resources/kinds.js'
import type { GatewayResources } from '../state/seed.js'
import { ConfigIssue, checkConfig } from './check.js'
import { CONFIG_SCHEMA } from './schema.js'
import { substitute } from './substitute.js'

/**
 * A config file, loaded.
 * @public
 */
export interface GatewayConfig {
  /** The file's content after `${VAR}` substitution, with types settled (`port: ${PORT:-80}` is a number). */
  raw: Record<string, unknown>
  /** The `createGateway` options it describes. */
  options: GatewayOptions
  /** The proxy listeners `dgate serve` starts: HTTP on `proxy.port` (default 80), and HTTPS on `proxy.tls.port`. */
  proxyListeners: ListenOptions[]
  /** The admin listeners: HTTP on `admin.port`, HTTPS on `admin.tls.port`; empty without an `admin` section. */
  adminListeners: ListenOptions[]
  /** `log_level` (default `info`). */
  logLevel: string
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
 * Reads a YAML or JSON config file (DGate's keys, plus `proxy.trusted_proxies` and `max_body_size` under `proxy` and
 * `admin`): `${VAR}` and `${VAR:-default}` are substituted in string values from `env` (default `process.env`), then
 * every key is checked (unknown keys are errors; DGate keys this gateway does not implement are accepted only at
 * their default) and strings become numbers or booleans where the key needs one. Shell commands are never run.
 * `init_resources` (top level or under `proxy`, with `payload_file`, `cert_file` and `key_file` read relative to the
 * file) is validated here, so errors name the key.
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
  const parsed = parseText(path, text) ?? {}
  const substituted = substitute(parsed, options.env ?? process.env)
  let raw: Config
  try {
    raw = checkConfig(substituted, CONFIG_SCHEMA) as Config
  } catch (err) {
    if (err instanceof ConfigIssue) throw new ConfigError(`${path}: ${err.message}`)
    throw err
  }
  const base = dirname(file)
  const gatewayOptions: GatewayOptions = {}
  if (raw.storage !== undefined) gatewayOptions.storage = storageOption(path, raw.storage, base)
  if (raw.disable_default_namespace !== undefined) gatewayOptions.disableDefaultNamespace = raw.disable_default_namespace
  const proxy = raw.proxy ?? {}
  const proxyOptions = proxyOptionsOf(proxy)
  if (Object.keys(proxyOptions).length > 0) gatewayOptions.proxy = proxyOptions
  if (raw.admin) gatewayOptions.admin = adminOptionsOf(path, raw.admin)
  if (raw.init_resources !== undefined && proxy.init_resources !== undefined) throw new ConfigError(`${path}: set init_resources or proxy.init_resources, not both`)
  const init = raw.init_resources ?? proxy.init_resources
  if (init !== undefined) {
    const at = raw.init_resources !== undefined ? 'init_resources' : 'proxy.init_resources'
    gatewayOptions.resources = await resources(path, at, init, base, gatewayOptions.disableDefaultNamespace ? undefined : 'default')
  }
  const proxyListeners = await listenersOf(path, 'proxy', { host: proxy.host, port: proxy.port ?? 80, tls: proxy.tls, http2: proxy.enable_http2 }, base)
  const adminListeners = raw.admin ? await listenersOf(path, 'admin', { host: raw.admin.host ?? '127.0.0.1', port: raw.admin.port, tls: raw.admin.tls }, base) : []
  return { raw: raw as Record<string, unknown>, options: gatewayOptions, proxyListeners, adminListeners, logLevel: raw.log_level ?? 'info' }
}

interface TlsConfig {
  port: number
  cert_file: string
  key_file: string
}

/** The checked file, typed as far as the loader reads it. */
interface Config {
  storage?: { type: 'memory' | 'file'; dir?: string }
  disable_default_namespace?: boolean
  log_level?: string
  init_resources?: unknown
  proxy?: {
    host?: string
    port?: number
    tls?: TlsConfig
    enable_http2?: boolean
    global_headers?: Record<string, string>
    client_transport?: { disable_private_ips?: boolean; max_conns_per_host?: number; idle_conn_timeout?: number }
    trusted_proxies?: string[]
    max_body_size?: number
    init_resources?: unknown
  }
  admin?: {
    host?: string
    port: number
    tls?: TlsConfig
    allow_list?: string[]
    x_forwarded_for_depth?: number
    auth_method?: 'none' | 'key'
    key_auth?: { keys?: string[]; header_name?: string }
    max_body_size?: number
  }
}

function proxyOptionsOf(proxy: NonNullable<Config['proxy']>): ProxyOptions {
  const out: ProxyOptions = {}
  if (proxy.global_headers) out.globalHeaders = proxy.global_headers
  if (proxy.trusted_proxies) out.trustedProxies = proxy.trusted_proxies
  if (proxy.max_body_size !== undefined) out.maxBodySize = proxy.max_body_size
  const transport = proxy.client_transport ?? {}
  if (transport.disable_private_ips !== undefined) out.disablePrivateIps = transport.disable_private_ips
  if (transport.max_conns_per_host !== undefined) out.connectionsPerOrigin = transport.max_conns_per_host
  if (transport.idle_conn_timeout !== undefined) out.upstreamKeepAliveTimeout = transport.idle_conn_timeout
  return out
}

/** DGate's admin keys as AdminOptions; key auth without keys fails here, naming the key (fail closed). */
function adminOptionsOf(path: string, admin: NonNullable<Config['admin']>): AdminOptions {
  const method = admin.auth_method ?? 'none'
  const keys = admin.key_auth?.keys
  if (method === 'key' && (keys === undefined || keys.length === 0)) throw new ConfigError(`${path}: admin.key_auth.keys is required when admin.auth_method is "key"`)
  if (method !== 'key' && admin.key_auth !== undefined) throw new ConfigError(`${path}: admin.key_auth is set but admin.auth_method is not "key"`)
  const out: AdminOptions = { auth: method }
  if (keys) out.keys = keys
  if (admin.key_auth?.header_name !== undefined) out.keyHeader = admin.key_auth.header_name
  if (admin.allow_list) out.allowList = admin.allow_list
  if (admin.x_forwarded_for_depth !== undefined) out.xForwardedForDepth = Math.max(0, admin.x_forwarded_for_depth)
  if (admin.max_body_size !== undefined) out.maxBodySize = admin.max_body_size
  try {
    allowListCheck(resolveAdminOptions(out))
  } catch (err) {
    const message = (err as Error).message.replace('admin.allowList', 'admin.allow_list').replace('admin.keyHeader', 'admin.key_auth.header_name').replace('admin.keys', 'admin.key_auth.keys')
    throw new ConfigError(`${path}: ${message}`)
  }
  return out
}

/** HTTP on `port`, and HTTPS on `tls.port` with the certificate files read relative to the config file. */
async function listenersOf(path: string, section: string, spec: { host: string | undefined; port: number; tls: TlsConfig | undefined; http2?: boolean | undefined }, base: string): Promise<ListenOptions[]> {
  const host = spec.host === undefined || spec.host === '' ? {} : { host: spec.host }
  const out: ListenOptions[] = [{ ...host, port: spec.port }]
  if (spec.tls) {
    const cert = await readText(path, `${section}.tls.cert_file`, resolve(base, spec.tls.cert_file))
    const key = await readText(path, `${section}.tls.key_file`, resolve(base, spec.tls.key_file))
    out.push({ ...host, port: spec.tls.port, tls: { cert, key }, ...(spec.http2 ? { http2: true } : {}) })
  } else if (spec.http2) {
    throw new ConfigError(`${path}: ${section}.enable_http2 needs ${section}.tls (cleartext HTTP/2 is not offered)`)
  }
  return out
}

async function readText(path: string, key: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`${path}: ${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** Parses YAML or JSON by the file's extension. */
export function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase()
  try {
    if (ext === '.json') return JSON.parse(text)
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text, { maxAliasCount: 100 })
  } catch (err) {
    throw new ConfigError(`${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  throw new ConfigError(`${path}: unknown config format "${ext}": use .yaml, .yml or .json`)
}

function storageOption(path: string, storage: NonNullable<Config['storage']>, base: string): GatewayOptions['storage'] {
  if (storage.type === 'memory') return 'memory'
  if (typeof storage.dir !== 'string' || storage.dir === '') throw new ConfigError(`${path}: storage.dir is required when storage.type is "file"`)
  return { dir: resolve(base, storage.dir) }
}

/** Reads and validates resource lists (`init_resources`, or an apply file): `at` is the key shown in errors. */
export async function resources(path: string, at: string, value: unknown, base: string, defaultNamespace: string | undefined): Promise<GatewayResources> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${path}: ${at || 'the file'} must be an object of resource lists`)
  const out: GatewayResources = {}
  for (const [field, list] of Object.entries(value)) {
    if (field === 'skip_validation') continue
    const kind = RESOURCE_LISTS[field as keyof GatewayResources]
    if (!kind) throw new ConfigError(`${path}: ${at ? `${at}.` : ''}${field} is not a resource list (${Object.keys(RESOURCE_LISTS).join(', ')})`)
    if (!Array.isArray(list)) throw new ConfigError(`${path}: ${at ? `${at}.` : ''}${field} must be a list`)
    const specs: unknown[] = []
    for (const [i, entry] of list.entries()) {
      const where = `${at ? `${at}.` : ''}${field}[${i}]`
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
