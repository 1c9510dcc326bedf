import { loadConfig } from '../../config/load.js'
import { createGateway } from '../../gateway.js'

/** `dgate check --config <file>`: loads the file and applies its resources to an in-memory gateway. */
export async function runCheck(configPath: string): Promise<string> {
  const config = await loadConfig(configPath)
  // Check resources in memory whatever storage the file names: checking must not touch real state.
  const gw = await createGateway({ ...config.options, storage: 'memory' })
  const counts = ['namespace', 'domain', 'service', 'module', 'route', 'collection', 'secret'].map((kind) => {
    const n = kind === 'namespace' ? gw.snapshot.listNamespaces().length : gw.snapshot.list(kind as 'route').length
    return `${n} ${kind}${n === 1 ? '' : 's'}`
  })
  await gw.close()
  return `${configPath}: ok (${counts.join(', ')})`
}
