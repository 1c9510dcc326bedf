import { PatternError } from './errors.js'

/** A compiled domain pattern: true when the (lower-cased, port-free) host matches. */
export type HostMatcher = (host: string) => boolean

const matchAny: HostMatcher = () => true

/**
 * Compiles one of DGate's domain patterns into a matcher.
 *
 * @remarks
 * Runs of `**` first collapse to `*`. Then:
 * - `*` matches every host (the empty one too);
 * - `*x*` matches hosts containing `x`, `*x` hosts ending with `x`, `x*` hosts starting with `x`;
 * - `/re/` is a regular expression that must match the whole host (we anchor it, DGate doesn't);
 * - anything else is an exact comparison (a `*` in the middle, as in `a*b`, is literal).
 *
 * Matching is case-insensitive: literals are lower-cased here and regular expressions get the
 * `i` flag, so pass hosts through {@link hostFromHeader} first.
 *
 * @param pattern - the domain pattern
 * @returns the matcher
 * @throws {@link PatternError} for an empty pattern or regular expression, or an invalid regular expression
 */
export function compileHostPattern(pattern: string): HostMatcher {
  if (pattern.length === 0) throw new PatternError(pattern, 'empty pattern')
  const p = pattern.replace(/\*{2,}/g, '*')
  if (p === '*') return matchAny
  const lead = p.startsWith('*')
  const trail = p.endsWith('*')
  if (lead && trail) {
    const needle = p.slice(1, -1).toLowerCase()
    return (host) => host.includes(needle)
  }
  if (lead) {
    const suffix = p.slice(1).toLowerCase()
    return (host) => host.endsWith(suffix)
  }
  if (trail) {
    const prefix = p.slice(0, -1).toLowerCase()
    return (host) => host.startsWith(prefix)
  }
  if (p.length >= 2 && p.startsWith('/') && p.endsWith('/')) return compileRegex(pattern, p.slice(1, -1))
  const exact = p.toLowerCase()
  return (host) => host === exact
}

function compileRegex(pattern: string, source: string): HostMatcher {
  if (source.length === 0) throw new PatternError(pattern, 'empty regular expression')
  let re: RegExp
  try {
    re = new RegExp(`^(?:${source})$`, 'i')
  } catch (err) {
    throw new PatternError(pattern, `invalid regular expression: ${(err as Error).message}`)
  }
  return (host) => re.test(host)
}

export { hostFromHeader } from './host-header.js'
