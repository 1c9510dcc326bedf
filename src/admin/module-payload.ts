import { HttpError } from './envelope.js'

/**
 * How a module payload on the admin API is encoded.
 * @public
 */
export type PayloadEncoding = 'base64' | 'text'

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const utf8 = new TextDecoder('utf-8', { fatal: true })
/** Text a person or compiler wrote: no control characters but tab, newline and carriage return. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true
  }
  return false
}

/**
 * The source text of a module payload. With `payloadEncoding` the caller says what it sent: `'base64'` is decoded
 * (and must be padded standard base64 of UTF-8 text), `'text'` is taken as is. Without it (DGate's clients send
 * base64, people send source), the payload is decoded only when it is non-empty padded standard base64 whose bytes
 * are UTF-8 text without control characters; anything else is taken as source text. Real source almost never
 * passes (spaces, punctuation); a payload that should stay literal can say `payloadEncoding: 'text'`.
 */
export function decodePayload(payload: unknown, encoding: unknown, name: unknown): unknown {
  const who = typeof name === 'string' && name !== '' ? `module "${name}"` : 'module'
  if (encoding !== undefined && encoding !== 'base64' && encoding !== 'text') {
    throw new HttpError(400, `${who}: payloadEncoding must be "base64" or "text"`)
  }
  if (typeof payload !== 'string' || encoding === 'text') return payload
  const decoded = fromBase64(payload)
  if (encoding === 'base64' && decoded === undefined) throw new HttpError(400, `${who}: payload must be padded standard base64 of UTF-8 text`)
  return decoded ?? payload
}

function fromBase64(payload: string): string | undefined {
  if (payload === '' || !BASE64_RE.test(payload)) return undefined
  try {
    const text = utf8.decode(Buffer.from(payload, 'base64'))
    return hasControlCharacters(text) ? undefined : text
  } catch {
    return undefined
  }
}

/** A payload as the admin API sends it back: source text by default, base64 when asked (`?payloadEncoding=base64`). */
export function encodePayload(payload: string, encoding: PayloadEncoding): string {
  return encoding === 'base64' ? Buffer.from(payload, 'utf8').toString('base64') : payload
}
