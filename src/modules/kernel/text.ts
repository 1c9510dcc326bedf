import type { KernelEnv, TextTools } from './env.js'

/**
 * Kernel part: bytes and text. Self-contained (serialized with `Function.prototype.toString` into the sandbox):
 * it may use only its parameters and the intrinsics it captures from `globalThis` when called.
 */
export function makeText(env: KernelEnv): TextTools {
  // Captured once: global lookups in a vm context go through interceptors, and the captured intrinsics are
  // the ones lockdown froze, whatever module code later does to its own globals.
  const { Uint8Array, ArrayBuffer, TypeError, RangeError, String, Object } = globalThis
  const isView = ArrayBuffer.isView

  function own(bytes: Uint8Array | undefined): Uint8Array | undefined {
    // A typed-array argument is copied element by element through internal slots: no getter of the source runs.
    return bytes === undefined ? undefined : new Uint8Array(bytes)
  }
  function encode(text: string): Uint8Array {
    return new Uint8Array(env.utf8Encode(String(text)))
  }
  function decode(bytes: Uint8Array): string {
    return env.utf8Decode(bytes, false, false)
  }
  function toBytes(data: unknown, what: string): Uint8Array {
    if (typeof data === 'string') return encode(data)
    if (data instanceof ArrayBuffer) return new Uint8Array(new Uint8Array(data))
    if (isView(data)) {
      const view = data as ArrayBufferView
      return new Uint8Array(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
    }
    throw new TypeError(`${what}: invalid type ${data === null ? 'null' : typeof data} (expected a string, ArrayBuffer or typed array)`)
  }
  function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  }
  function concat(chunks: Uint8Array[]): Uint8Array {
    let length = 0
    for (const c of chunks) length += c.byteLength
    const out = new Uint8Array(length)
    let at = 0
    for (const c of chunks) {
      out.set(c, at)
      at += c.byteLength
    }
    return out
  }

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const B64_INDEX: Record<string, number> = Object.create(null)
  for (let i = 0; i < 64; i++) B64_INDEX[B64[i]!] = i
  B64_INDEX['-'] = 62
  B64_INDEX['_'] = 63
  function base64Encode(bytes: Uint8Array): string {
    let out = ''
    let i = 0
    for (; i + 2 < bytes.length; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
      out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!
    }
    if (i < bytes.length) {
      const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8)
      out += B64[n >> 18]! + B64[(n >> 12) & 63]! + (i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=') + '='
    }
    return out
  }
  function base64Decode(text: string): Uint8Array {
    const clean = String(text).replace(/[\s=]+/g, '')
    const out = new Uint8Array((clean.length * 3) >> 2)
    let bits = 0
    let value = 0
    let at = 0
    for (let i = 0; i < clean.length; i++) {
      const v = B64_INDEX[clean[i]!]
      if (v === undefined) throw new TypeError('invalid base64 input')
      value = (value << 6) | v
      bits += 6
      if (bits >= 8) {
        bits -= 8
        out[at++] = (value >> bits) & 255
      }
    }
    return out.subarray(0, at).slice()
  }

  const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8']
  class TextEncoder {
    get encoding(): string {
      return 'utf-8'
    }
    encode(input: string = ''): Uint8Array {
      return encode(input)
    }
  }
  class TextDecoder {
    #fatal: boolean
    #ignoreBom: boolean
    constructor(label: string = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
      if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) throw new RangeError(`TextDecoder: encoding "${label}" is not supported (only utf-8)`)
      this.#fatal = !!options.fatal
      this.#ignoreBom = !!options.ignoreBOM
    }
    get encoding(): string {
      return 'utf-8'
    }
    get fatal(): boolean {
      return this.#fatal
    }
    get ignoreBOM(): boolean {
      return this.#ignoreBom
    }
    decode(input?: unknown): string {
      if (input === undefined) return ''
      if (!(input instanceof ArrayBuffer) && !isView(input)) throw new TypeError('TextDecoder.decode: expected an ArrayBuffer or a typed array')
      try {
        return env.utf8Decode(toBytes(input, 'decode'), this.#fatal, this.#ignoreBom)
      } catch {
        // Re-created here: the runtime's error object never reaches module code.
        throw new TypeError('The encoded data was not valid for encoding utf-8')
      }
    }
  }
  return { toBytes, toArrayBuffer, own, concat, encode, decode, base64Encode, base64Decode, TextEncoder, TextDecoder }
}
