// The gateway under test: one service, one catch-all route, gw.handler as a plain http.Server listener.
// This file is its own bundle (built at run time by main.ts), so a source tree in the middle of a change breaks
// only this target. It announces `unavailable` instead of failing while gw.handler does not exist yet.
import http from 'node:http'
import { announce, argValue, serveParent } from '../../lib/children.js'
import { createGateway } from '../../../src/index.js'
import { listen } from '../upstream.js'

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, next?: () => void) => void

const upstream = argValue('upstream')
if (!upstream) throw new Error('dgate target: --upstream is required')
serveParent()
const gw = await createGateway()
const handler = (gw as unknown as { handler?: Handler }).handler
if (typeof handler !== 'function') {
  announce({ type: 'unavailable', reason: 'gw.handler not available yet (src/gateway.ts)' })
} else {
  await gw.services.put({ name: 'up', urls: [upstream] })
  await gw.routes.put({ name: 'all', paths: ['/*'], methods: ['*'], service: 'up' })
  announce({ type: 'ready', port: await listen(http.createServer(handler)) })
}
