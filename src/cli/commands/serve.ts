import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { loadConfig } from '../../config/load.js'
import { createGateway } from '../../gateway.js'
import { listen, type Listener } from '../../server/listen.js'
import { Snapshot } from '../../state/snapshot.js'

// The admin listener serves only its own certificate: domain certificates are for proxied hosts.
const NO_DOMAINS = new Snapshot(0, new Map())

/**
 * `dgate serve --config dgate.yaml`: the proxy listeners (`gw.listen`) and the admin listeners from the file. On
 * SIGTERM or SIGINT it stops accepting, lets in-flight requests finish (`gw.close()`) and resolves with 0; a second
 * signal exits at once with 1.
 */
export async function runServe(configPath: string, log: (line: string) => void): Promise<number> {
  const config = await loadConfig(configPath)
  const gw = await createGateway(config.options)
  const admins: Listener[] = []
  try {
    for (const options of config.proxyListeners) log(`proxy listening on ${(await gw.listen(options)).url}`)
    for (const options of config.adminListeners) {
      const listener = await listen(options, gw.admin.handler, refuseUpgrade, () => NO_DOMAINS)
      admins.push(listener)
      log(`admin listening on ${listener.url}`)
    }
  } catch (error) {
    await Promise.all(admins.map((l) => l.close()))
    await gw.close()
    throw error
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  log(`${signal}: draining`)
  const hurry = () => process.exit(1)
  process.once('SIGTERM', hurry)
  process.once('SIGINT', hurry)
  await Promise.all(admins.map((l) => l.close()))
  await gw.close()
  log('stopped')
  return 0
}

function refuseUpgrade(_req: IncomingMessage, socket: Duplex): void {
  socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
}
