import type { IncomingMessage } from 'node:http'
import { HttpError } from './envelope.js'

/** The entity tag of a resource version, as GET-by-name sends it in `ETag`. */
export function etag(version: number): string {
  return `"${version}"`
}

/**
 * The version an `If-Match` header asks for, or undefined without one. It must name exactly one version, as a strong
 * tag (`"12"`, what `ETag` gives) or a bare number; `*`, weak tags and lists are refused with a 400 rather than
 * half-honoured.
 */
export function expectedVersion(req: IncomingMessage): number | undefined {
  const header = req.headers['if-match']
  if (header === undefined) return undefined
  const match = /^\s*"?(\d{1,15})"?\s*$/.exec(header)
  if (!match || (header.includes('"') && !/^\s*"\d+"\s*$/.test(header))) {
    throw new HttpError(400, `If-Match must be one version as sent in ETag, like "12", not ${JSON.stringify(header)}`)
  }
  return Number(match[1])
}
