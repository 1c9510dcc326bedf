// @fastify/http-proxy on fastify 5 with its defaults: @fastify/reply-from over an undici Pool (keep-alive,
// 128 connections), bodies passed through as streams by its catch-all content-type parser. No logger.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

export async function startFastifyProxy(upstream: string): Promise<number> {
  const app = Fastify({ logger: false })
  await app.register(proxy, { upstream })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return typeof address === 'object' && address ? address.port : 0
}
