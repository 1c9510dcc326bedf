import type * as NodeCrypto from 'node:crypto'
import type { KernelEnv } from './env.js'

/** The Node facilities the native operations need, passed in so the function stays self-contained. */
export interface NativeOpsDeps {
  crypto: typeof NodeCrypto
  Buffer: typeof Buffer
  URL: typeof URL
  TextDecoder: typeof TextDecoder
}

/**
 * The synchronous operations the kernel asks its runtime for (`env.crypto`, `env.url`, `env.utf8*`), implemented with
 * Node. They run OUTSIDE the sandbox: in the host realm for the realm and native runtimes, in the worker's main realm
 * for the worker runtime (hence self-contained: serialized into the worker). Arguments and results are primitives
 * and Uint8Arrays; errors are plain messages, re-created by the kernel.
 *
 * Algorithm names are DGate's (`md5`, `sha1`, `sha256`, `sha384`, `sha512`, `sha512_224`, `sha512_256`; the hyphenated
 * forms are accepted too), and so are the digest encodings (`hex`, `base64`/`b64`, `base64raw`/`b64raw`,
 * `base64url`/`b64url`, `base64rawurl`/`b64rawurl`; anything else returns bytes).
 */
export function makeNativeOps(deps: NativeOpsDeps): Pick<KernelEnv, 'crypto' | 'url' | 'utf8Encode' | 'utf8Decode'> {
  const { crypto, Buffer, URL, TextDecoder } = deps
  const ALGORITHMS: Record<string, string> = {
    md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sha512_224: 'sha512-224', sha512_256: 'sha512-256',
    'sha512-224': 'sha512-224', 'sha512-256': 'sha512-256', 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512',
  }
  const MAX_RANDOM_BYTES = 65536
  function algorithm(name: unknown): string {
    const alg = ALGORITHMS[String(name).toLowerCase()]
    if (!alg) throw new Error(`unsupported hash algorithm: ${String(name)}`)
    return alg
  }
  function encode(digest: Buffer, encoding: string): string | Uint8Array {
    switch (encoding) {
      case 'hex':
        return digest.toString('hex')
      case 'base64':
      case 'b64':
        return digest.toString('base64')
      case 'base64raw':
      case 'b64raw':
        return digest.toString('base64').replace(/=+$/, '')
      case 'base64url':
      case 'b64url': {
        const raw = digest.toString('base64url')
        return raw + '='.repeat((4 - (raw.length % 4)) % 4)
      }
      case 'base64rawurl':
      case 'b64rawurl':
        return digest.toString('base64url')
      default:
        return new Uint8Array(digest)
    }
  }
  function cryptoOp(op: string, argsJson: string, a?: Uint8Array, b?: Uint8Array): string | Uint8Array {
    const args = JSON.parse(argsJson) as Record<string, unknown>
    switch (op) {
      case 'check':
        algorithm(args.alg)
        return ''
      case 'hash':
        return encode(crypto.createHash(algorithm(args.alg)).update(a ?? new Uint8Array(0)).digest(), String(args.enc ?? ''))
      case 'hmac':
        return encode(crypto.createHmac(algorithm(args.alg), a ?? new Uint8Array(0)).update(b ?? new Uint8Array(0)).digest(), String(args.enc ?? ''))
      case 'randomBytes': {
        const size = Number(args.size)
        if (!Number.isInteger(size) || size < 1 || size > MAX_RANDOM_BYTES) throw new Error(`randomBytes: size must be an integer from 1 to ${MAX_RANDOM_BYTES}`)
        return new Uint8Array(crypto.randomBytes(size))
      }
      case 'randomInt': {
        const min = Number(args.min)
        const max = Number(args.max)
        if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min >= max) throw new Error('randomInt: expected integers with min < max')
        if (max - min > 2 ** 48 - 1) throw new Error('randomInt: the range must be below 2^48')
        return String(crypto.randomInt(min, max))
      }
      case 'randomUUID':
        return crypto.randomUUID()
      case 'getHashes':
        return JSON.stringify(['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'sha512_224', 'sha512_256'])
      default:
        throw new Error(`unknown crypto operation: ${op}`)
    }
  }
  function url(input: string, base: string, prop: string, value: string): string {
    let u: URL
    try {
      u = base === '' ? new URL(input) : new URL(input, base)
    } catch {
      return ''
    }
    if (prop !== '') {
      const settable = ['protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash']
      if (!settable.includes(prop)) return ''
      ;(u as unknown as Record<string, string>)[prop] = value
    }
    return JSON.stringify({
      href: u.href, origin: u.origin, protocol: u.protocol, username: u.username, password: u.password, host: u.host,
      hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash,
    })
  }
  const lenient = new TextDecoder('utf-8')
  const lenientKeepBom = new TextDecoder('utf-8', { ignoreBOM: true })
  const strict = new TextDecoder('utf-8', { fatal: true })
  const strictKeepBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  return {
    crypto: cryptoOp,
    url,
    utf8Encode: (text: string) => {
      const buf = Buffer.from(String(text), 'utf8')
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    },
    utf8Decode: (bytes: Uint8Array, fatal: boolean, ignoreBom: boolean) => (fatal ? (ignoreBom ? strictKeepBom : strict) : ignoreBom ? lenientKeepBom : lenient).decode(bytes),
  }
}
