import { once } from 'node:events'
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A real HTTP server on 127.0.0.1 with an ephemeral port. */
export interface Running {
  server: Server
  port: number
  url: string
  close(): Promise<void>
}

export async function listen(handler: RequestListener, server: Server = createServer(handler)): Promise<Running> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** What the echo upstream saw. */
export interface Echo {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  body: string
}

/** An upstream that answers every request with a JSON description of it. */
export function echoUpstream(name = 'echo'): Promise<Running & { seen: Echo[] }> {
  const seen: Echo[] = []
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const echo: Echo = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() }
      seen.push(echo)
      const body = JSON.stringify({ ...echo, upstream: name })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name })
      res.end(body)
    })
  }
  return listen(handler).then((running) => Object.assign(running, { seen }))
}
