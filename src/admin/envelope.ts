import type { ServerResponse } from 'node:http'
import { DGateError } from '../errors.js'

/** DGate's success envelope: `{status_code, data}`, plus `count` when `data` is a list. */
export function sendData(res: ServerResponse, status: number, data: unknown, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  const body: Record<string, unknown> = { status_code: status, data }
  if (Array.isArray(data)) body.count = data.length
  sendJson(res, status, { ...body, ...extra }, headers)
}

/** DGate's error envelope: `{error, status}`. */
export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message, status }, headers)
}

/** An empty answer (202 Accepted for deletes, as DGate answers every delete). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0' })
  res.end()
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers })
  res.end(text)
}

/** An error a handler throws to answer with a given status; the message is shown to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/**
 * The status and message an error is answered with. Only errors made on purpose (DGate errors and HttpErrors) show
 * their message; anything else is a 500 without details, so no internal text (or secret) reaches the client.
 */
export function describeError(error: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers }
  if (error instanceof DGateError) return { status: error.status, message: error.message, headers: {} }
  return { status: 500, message: 'internal error', headers: {} }
}
