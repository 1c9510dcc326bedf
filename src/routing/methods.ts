import { PatternError } from './errors.js'

/** The methods a route's `*` stands for, in the order `Allow` lists them. */
export const STANDARD_METHODS: readonly string[] = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
])

const METHOD_TOKEN = /^[A-Z][A-Z0-9_-]*$/

/**
 * Checks a route's method list and expands `*` to {@link STANDARD_METHODS}.
 *
 * @param pattern - the route's path pattern, for error messages
 * @param methods - `['*']` or upper-case method names (duplicates are ignored)
 * @returns the distinct methods
 * @throws {@link PatternError} for an empty list, `*` mixed with other methods, or a method that
 * is not an upper-case token (`get` is refused, as DGate does)
 */
export function expandMethods(pattern: string, methods: readonly string[]): readonly string[] {
  if (methods.length === 0) throw new PatternError(pattern, 'no methods')
  if (methods.includes('*')) {
    if (methods.some((m) => m !== '*')) throw new PatternError(pattern, '"*" cannot be combined with other methods')
    return STANDARD_METHODS
  }
  for (const m of methods) {
    if (!METHOD_TOKEN.test(m)) throw new PatternError(pattern, `invalid method ${JSON.stringify(m)}`)
  }
  return [...new Set(methods)]
}

const RANK = new Map(STANDARD_METHODS.map((m, i) => [m, i]))

/**
 * Sorts methods for an `Allow` header: standard methods in {@link STANDARD_METHODS} order, then
 * the others alphabetically.
 *
 * @param methods - distinct method names
 * @returns a new sorted array
 */
export function sortMethods(methods: Iterable<string>): string[] {
  return [...methods].sort((a, b) => {
    const ra = RANK.get(a) ?? STANDARD_METHODS.length
    const rb = RANK.get(b) ?? STANDARD_METHODS.length
    return ra - rb || (a < b ? -1 : a > b ? 1 : 0)
  })
}
