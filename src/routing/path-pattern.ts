import { PatternError } from './errors.js'

/** Literal text inside a path segment, percent-encoded the way it appears in request paths. */
export interface StaticPart {
  readonly kind: 'static'
  readonly text: string
}

/** A `{name}` or `{name:regex}` parameter inside a path segment. */
export interface ParamPart {
  readonly kind: 'param'
  readonly name: string
  /** The regular expression as written, or `undefined` for a plain parameter. */
  readonly source: string | undefined
  /** The anchored regular expression, or `undefined` for a plain parameter. */
  readonly regex: RegExp | undefined
}

/** One `/`-separated piece of a path pattern. */
export type PathSegment =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'dynamic'; readonly parts: readonly (StaticPart | ParamPart)[] }
  | { readonly kind: 'catch-all' }

/** A validated chi path pattern. */
export interface ParsedPathPattern {
  /** The pattern as given. */
  readonly pattern: string
  /** The segments after the leading `/` (`/` alone has one empty static segment). */
  readonly segments: readonly PathSegment[]
  /** Parameter names in pattern order; `*` last when the pattern ends with a catch-all. */
  readonly paramNames: readonly string[]
}

const PARAM_NAME = /^[A-Za-z0-9_.-]+$/

/**
 * Parses and validates a chi route pattern.
 *
 * @remarks
 * - Must start with `/`; segments are separated by `/`; a trailing `/` is significant.
 * - `{name}` matches a non-empty run of characters inside one segment; `{name:regex}` must
 *   also match `regex`, anchored to the whole value. Braces nest inside the regex as in chi,
 *   so `{code:[0-9]{3}}` works.
 * - A segment may hold several parameters separated by literal text: `/{a}-{b}`, `/{name}.{ext}`.
 * - `*` is allowed only as the whole last segment (`/files/*`); its value is the rest of the path.
 * - Parameter names are made of `A-Z a-z 0-9 _ . -`, are unique, and `__proto__` is reserved.
 * - Literal text is compared with the raw request path, so characters that clients must
 *   percent-encode (spaces, non-ASCII...) are encoded here (`/café` matches `/caf%C3%A9`).
 *
 * @param pattern - the route path pattern
 * @returns the parsed pattern
 * @throws {@link PatternError} with a precise reason, such as `must start with "/"`,
 * `unclosed "{" at 5`, `"*" is only allowed at the end` or `duplicate parameter "id"`
 */
export function parsePathPattern(pattern: string): ParsedPathPattern {
  if (!pattern.startsWith('/')) throw new PatternError(pattern, 'must start with "/"')
  const fail: (reason: string) => never = (reason) => {
    throw new PatternError(pattern, reason)
  }
  const segments: PathSegment[] = []
  const paramNames: string[] = []
  let parts: (StaticPart | ParamPart)[] = []
  let text = ''
  let i = 1
  const endSegment = () => {
    if (text.length > 0 || parts.length === 0) parts.push({ kind: 'static', text: encodeLiteral(text) })
    text = ''
    const first = parts[0]
    if (parts.length === 1 && first?.kind === 'static') segments.push({ kind: 'static', text: first.text })
    else segments.push({ kind: 'dynamic', parts })
    parts = []
  }

  while (i < pattern.length) {
    const c = pattern[i]
    if (c === '/') {
      endSegment()
      i++
    } else if (c === '*') {
      if (i !== pattern.length - 1) fail('"*" is only allowed at the end')
      if (pattern[i - 1] !== '/') fail(`"*" must be a whole segment, as in "/files/*" (at ${i})`)
      segments.push({ kind: 'catch-all' })
      paramNames.push('*')
      return { pattern, segments, paramNames }
    } else if (c === '}') {
      fail(`unmatched "}" at ${i}`)
    } else if (c === '{') {
      const close = findClosingBrace(pattern, i)
      if (close < 0) fail(`unclosed "{" at ${i}`)
      if (text.length === 0 && parts[parts.length - 1]?.kind === 'param') {
        fail(`parameter at ${i} must be separated from the previous one by literal text`)
      }
      if (text.length > 0) parts.push({ kind: 'static', text: encodeLiteral(text) })
      text = ''
      const param = parseParam(pattern.slice(i + 1, close), i, fail)
      if (paramNames.includes(param.name)) fail(`duplicate parameter "${param.name}"`)
      paramNames.push(param.name)
      parts.push(param)
      i = close + 1
    } else {
      text += c
      i++
    }
  }
  endSegment()
  return { pattern, segments, paramNames }
}

/** Index of the `}` closing the `{` at `open`, counting nested braces as chi does; -1 if none. */
function findClosingBrace(pattern: string, open: number): number {
  let depth = 0
  for (let j = open; j < pattern.length; j++) {
    const c = pattern[j]
    if (c === '{') depth++
    else if (c === '}' && --depth === 0) return j
  }
  return -1
}

function parseParam(body: string, at: number, fail: (reason: string) => never): ParamPart {
  const colon = body.indexOf(':')
  const name = colon < 0 ? body : body.slice(0, colon)
  if (name.length === 0) fail(`empty parameter name at ${at}`)
  if (!PARAM_NAME.test(name)) fail(`invalid parameter name "${name}" at ${at}`)
  if (name === '__proto__') fail(`reserved parameter name "${name}" at ${at}`)
  if (colon < 0) return { kind: 'param', name, source: undefined, regex: undefined }
  const source = body.slice(colon + 1)
  if (source.length === 0) fail(`empty regular expression for "${name}" at ${at}`)
  let regex: RegExp | undefined
  try {
    regex = new RegExp(`^(?:${source})$`)
  } catch (err) {
    fail(`invalid regular expression for "${name}": ${(err as Error).message}`)
  }
  return { kind: 'param', name, source, regex }
}

/**
 * Percent-encodes what a client would have to encode in a path, leaving valid `%XX` escapes,
 * unreserved characters, sub-delimiters, `:` and `@` as written.
 */
function encodeLiteral(text: string): string {
  if (/^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/.test(text)) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (/[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(c)) out += c
    else if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) out += c
    else {
      const code = text.codePointAt(i) as number
      const char = String.fromCodePoint(code)
      out += code >= 0xd800 && code <= 0xdfff ? '%EF%BF%BD' : encodeURIComponent(char)
      i += char.length - 1
    }
  }
  return out
}
