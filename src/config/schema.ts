/**
 * The shape of a config file: DGate's keys (those this gateway implements, and those it knows but does not, which
 * are accepted only at DGate's default value) plus ours. Every key not listed here is an error.
 */
export type ConfigNode =
  | { t: 'string'; oneOf?: readonly string[] }
  | { t: 'int'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'duration' }
  | { t: 'strings' }
  | { t: 'headers' }
  | { t: 'object'; keys: Record<string, ConfigNode>; required?: readonly string[] }
  /** Checked by its own reader (init_resources). */
  | { t: 'resources' }
  /** A DGate key this gateway does not implement: accepted only when absent or equal to `value` (DGate's default). */
  | { t: 'unsupported'; value: unknown }

const str = { t: 'string' } as const
const bool = { t: 'bool' } as const
const strings = { t: 'strings' } as const
const duration = { t: 'duration' } as const
const port = { t: 'int', min: 0, max: 65_535 } as const
const bytes = { t: 'int', min: 1, max: 2 ** 40 } as const
const off = (value: unknown = false) => ({ t: 'unsupported', value }) as const

const tls: ConfigNode = { t: 'object', keys: { port, cert_file: str, key_file: str }, required: ['port', 'cert_file', 'key_file'] }

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'] as const

export const CONFIG_SCHEMA: ConfigNode = {
  t: 'object',
  keys: {
    version: str,
    log_level: { t: 'string', oneOf: LOG_LEVELS },
    log_json: bool,
    log_color: bool,
    node_id: str,
    storage: { t: 'object', keys: { type: { t: 'string', oneOf: ['memory', 'file'] }, dir: str }, required: ['type'] },
    disable_metrics: bool,
    disable_default_namespace: bool,
    debug: bool,
    tags: strings,
    init_resources: { t: 'resources' },
    test_server: off(undefined),
    proxy: {
      t: 'object',
      keys: {
        host: str,
        port,
        tls,
        enable_http2: bool,
        enable_h2c: off(),
        console_log_level: { t: 'string', oneOf: LOG_LEVELS },
        redirect_https: off([]),
        allowed_domains: off([]),
        global_headers: { t: 'headers' },
        client_transport: {
          t: 'object',
          keys: {
            disable_private_ips: bool,
            max_conns_per_host: { t: 'int', min: 1, max: 1_000_000 },
            idle_conn_timeout: duration,
            dns_server: off(''),
            dns_prefer_go: off(),
            max_idle_conns: off(0),
            max_idle_conns_per_host: off(0),
            force_attempt_http2: off(),
            disable_compression: off(),
            tls_handshake_timeout: off(0),
            expect_continue_timeout: off(0),
            max_response_header_bytes: off(0),
            write_buffer_size: off(0),
            read_buffer_size: off(0),
            disable_keep_alives: off(),
            keep_alive: off(0),
            response_header_timeout: off(0),
            dial_timeout: off(0),
            dns_timeout: off(0),
            max_body_bytes: off(0),
          },
        },
        disable_x_forwarded_headers: off(),
        strict_mode: off(),
        x_forwarded_for_depth: off(0),
        init_resources: { t: 'resources' },
        // ours
        trusted_proxies: strings,
        max_body_size: bytes,
      },
    },
    admin: {
      t: 'object',
      keys: {
        host: str,
        port,
        tls,
        allow_list: strings,
        x_forwarded_for_depth: { t: 'int', min: -1, max: 64 },
        watch_only: off(),
        auth_method: { t: 'string', oneOf: ['none', 'key'] },
        key_auth: { t: 'object', keys: { keys: strings, header_name: str, query_param_name: off(undefined) } },
        basic_auth: off(undefined),
        jwt_auth: off(undefined),
        replication: off(undefined),
        // ours
        max_body_size: bytes,
      },
      required: ['port'],
    },
  },
}
