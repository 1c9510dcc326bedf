import type { ServerResponse } from 'node:http'

/** Writes one of our own JSON error answers, `{ "error": "…" }`, unless the response has already started. */
export function sendError(res: ServerResponse, status: number, message: string, extra?: readonly string[]): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: message, status })
  const headers = ['content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'x-content-type-options', 'nosniff']
  if (extra) headers.push(...extra)
  res.writeHead(status, headers)
  res.end(body)
}
