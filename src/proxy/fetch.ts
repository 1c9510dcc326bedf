import { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { DataPlane } from './proxy.js'

/** Statuses whose responses carry no body (a web Response refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304])

/**
 * The web-standard face: runs a `Request` through the same data plane as `gw.handler`, with a request and a
 * response object that carry just what the pipeline reads and writes, and resolves with a streaming `Response`.
 */
export function fetchThrough(plane: DataPlane, request: Request, remoteAddress: string): Promise<Response> {
  const url = new URL(request.url)
  const req = toIncoming(request, url, remoteAddress)
  return new Promise<Response>((resolve, reject) => {
    const res = new WebResponseSink(request.method === 'HEAD', resolve, reject)
    request.signal.addEventListener('abort', () => res.clientGone(), { once: true })
    plane.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse)
  })
}

function toIncoming(request: Request, url: URL, remoteAddress: string): Readable {
  const rawHeaders: string[] = []
  const headers: IncomingHttpHeaders = {}
  request.headers.forEach((value, name) => {
    rawHeaders.push(name, value)
    headers[name] = value
  })
  if (headers.host === undefined) {
    rawHeaders.push('host', url.host)
    headers.host = url.host
  }
  if (request.body !== null && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked'
  const body = request.body === null ? Readable.from([]) : Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>)
  return Object.assign(body, {
    method: request.method,
    url: url.pathname + url.search,
    headers,
    rawHeaders,
    httpVersion: '1.1',
    socket: { remoteAddress, encrypted: url.protocol === 'https:' },
  })
}

/** The subset of `ServerResponse` the pipeline uses, writing into a web `ReadableStream`. */
class WebResponseSink extends EventEmitter {
  headersSent = false
  writableFinished = false
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  #closed = false
  readonly #head: boolean
  readonly #resolve: (response: Response) => void
  readonly #reject: (error: Error) => void

  constructor(head: boolean, resolve: (response: Response) => void, reject: (error: Error) => void) {
    super()
    this.#head = head
    this.#resolve = resolve
    this.#reject = reject
  }

  writeHead(status: number, messageOrHeaders?: string | string[], maybeHeaders?: string[]): this {
    const list = (typeof messageOrHeaders === 'string' ? maybeHeaders : messageOrHeaders) ?? []
    const headers = new Headers()
    for (let i = 0; i < list.length; i += 2) headers.append(list[i]!, list[i + 1]!)
    this.headersSent = true
    const body =
      this.#head || NULL_BODY.has(status)
        ? null
        : new ReadableStream<Uint8Array>(
            {
              start: (controller) => {
                this.#controller = controller
              },
              pull: () => {
                this.emit('drain')
              },
              cancel: () => this.clientGone(),
            },
            { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
          )
    this.#resolve(new Response(body, { status, headers }))
    return this
  }

  write(chunk: Uint8Array | string): boolean {
    const controller = this.#controller
    if (!controller || this.#closed) return true
    controller.enqueue(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    return (controller.desiredSize ?? 1) > 0
  }

  end(chunk?: Uint8Array | string): this {
    if (chunk !== undefined) this.write(chunk)
    if (!this.#closed) {
      this.#closed = true
      this.writableFinished = true
      this.#controller?.close()
      this.emit('finish')
      this.emit('close')
    }
    return this
  }

  addTrailers(): void {
    // A web Response has no trailers; they are dropped on this face.
  }

  destroy(error?: Error): this {
    if (!this.#closed) {
      this.#closed = true
      const failure = error ?? new Error('response aborted')
      if (this.headersSent) this.#controller?.error(failure)
      else this.#reject(failure)
      this.emit('close')
    }
    return this
  }

  /** The caller aborted the request or cancelled the body: the pipeline cancels the upstream request. */
  clientGone(): void {
    this.destroy(new Error('request aborted'))
  }
}
