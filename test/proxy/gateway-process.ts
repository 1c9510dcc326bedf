/**
 * A gateway in a child process of its own, so a test can measure the gateway's memory apart from the client and
 * upstream that feed it. Run with `--expose-gc` over an IPC channel:
 * - it sends `{ port }` once listening;
 * - `{ id, route: url }` points `/*` (any method) at the upstream `url`, answered with `{ id }`;
 * - `{ id, memory: true }` collects garbage and answers `{ id, rss, arrayBuffers }`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGateway } from '../../src/index.js'

type Message = { id: number; route?: string; memory?: boolean }

const gc = (globalThis as { gc?: () => void }).gc
if (!gc || !process.send) throw new Error('run with --expose-gc and an IPC channel')
const send = process.send.bind(process)
const gw = await createGateway()
const server = createServer(gw.handler).listen(0, '127.0.0.1', () => send({ port: (server.address() as AddressInfo).port }))

process.on('message', (message: Message) => {
  void (async () => {
    if (message.route !== undefined) {
      await gw.services.put({ name: 'svc', urls: [message.route] })
      await gw.routes.put({ name: 'r', paths: ['/*'], methods: ['*'], service: 'svc' })
      send({ id: message.id })
    } else if (message.memory) {
      gc()
      gc()
      const { rss, arrayBuffers } = process.memoryUsage()
      send({ id: message.id, rss, arrayBuffers })
    }
  })()
})
process.on('disconnect', () => process.exit(0))
