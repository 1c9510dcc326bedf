#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { AdminApiError } from '../admin/client.js'
import { DGateError } from '../errors.js'
import { UsageError } from './args.js'
import { resourceHelp, runResource } from './commands/resource.js'
import type { GlobalOptions } from './globals.js'
import { ALIASES, RESOURCE_COMMANDS, VERBS } from './kinds.js'

/** Exit codes. */
const OK = 0
const REFUSED = 1
const USAGE = 2
const UNREACHABLE = 3

const HELP = `dgate: a programmable API gateway for Node.js

Usage:
  dgate serve --config <file>             Run the proxy and admin listeners from a config file
  dgate check --config <file>             Validate a config file and apply its resources in memory
  dgate apply -f <file> [--prune] [--dry-run]
                                          Make the live state match a resources file (prints the diff first);
                                          --prune deletes what the file's namespaces hold but the file doesn't list
  dgate <resource> <command> [key=value…] Resource commands against an admin API:
      resources: ${Object.entries(ALIASES).map(([k, a]) => `${k}|${a}`).join(', ')}
      commands:  create|mk, get, list|ls, delete|rm
  dgate <resource> <command> --help       The command's required and optional fields

Admin API options (resource commands and apply):
  --admin <url>       Admin API URL (env DGATE_ADMIN_API, default http://localhost:9080)
  --key <key>         API key (env DGATE_ADMIN_KEY)
  --key-header <name> Header for the key (env DGATE_ADMIN_KEY_HEADER, default X-DGate-Key)

Output is JSON on stdout; errors go to stderr.
Exit codes: 0 ok, 1 refused (by the server, or an invalid config), 2 bad usage, 3 admin API unreachable.`

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  file: { type: 'string', short: 'f' },
  prune: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  admin: { type: 'string' },
  key: { type: 'string' },
  'key-header': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

const out = (line: string) => process.stdout.write(`${line}\n`)

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS })
  if (values.version) {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string }
    out(pkg.version)
    return OK
  }
  const [command, ...rest] = positionals
  if (command === undefined) {
    out(HELP)
    return values.help ? OK : USAGE
  }
  const globals: GlobalOptions = { admin: values.admin ?? process.env.DGATE_ADMIN_API ?? 'http://localhost:9080' }
  const key = values.key ?? process.env.DGATE_ADMIN_KEY
  if (key !== undefined) globals.key = key
  const keyHeader = values['key-header'] ?? process.env.DGATE_ADMIN_KEY_HEADER
  if (keyHeader !== undefined) globals.keyHeader = keyHeader

  if (command === 'serve' || command === 'check') {
    if (values.help) return out(`Usage: dgate ${command} --config <file>`), OK
    if (!values.config) throw new UsageError(`dgate ${command}: --config <file> is required`)
    if (rest.length > 0) throw new UsageError(`dgate ${command}: unexpected argument "${rest[0]}"`)
    // Loaded on demand: the gateway (and its native storage) is not needed by the admin API commands.
    if (command === 'check') return out(await (await import('./commands/check.js')).runCheck(values.config)), OK
    return (await import('./commands/serve.js')).runServe(values.config, (line) => out(`dgate: ${line}`))
  }
  if (command === 'apply') {
    if (values.help) return out('Usage: dgate apply -f <file> [--prune] [--dry-run] [--admin <url>] [--key <key>]'), OK
    if (!values.file) throw new UsageError('dgate apply: -f <file> is required')
    if (rest.length > 0) throw new UsageError(`dgate apply: unexpected argument "${rest[0]}"`)
    const { runApply } = await import('./commands/apply.js')
    await runApply({ file: values.file, prune: values.prune ?? false, dryRun: values['dry-run'] ?? false }, globals, out)
    return OK
  }
  if (command === 'help') return out(HELP), OK
  const kind = RESOURCE_COMMANDS[command]
  if (!kind) throw new UsageError(`unknown command "${command}" (see dgate --help)`)
  const [verbWord, ...tokens] = rest
  const verb = verbWord === undefined ? undefined : VERBS[verbWord]
  if (values.help || verbWord === undefined) {
    out(resourceHelp(kind, verb))
    return values.help ? OK : USAGE
  }
  if (!verb) throw new UsageError(`unknown ${kind} command "${verbWord}" (create|mk, get, list|ls, delete|rm)`)
  out(JSON.stringify(await runResource(kind, verb, tokens, globals), null, 2))
  return OK
}

function exitCodeOf(error: unknown): { code: number; message: string } {
  if (error instanceof UsageError) return { code: USAGE, message: error.message }
  if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return { code: USAGE, message: error.message }
  if (error instanceof AdminApiError) return { code: REFUSED, message: `${error.status} error from server: ${error.message}` }
  if (error instanceof DGateError || error instanceof TypeError) return { code: REFUSED, message: error.message }
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EADDRINUSE', 'EACCES'].includes(code)) {
    if (code.startsWith('EADDR') || code === 'EACCES') return { code: REFUSED, message: (error as Error).message }
    return { code: UNREACHABLE, message: `cannot reach the admin API: ${(error as Error).message}` }
  }
  return { code: REFUSED, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    const { code, message } = exitCodeOf(error)
    process.stderr.write(`dgate: ${message}\n`)
    process.exitCode = code
  },
)
