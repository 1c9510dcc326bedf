import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

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

/** A port on 127.0.0.1 that refuses connections: a server was listening there and has closed. */
export async function closedPort(): Promise<number> {
  const running = await listen(() => {})
  await running.close()
  return running.port
}

/**
 * A port on 127.0.0.1 where TCP connects hang, to provoke a connect timeout without leaving loopback: a child
 * process listens with a backlog of 1 and is stopped, and two connections fill the queue, so the kernel drops
 * further SYNs.
 */
export async function blackholePort(): Promise<{ port: number; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  const port = Number(line.toString().trim())
  child.kill('SIGSTOP')
  const fillers: Socket[] = []
  for (let i = 0; i < 2; i++) {
    const socket = connect(port, '127.0.0.1')
    fillers.push(socket)
    await once(socket, 'connect')
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    },
  }
}

/** A response read from a raw socket: the status code, the head as text and the body bytes. */
export interface RawResponse {
  status: number
  head: string
  headers: [string, string][]
  body: Buffer
}

/**
 * Writes `text` to a fresh TCP connection and reads one response (to the end of its Content-Length, or until the
 * server closes). For requests no HTTP client would send.
 */
export function rawRequest(port: number, text: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const finish = (error?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      if (end < 0) return reject(error ?? new Error(`no response head in ${JSON.stringify(all.toString('latin1'))}`))
      const head = all.subarray(0, end).toString('latin1')
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers = lines.map((l) => {
        const colon = l.indexOf(':')
        return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()] as [string, string]
      })
      resolve({ status: Number(statusLine.split(' ')[1]), head, headers, body: all.subarray(end + 4) })
    }
    const timer = setTimeout(() => finish(new Error('raw request timed out')), timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(all.subarray(0, end).toString('latin1'))
      if (length && all.length - end - 4 >= Number(length[1])) finish()
    })
    socket.on('end', () => finish())
    socket.on('error', (error) => finish(error))
    socket.write(text)
  })
}
