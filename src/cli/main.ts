#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { loadConfig } from '../config/load.js'
import { DGateError } from '../errors.js'
import { createGateway } from '../gateway.js'

const HELP = `dgate: a programmable API gateway for Node.js

Usage:
  dgate check --config <file>   Validate a config file and apply its resources to an in-memory gateway
  dgate --version               Print the version
  dgate --help                  Show this help

Exit codes: 0 ok, 1 invalid config or resources, 2 bad usage.`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } } })
  if (values.version) {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string }
    console.log(pkg.version)
    return 0
  }
  const [command] = positionals
  if (values.help || command === undefined) {
    console.log(HELP)
    return command === undefined && !values.help ? 2 : 0
  }
  if (command !== 'check') {
    console.error(`dgate: unknown command "${command}"\n\n${HELP}`)
    return 2
  }
  if (!values.config) {
    console.error('dgate check: --config <file> is required')
    return 2
  }
  const config = await loadConfig(values.config)
  // Check resources in memory whatever storage the file names: checking must not touch real state.
  const gw = await createGateway({ ...config.options, storage: 'memory' })
  const counts = ['namespace', 'domain', 'service', 'module', 'route', 'collection', 'secret'].map((kind) => {
    const n = kind === 'namespace' ? gw.snapshot.listNamespaces().length : gw.snapshot.list(kind as 'route').length
    return `${n} ${kind}${n === 1 ? '' : 's'}`
  })
  await gw.close()
  console.log(`${values.config}: ok (${counts.join(', ')})`)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof DGateError || error instanceof TypeError ? `dgate: ${(error as Error).message}` : error)
    process.exitCode = 1
  },
)
