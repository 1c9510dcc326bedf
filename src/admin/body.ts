import type { IncomingMessage } from 'node:http'
import { HttpError } from './envelope.js'

/**
 * Reads a JSON request body of at most `limit` bytes. A declared `Content-Length` above the limit is refused before
 * reading; a streamed body is refused as soon as it passes the limit (413, and the connection is closed). Empty or
 * malformed JSON is a 400.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new HttpError(400, 'request body is empty: send a JSON object')
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`)
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body is larger than ${limit} bytes`, { connection: 'close' })
}
