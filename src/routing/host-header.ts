const COLON = 0x3a
const LBRACKET = 0x5b

/**
 * Extracts the host name from a `Host` header (or `:authority`) for domain matching.
 *
 * @remarks
 * Strips the port, lower-cases, and keeps the brackets of an IPv6 literal (`[::1]:8080` gives
 * `[::1]`, like `URL.hostname`). Returns `undefined` for a malformed value: missing or empty,
 * an empty host (`:80`), whitespace, control or non-ASCII characters, any character that is not
 * allowed in an RFC 3986 host (`/`, `\`, `?`, `#`, `@`, brackets outside an IPv6 literal, ...),
 * a bare IPv6 address without brackets, unbalanced brackets, an IPv6 literal without `:` or with
 * other characters than hex digits, `:` and `.`, or a port that is not up to 5 digits and at
 * most 65535 (an empty port after `:` is allowed, as RFC 3986 does).
 *
 * @param hostHeader - the raw header value
 * @returns the normalized host, or `undefined` when the header is malformed
 */
export function hostFromHeader(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader.length === 0) return undefined
  const len = hostHeader.length
  let hostEnd: number
  if (hostHeader.charCodeAt(0) === LBRACKET) {
    const close = hostHeader.indexOf(']')
    if (close < 2) return undefined
    let colons = 0
    for (let i = 1; i < close; i++) {
      const c = hostHeader.charCodeAt(i)
      if (c === COLON) colons++
      else if (!isIpv6Char(c)) return undefined
    }
    if (colons === 0) return undefined
    hostEnd = close + 1
    if (hostEnd < len && hostHeader.charCodeAt(hostEnd) !== COLON) return undefined
  } else {
    hostEnd = len
    for (let i = 0; i < len; i++) {
      const c = hostHeader.charCodeAt(i)
      if (c === COLON) {
        hostEnd = i
        break
      }
      if (!isRegNameChar(c)) return undefined
    }
    if (hostEnd === 0) return undefined
  }
  if (hostEnd < len && !isPort(hostHeader, hostEnd + 1)) return undefined
  const host = hostEnd === len ? hostHeader : hostHeader.slice(0, hostEnd)
  return host.toLowerCase()
}

function isPort(s: string, from: number): boolean {
  const digits = s.length - from
  if (digits > 5) return false
  let n = 0
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
    n = n * 10 + (c - 0x30)
  }
  return n <= 65535
}

function isIpv6Char(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2e
}

/** RFC 3986 reg-name characters (unreserved, sub-delims, `%`); ASCII only. */
function isRegNameChar(c: number): boolean {
  if (c >= 0x61 && c <= 0x7a) return true // a-z
  if (c >= 0x41 && c <= 0x5a) return true // A-Z
  if (c >= 0x30 && c <= 0x39) return true // 0-9
  switch (c) {
    case 0x2d: // -
    case 0x2e: // .
    case 0x5f: // _
    case 0x7e: // ~
    case 0x25: // %
    case 0x21: // !
    case 0x24: // $
    case 0x26: // &
    case 0x27: // '
    case 0x28: // (
    case 0x29: // )
    case 0x2a: // *
    case 0x2b: // +
    case 0x2c: // ,
    case 0x3b: // ;
    case 0x3d: // =
      return true
    default:
      return false
  }
}
