import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/index.js'
import { tempFiles } from '../helpers/files.js'
import { selfSignedPair } from '../helpers/tls.js'

const { file, path: pathOf } = tempFiles('dgate-keys-')

describe('DGate config keys', () => {
  it('map proxy and admin sections to gateway options and listeners, with types settled after substitution', async () => {
    const path = file(
      'dgate.yaml',
      `version: v1
log_level: \${LEVEL:-debug}
debug: "\${DEBUG:-true}"
tags: [a, b]
proxy:
  host: 127.0.0.1
  port: \${PORT:-8080}
  global_headers:
    X-Served-By: dgate
    X-Number: 7
  trusted_proxies: [10.0.0.0/8]
  max_body_size: 1024
  strict_mode: false
  client_transport:
    disable_private_ips: "true"
    max_conns_per_host: 16
    idle_conn_timeout: 2s
admin:
  port: \${ADMIN_PORT}
  allow_list: [127.0.0.1, 10.0.0.0/8]
  x_forwarded_for_depth: -1
  auth_method: key
  key_auth:
    keys: ["\${ADMIN_KEY}"]
    header_name: X-Admin-Key
  max_body_size: 2048
`,
    )
    const config = await loadConfig(path, { env: { PORT: '9999', ADMIN_PORT: '9080', ADMIN_KEY: 'from-env-key' } })
    expect(config.raw).toMatchObject({ log_level: 'debug', debug: true, proxy: { port: 9999 }, admin: { port: 9080 } })
    expect(config.logLevel).toBe('debug')
    expect(config.options.proxy).toEqual({
      globalHeaders: { 'X-Served-By': 'dgate', 'X-Number': '7' },
      trustedProxies: ['10.0.0.0/8'],
      maxBodySize: 1024,
      disablePrivateIps: true,
      connectionsPerOrigin: 16,
      upstreamKeepAliveTimeout: 2000,
    })
    expect(config.options.admin).toEqual({ auth: 'key', keys: ['from-env-key'], keyHeader: 'X-Admin-Key', allowList: ['127.0.0.1', '10.0.0.0/8'], xForwardedForDepth: 0, maxBodySize: 2048 })
    expect(config.proxyListeners).toEqual([{ host: '127.0.0.1', port: 9999 }])
    expect(config.adminListeners).toEqual([{ host: '127.0.0.1', port: 9080 }])
  })

  it('defaults the proxy to port 80 and has no admin listener without an admin section', async () => {
    const config = await loadConfig(file('c.yaml', 'version: v1\n'), { env: {} })
    expect(config.proxyListeners).toEqual([{ port: 80 }])
    expect(config.adminListeners).toEqual([])
    expect(config.options).toEqual({})
  })

  it('adds HTTPS listeners with certificate files read relative to the config file', async () => {
    const pair = selfSignedPair('localhost')
    file('cert.pem', pair.cert)
    file('key.pem', pair.key)
    const config = await loadConfig(file('tls.yaml', 'proxy:\n  port: 8080\n  enable_http2: true\n  tls: { port: 8443, cert_file: cert.pem, key_file: key.pem }\nadmin:\n  port: 9080\n  tls: { port: 9443, cert_file: cert.pem, key_file: key.pem }\n'), { env: {} })
    expect(config.proxyListeners).toEqual([{ port: 8080 }, { port: 8443, tls: pair, http2: true }])
    expect(config.adminListeners).toEqual([{ host: '127.0.0.1', port: 9080 }, { host: '127.0.0.1', port: 9443, tls: pair }])
  })

  it.each([
    ['proxy:\n  prot: 80', 'proxy.prot is not a known key (did you mean "port"?)'],
    ['colour: red', 'colour is not a known key'],
    ['proxy:\n  port: ${PORT:-eighty}', 'proxy.port must be an integer, not "eighty"'],
    ['proxy:\n  port: 70000', 'proxy.port must be from 0 to 65535, not 70000'],
    ['proxy: []', 'proxy must be an object, not a list'],
    ['proxy:\n  global_headers: [a]', 'proxy.global_headers must be a map of header names to values, not a list'],
    ['proxy:\n  global_headers: { "bad header": x }', 'proxy.global_headers.bad header is not a valid header name'],
    ['proxy:\n  strict_mode: true', 'proxy.strict_mode is a DGate setting this gateway does not support (remove it, or leave it at its default)'],
    ['proxy:\n  allowed_domains: [a.com]', 'proxy.allowed_domains is a DGate setting this gateway does not support (remove it, or leave it at its default)'],
    ['proxy:\n  client_transport: { idle_conn_timeout: soon }', 'proxy.client_transport.idle_conn_timeout must be milliseconds or a duration like "5s" or "250ms", not "soon"'],
    ['proxy:\n  tls: { port: 443 }', 'proxy.tls.cert_file is required'],
    ['proxy:\n  enable_http2: true', 'proxy.enable_http2 needs proxy.tls (cleartext HTTP/2 is not offered)'],
    ['log_level: loud', 'log_level must be one of debug, info, warn, error, dpanic, panic, fatal, not "loud"'],
    ['tags: a', 'tags must be a list of strings, not "a"'],
    ['tags: [1]', 'tags[0] must be a string, not 1'],
    ['admin:\n  host: 0.0.0.0', 'admin.port is required'],
    ['admin:\n  port: 9080\n  auth_method: key', 'admin.key_auth.keys is required when admin.auth_method is "key"'],
    ['admin:\n  port: 9080\n  auth_method: key\n  key_auth: { keys: [] }', 'admin.key_auth.keys is required when admin.auth_method is "key"'],
    ['admin:\n  port: 9080\n  auth_method: basic', 'admin.auth_method must be one of none, key, not "basic"'],
    ['admin:\n  port: 9080\n  key_auth: { keys: [k] }', 'admin.key_auth is set but admin.auth_method is not "key"'],
    ['admin:\n  port: 9080\n  key_auth: { query_param_name: key }', 'admin.key_auth.query_param_name is a DGate setting this gateway does not support (remove it, or leave it at its default)'],
    ['admin:\n  port: 9080\n  allow_list: [10.0.0.0/40]', 'admin.allow_list[0] must be an IP address or a CIDR, not "10.0.0.0/40"'],
    ['admin:\n  port: 9080\n  replication: { id: a }', 'admin.replication is a DGate setting this gateway does not support (remove it, or leave it at its default)'],
    ['init_resources: { namespaces: [] }\nproxy:\n  init_resources: { namespaces: [] }', 'set init_resources or proxy.init_resources, not both'],
  ])('refuses %j naming the key', async (text, message) => {
    const error = await loadConfig(file('dgate.yaml', text), { env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toBe(`${pathOf('dgate.yaml')}: ${message}`)
  })
})
