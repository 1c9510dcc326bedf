import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { GatewayResources } from '../state/seed.js'
import { ConfigError, parseText, resources } from './load.js'
import { substitute } from './substitute.js'

/**
 * Reads a resources file for `dgate apply`: YAML or JSON with the lists of `init_resources` at the top level
 * (`namespaces`, `services`, `routes`, …; `payload_file`, `cert_file`, `key_file` read relative to the file), with
 * `${VAR}` substitution. Every resource is validated; errors name the list and index.
 */
export async function loadResourceFile(path: string, options: { env?: Readonly<Record<string, string | undefined>>; defaultNamespace?: string | undefined } = {}): Promise<GatewayResources> {
  let text: string
  try {
    text = await readFile(resolve(path), 'utf8')
  } catch (err) {
    throw new ConfigError(`${path}: cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const parsed = substitute(parseText(path, text) ?? {}, options.env ?? process.env)
  const defaultNamespace = 'defaultNamespace' in options ? options.defaultNamespace : 'default'
  return resources(path, '', parsed, dirname(resolve(path)), defaultNamespace)
}
